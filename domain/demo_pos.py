"""The demo chain's tills and a week of SYNTHETIC AlipayHK and Octopus settlements.

Nothing here came from AlipayHK or Octopus: the settlement files are generated
from the demo's own till sales, in the layouts ``domain.reconciliation.formats``
reads, with a few planted mismatches so the reconciliation screens have
something to explain:

- AlipayHK: one payment settled 1.00 more than rung up (AMOUNT_MISMATCH), one
  never settled (MISSING_IN_SETTLEMENT), one row repeated (DUPLICATE), one
  transaction no till knows (MISSING_IN_POS).
- Octopus: one payment never settled, one amount off by 0.50, one reader's
  payment no till knows.
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from domain import demo_data as dd
from domain.pos import devices, sync
from domain.pos.tenders import Tender, TenderMethod
from domain.reconciliation import service as reconciliation

SEED = 1107
DAYS = 7
SALES_PER_STORE_DAY = 4
ALIPAY_FEE = Decimal("0.009")
OCTOPUS_FEE = Decimal("0.007")
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class DemoTender:
    method: TenderMethod
    amount: Decimal
    occurred_at: datetime
    reference: str | None
    reader: str | None


def _fee(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(CENT)


def _stamp(when: datetime, pattern: str) -> str:
    return when.astimezone(dd.HKT).strftime(pattern)


def alipayhk_file(tenders: Sequence[DemoTender]) -> bytes:
    """An AlipayHK settlement CSV for the week, with the planted mismatches."""
    paid = [t for t in tenders if t.method is TenderMethod.ALIPAYHK]
    out = [
        "Partner_transaction_id,Transaction_id,Amount,Fee,Settlement,Currency,Payment_time,"
        "Settlement_time,Type,Status,Remarks,original_partner_transaction_ID"
    ]

    def row(ref: str, amount: Decimal, when: datetime) -> str:
        fee = _fee(amount, ALIPAY_FEE)
        settled = when + timedelta(days=1)
        return (
            f"{ref},2088{zlib.crc32(ref.encode()):012d},{amount},{fee},{amount - fee},HKD,"
            f"{_stamp(when, '%m/%d/%Y %H:%M:%S')},{_stamp(settled, '%m/%d/%Y 02:00:00')},"
            "PAYMENT,SUCCESS,,"
        )

    for i, t in enumerate(paid):
        assert t.reference is not None
        if i == 1:
            continue  # never settled
        amount = t.amount + 1 if i == 0 else t.amount
        out.append(row(t.reference, amount, t.occurred_at))
        if i == 2:
            out.append(row(t.reference, amount, t.occurred_at))  # the file repeats it
    if paid:
        out.append(row("HKAP-UNKNOWN-0001", Decimal("88.00"), paid[-1].occurred_at))
    return ("\n".join(out) + "\n").encode()


def octopus_file(tenders: Sequence[DemoTender]) -> bytes:
    """stockgraph's Octopus CSV for the week, with the planted mismatches."""
    paid = [t for t in tenders if t.method is TenderMethod.OCTOPUS]
    out = ["reader_id,transaction_time,amount,octopus_reference,type,settlement_date,fee"]
    # only a referenced payment can be told apart as settled for a different amount
    off = next((i for i, t in enumerate(paid) if i > 0 and t.reference is not None), None)
    for i, t in enumerate(paid):
        if i == 0:
            continue  # never settled
        amount = t.amount - Decimal("0.50") if i == off else t.amount
        settled = (t.occurred_at.astimezone(dd.HKT) + timedelta(days=1)).date()
        out.append(
            f"{t.reader},{_stamp(t.occurred_at, '%Y-%m-%d %H:%M:%S')},{amount},"
            f"{t.reference or ''},PAYMENT,{settled},{_fee(amount, OCTOPUS_FEE)}"
        )
    if paid:
        last = paid[-1].occurred_at + timedelta(minutes=30)
        out.append(
            f"OCT-RDR-999,{_stamp(last, '%Y-%m-%d %H:%M:%S')},23.00,,PAYMENT,"
            f"{(last.astimezone(dd.HKT) + timedelta(days=1)).date()},0.16"
        )
    return ("\n".join(out) + "\n").encode()


async def load_pos(
    session: AsyncSession,
    system: Caller,
    location_id: dict[str, int],
    products: Sequence[dd.DemoProduct],
    today: date,
) -> dict[str, Any]:
    """One till per Hong Kong store, a week of its sales, and both settlements imported."""
    rng = random.Random(SEED)
    stock = list(products[:40])
    tenders: list[DemoTender] = []
    synced = 0
    for store in (s for s in dd.STORES if s.region == "HK"):
        registered = await devices.register_device(
            session, system, devices.RegisterDevice(location_id[store.code], "Till 1")
        )
        reader = f"OCT-RDR-{store.code}"
        batch = []
        for day in range(DAYS, 0, -1):
            opening = datetime.combine(today - timedelta(days=day), time(10, 0), dd.HKT)
            for n in range(SALES_PER_STORE_DAY):
                product = rng.choice(stock)
                quantity = rng.randint(1, 2)
                amount = product.price_hkd * quantity
                when = opening + timedelta(minutes=rng.randint(0, 660))
                method = TenderMethod.ALIPAYHK if n % 2 == 0 else TenderMethod.OCTOPUS
                reference = (
                    f"HKAP{when:%Y%m%d}{store.code}{n:02d}"
                    if method is TenderMethod.ALIPAYHK
                    else (f"OCT{when:%m%d}{store.code}{n:02d}" if n % 4 == 1 else None)
                )
                tender = DemoTender(
                    method,
                    amount,
                    when,
                    reference,
                    reader if method is TenderMethod.OCTOPUS else None,
                )
                tenders.append(tender)
                batch.append(
                    sync.SyncSale(
                        client_sale_id=str(uuid.UUID(int=rng.getrandbits(128))),
                        occurred_at=when,
                        lines=(
                            sync.SyncLine(quantity, sku=product.sku, unit_price=product.price_hkd),
                        ),
                        tenders=(Tender(method, amount, reference, tender.reader),),
                    )
                )
        result = await sync.sync_sales(
            session, system, sync.SyncSales(device_id=registered.device.id, sales=tuple(batch))
        )
        synced += sum(1 for o in result.outcomes if o.status == "ACCEPTED")
    tenders.sort(key=lambda t: t.occurred_at)
    runs = {}
    for fmt, content in (("ALIPAYHK", alipayhk_file(tenders)), ("OCTOPUS", octopus_file(tenders))):
        imported = await reconciliation.import_settlement(
            session,
            system,
            reconciliation.ImportSettlement(
                format=fmt, file_name=f"demo-{fmt.lower()}-week-synthetic.csv", content=content
            ),
        )
        runs[fmt] = imported.run.summary["counts"]
    return {"pos_sales": synced, "settlements": runs}
