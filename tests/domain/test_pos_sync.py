"""syncSales in the domain, under concurrency: overlapping batches in opposite orders from
several tills at one location, all at once, end with every sale once and no deadlock."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from auth.caller import Caller
from auth.permissions import parse_scopes
from domain.pos import devices, sync
from domain.pos.tenders import Tender, TenderMethod
from tests.helpers import count_rows, ledger_mismatches

PRICES = {"A": Decimal("10.00"), "B": Decimal("20.00"), "C": Decimal("5.50")}


def _sale(rng: random.Random, n: int) -> sync.SyncSale:
    sku = rng.choice(sorted(PRICES))
    quantity = rng.randint(1, 3)
    return sync.SyncSale(
        client_sale_id=str(uuid.UUID(int=rng.getrandbits(128))),
        occurred_at=datetime.now(UTC) - timedelta(minutes=n),
        lines=(sync.SyncLine(quantity, sku=sku, unit_price=PRICES[sku]),),
        tenders=(Tender(TenderMethod.CARD, PRICES[sku] * quantity, f"CARD-{n}", "T1"),),
    )


async def test_overlapping_batches_at_once(db, tenant):
    rng = random.Random(7)
    async with db.tenant_transaction(tenant.tenant_id) as session:
        tills = [
            await devices.register_device(
                session,
                tenant.owner,
                devices.RegisterDevice(tenant.locations["S1"], f"Till {i}"),
            )
            for i in range(4)
        ]
    sales = [_sale(rng, n) for n in range(120)]
    batches = []
    for i, till in enumerate(tills):
        caller = Caller.for_app(
            tenant.tenant_id,
            till.client_id,
            parse_scopes("stock:write"),
            frozenset({tenant.locations["S1"]}),
        )
        for k in range(3):
            mine = list(sales)
            random.Random(i * 10 + k).shuffle(mine)
            batches.append((caller, till.device.id, mine[:80]))

    slots = asyncio.Semaphore(4)  # the database is shared: at most 4 connections at once

    async def send(caller: Caller, device_id: int, batch: list[sync.SyncSale]) -> list[str]:
        async with slots, db.tenant_transaction(tenant.tenant_id) as session:
            result = await sync.sync_sales(
                session, caller, sync.SyncSales(device_id=device_id, sales=tuple(batch))
            )
        return [o.status for o in result.outcomes]

    answers = await asyncio.gather(*(send(*b) for b in batches))
    statuses = [s for a in answers for s in a]
    accepted = statuses.count("ACCEPTED")
    assert "REJECTED" not in statuses
    assert accepted == await count_rows(db, "pos_sales", tenant.tenant_id)
    assert accepted == len({s.client_sale_id for b in batches for s in b[2]})
    assert await count_rows(db, "pos_tenders", tenant.tenant_id) == accepted
    assert await count_rows(db, "sales", tenant.tenant_id) == accepted
    assert await ledger_mismatches(db, tenant.tenant_id) == []
