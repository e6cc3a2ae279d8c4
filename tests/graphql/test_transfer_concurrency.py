"""Opposite transfers (S1 → S2 and S2 → S1, same SKUs) shipped and received at once.

The domain is called directly, one transaction per operation and no retry, so a
deadlock (or a serialization failure) would surface here as an exception.
"""

from __future__ import annotations

import asyncio

from auth.caller import Caller
from domain.approvals.service import Decision
from domain.stock import service as stock
from domain.transfers import service
from domain.transfers.records import TransferOutcome
from tests.helpers import assert_conserved, on_hand

SKUS = ("A", "B", "C")
PAIRS = 12


async def _run(tenant, caller: Caller, fn, cmd, *args) -> TransferOutcome:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        return await fn(session, caller, cmd, *args)


async def _approved(tenant, owner: Caller, src: str, dst: str, order: tuple[str, ...]) -> int:
    cmd = service.CreateTransfer(
        from_location_id=tenant.locations[src],
        to_location_id=tenant.locations[dst],
        lines=tuple(service.Line(sku, 3) for sku in order),
        submit=True,
    )
    created = await _run(tenant, owner, service.create_transfer, cmd)
    ref = service.TransitionTransfer(id=created.transfer.id)
    await _run(tenant, owner, service.decide_transfer, ref, Decision.APPROVE)
    return created.transfer.id


async def test_opposite_transfers_never_deadlock_and_conserve_units(tenant):
    owner = tenant.owner
    for loc in ("S1", "S2"):
        async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
            await stock.receive_stock(
                session,
                owner,
                stock.ReceiveStock(
                    tenant.locations[loc],
                    tuple(stock.ReceiptLine(sku, 500) for sku in SKUS),
                ),
            )
    batches = []
    for _ in range(2):
        ids = []
        for _ in range(PAIRS):
            ids.append(await _approved(tenant, owner, "S1", "S2", SKUS))
            ids.append(await _approved(tenant, owner, "S2", "S1", tuple(reversed(SKUS))))
        batches.append(ids)

    def ship(tid: int):
        return _run(tenant, owner, service.ship_transfer, service.ShipTransfer(tid))

    def receive(tid: int, order: tuple[str, ...] = SKUS):
        lines = tuple(service.ReceiveLine(sku, 3) for sku in order)
        return _run(tenant, owner, service.receive_transfer, service.ReceiveTransfer(tid, lines))

    first, second = batches
    shipped = await asyncio.gather(*(ship(t) for t in first))
    assert {o.transfer.status for o in shipped} == {"IN_TRANSIT"}
    await assert_conserved(tenant.db, tenant.tenant_id)
    # receipts of the first batch race the shipments of the second, in both directions
    mixed = await asyncio.gather(
        *(receive(t, SKUS if i % 2 else tuple(reversed(SKUS))) for i, t in enumerate(first)),
        *(ship(t) for t in second),
    )
    assert [o.transfer.status for o in mixed] == ["RECEIVED"] * len(first) + ["IN_TRANSIT"] * len(
        second
    )
    await assert_conserved(tenant.db, tenant.tenant_id)
    received = await asyncio.gather(*(receive(t) for t in second))
    assert {o.transfer.status for o in received} == {"RECEIVED"}
    for loc in ("S1", "S2"):
        for sku in SKUS:
            assert (
                await on_hand(
                    tenant.db, tenant.tenant_id, tenant.locations[loc], tenant.products[sku]
                )
                == 500
            )
    await assert_conserved(tenant.db, tenant.tenant_id)
