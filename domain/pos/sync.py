"""``syncSales``: a till's offline queue, applied exactly once per (tenant, client sale ID).

**Exactly once.** Each sale first claims its client sale ID with an
``INSERT … ON CONFLICT DO NOTHING`` into ``pos_sales`` (unique per tenant). A
replay finds the claim and answers DUPLICATE with the original sale. A
concurrent replay of an uncommitted claim waits on the unique index until the
first transaction ends: it then sees the claim (DUPLICATE) or, if that batch
was cut off and rolled back, claims the sale itself. Nothing of a batch is
visible until its one commit, so a batch cut off halfway leaves nothing.

**One bad sale never fails the others.** Every sale runs in a savepoint; a
refusal rolls back that sale alone and answers REJECTED with its code.

**No deadlock between batches.** Before any sale, the batch locks every stock
level it may move, in the ledger's (location, product) order, and only then
takes the tenant counter (inside ``ledger.post``). Every writer thus locks
levels → counter, so two batches that share a level queue instead of
deadlocking.

**Late sales and posted stocktakes.** A sale dated before a posted count's
time was already gone from the shelf when it was counted: the count's loss
included it. The sale still moves stock (the ledger stays the sum of
movements) and a compensating STOCKTAKE movement, referencing the stocktake,
gives back the part of the recorded loss the sale explains, so on hand
returns to what the count said plus what happened after it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import PosTender, Product
from domain import ids
from domain.audit.service import AuditEntry
from domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from domain.pos.devices import usable_device
from domain.pos.tenders import Tender, check_tenders
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from domain.stock.service import Payment, RecordSale, SaleLine, record_sale
from domain.stocktakes.service import reference as stocktake_reference

MAX_SALES = 500
MAX_LINES = 200
MAX_FUTURE = timedelta(hours=24)
LATE_SALE_REASON = "LATE_SALE"


@dataclass(frozen=True, slots=True)
class SyncLine:
    quantity: int
    sku: str | None = None
    barcode: str | None = None
    unit_price: Decimal | None = None
    discount: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class SyncSale:
    client_sale_id: str
    occurred_at: datetime
    lines: tuple[SyncLine, ...]
    tenders: tuple[Tender, ...]
    member_id: int | None = None
    receipt_number: str | None = None
    location_id: int | None = None


@dataclass(frozen=True, slots=True)
class SyncSales:
    device_id: int | None
    sales: tuple[SyncSale, ...]


@dataclass(slots=True)
class SaleOutcome:
    client_sale_id: str
    status: str  # ACCEPTED | DUPLICATE | REJECTED
    sale: Any = None  # the sales row
    errors: list[DomainError] = field(default_factory=list)


@dataclass(slots=True)
class SyncResult:
    device: Any
    outcomes: list[SaleOutcome]


def client_id_of(value: str, path: list[str]) -> str:
    """A client ID is a UUID; kept in its canonical lower-case form."""
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise InvalidInput("must be a UUID", path) from None


_ENSURE_LEVELS = text(
    """
    INSERT INTO stock_levels (tenant_id, location_id, product_id)
    SELECT :tenant, :location, p FROM unnest(CAST(:products AS bigint[])) AS p ORDER BY p
    ON CONFLICT (tenant_id, location_id, product_id) DO NOTHING
    """
)
_LOCK_LEVELS = text(
    """
    SELECT id FROM stock_levels
    WHERE tenant_id = :tenant AND location_id = :location
      AND product_id = ANY(CAST(:products AS bigint[]))
    ORDER BY location_id, product_id
    FOR UPDATE
    """
)
_CLAIM = text(
    """
    INSERT INTO pos_sales (tenant_id, client_sale_id, device_id, location_id, occurred_at,
                           total, status)
    VALUES (:t, :client, :device, :location, :occurred, 0, 'COMPLETED')
    ON CONFLICT (tenant_id, client_sale_id) DO NOTHING
    RETURNING id
    """
)
_ORIGINAL = text(
    """
    SELECT s.* FROM pos_sales p JOIN sales s ON s.tenant_id = p.tenant_id AND s.id = p.sale_id
    WHERE p.tenant_id = :t AND p.client_sale_id = :client
    """
)
_SET_TOTAL = text("UPDATE sales SET total = :total WHERE tenant_id = :t AND id = :id RETURNING *")
_SALE_ROW = text("SELECT * FROM sales WHERE tenant_id = :t AND id = :id")
_COMPLETE = text(
    "UPDATE pos_sales SET sale_id = :sale, total = :total WHERE tenant_id = :t AND id = :id"
)
_DEVICE_SEEN = text(
    """
    UPDATE pos_devices SET last_sync_at = :now,
      last_sale_at = GREATEST(last_sale_at, CAST(:last_sale AS timestamptz)),
      last_client_sale_id = CASE
        WHEN CAST(:last_sale AS timestamptz) IS NOT NULL
             AND (last_sale_at IS NULL OR CAST(:last_sale AS timestamptz) >= last_sale_at)
        THEN CAST(:last_client AS text) ELSE last_client_sale_id END
    WHERE tenant_id = :t AND id = :d
    """
)
# The latest posted count of each product, at or after the sale, and what late sales
# have already given back of its loss.
_POSTED_COUNTS = text(
    """
    SELECT DISTINCT ON (l.product_id) l.product_id, l.stocktake_id, l.variance
    FROM stocktake_lines l
    JOIN stocktakes s ON s.tenant_id = l.tenant_id AND s.id = l.stocktake_id
    WHERE l.tenant_id = :t AND l.location_id = :location AND s.status = 'POSTED'
      AND l.product_id = ANY(CAST(:products AS bigint[]))
      AND l.counted_quantity IS NOT NULL AND l.counted_at > :occurred
    ORDER BY l.product_id, l.counted_at DESC
    """
)
_GIVEN_BACK = text(
    """
    SELECT product_id, reference, SUM(delta) AS units FROM stock_movements
    WHERE tenant_id = :t AND location_id = :location AND kind = 'STOCKTAKE'
      AND reason = :reason AND reference = ANY(CAST(:refs AS text[]))
      AND product_id = ANY(CAST(:products AS bigint[]))
    GROUP BY product_id, reference
    """
)


def _validate(sale: SyncSale, path: list[str], now: datetime) -> None:
    if sale.occurred_at.tzinfo is None:
        raise InvalidInput("occurredAt needs a UTC offset", [*path, "occurredAt"])
    if sale.occurred_at > now + MAX_FUTURE:
        raise InvalidInput("occurredAt is more than a day ahead", [*path, "occurredAt"])
    if not 0 < len(sale.lines) <= MAX_LINES:
        raise InvalidInput(f"a sale has 1 to {MAX_LINES} lines", [*path, "lines"])
    for i, ln in enumerate(sale.lines):
        at = [*path, "lines", str(i)]
        if (ln.sku is None) == (ln.barcode is None):
            raise InvalidInput("give a sku or a barcode", at)
        if not 0 < ln.quantity <= 1_000_000:
            raise InvalidInput("quantity must be 1 to 1000000", [*at, "quantity"])
        for value, name in ((ln.unit_price, "unitPrice"), (ln.discount, "discount")):
            if value is not None and (
                not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01"))
            ):
                raise InvalidInput(f"{name} must be at least 0, with 2 decimals", [*at, name])
    if not sale.tenders:
        raise InvalidInput("a sale needs at least one tender", [*path, "tenders"])
    if sale.receipt_number is not None and not 0 < len(sale.receipt_number.strip()) <= 100:
        raise InvalidInput("receiptNumber must be 1 to 100 characters", [*path, "receiptNumber"])


async def _catalog(
    session: AsyncSession, caller: Caller, sales: Sequence[SyncSale]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every SKU and barcode the batch names, in two queries."""
    skus = {ln.sku for s in sales for ln in s.lines if ln.sku is not None and len(ln.sku) <= 64}
    codes = {
        ln.barcode
        for s in sales
        for ln in s.lines
        if ln.barcode is not None and len(ln.barcode) <= 32
    }
    cols = (Product.id, Product.sku, Product.barcode, Product.retail_price)
    by_sku = {
        r.sku: r
        for r in await session.execute(
            select(*cols).where(Product.tenant_id == caller.tenant_id, Product.sku.in_(skus))
        )
    }
    by_code = {
        r.barcode: r
        for r in await session.execute(
            select(*cols).where(Product.tenant_id == caller.tenant_id, Product.barcode.in_(codes))
        )
    }
    return by_sku, by_code


async def sync_sales(
    session: AsyncSession, caller: Caller, cmd: SyncSales, *, request_id: str | None = None
) -> SyncResult:
    """Apply a batch; every sale gets its own answer."""
    device = await usable_device(session, caller, cmd.device_id)
    if not 0 < len(cmd.sales) <= MAX_SALES:
        raise InvalidInput(f"a batch holds 1 to {MAX_SALES} sales", ["sales"])
    now = datetime.now(UTC)
    by_sku, by_code = await _catalog(session, caller, cmd.sales)
    products = sorted({r.id for r in by_sku.values()} | {r.id for r in by_code.values()})
    if products:
        args = {"tenant": caller.tenant_id, "location": device.location_id, "products": products}
        await session.execute(_ENSURE_LEVELS, args)
        await session.execute(_LOCK_LEVELS, args)
    outcomes: list[SaleOutcome] = []
    last: tuple[datetime, str] | None = None
    for i, sale in enumerate(cmd.sales):
        path = ["sales", str(i)]
        shown = sale.client_sale_id[:64]
        try:
            client = client_id_of(sale.client_sale_id, [*path, "clientSaleId"])
            async with session.begin_nested():
                outcome = await _one(
                    session, caller, device, sale, client, path, by_sku, by_code, now, request_id
                )
        except DomainError as error:
            outcome = SaleOutcome(client_sale_id=shown, status="REJECTED", errors=[error])
        outcomes.append(outcome)
        if outcome.status == "ACCEPTED" and (last is None or sale.occurred_at >= last[0]):
            last = (sale.occurred_at, outcome.client_sale_id)
    await session.execute(
        _DEVICE_SEEN,
        {
            "t": caller.tenant_id,
            "d": device.id,
            "now": now,
            "last_sale": last[0] if last else None,
            "last_client": last[1] if last else None,
        },
    )
    return SyncResult(device=device, outcomes=outcomes)


async def _one(
    session: AsyncSession,
    caller: Caller,
    device: Any,
    sale: SyncSale,
    client: str,
    path: list[str],
    by_sku: dict[str, Any],
    by_code: dict[str, Any],
    now: datetime,
    request_id: str | None,
) -> SaleOutcome:
    t = caller.tenant_id
    if sale.location_id is not None and sale.location_id != device.location_id:
        raise Forbidden("this device is not at that location", [*path, "locationId"])
    _validate(sale, path, now)
    claimed = (
        await session.execute(
            _CLAIM,
            {
                "t": t,
                "client": client,
                "device": device.id,
                "location": device.location_id,
                "occurred": sale.occurred_at,
            },
        )
    ).scalar_one_or_none()
    if claimed is None:
        original = (await session.execute(_ORIGINAL, {"t": t, "client": client})).first()
        return SaleOutcome(client_sale_id=client, status="DUPLICATE", sale=original)
    lines: list[SaleLine] = []
    total = Decimal("0")
    for j, ln in enumerate(sale.lines):
        product = by_sku.get(ln.sku) if ln.sku is not None else by_code.get(ln.barcode or "")
        if product is None:
            what = f"SKU {ln.sku!r}" if ln.sku is not None else f"barcode {ln.barcode!r}"
            field = "sku" if ln.sku is not None else "barcode"
            raise NotFound(f"no product with {what}", [*path, "lines", str(j), field])
        price = ln.unit_price if ln.unit_price is not None else product.retail_price
        if price is None:
            raise InvalidInput(
                "this product has no price: give unitPrice", [*path, "lines", str(j)]
            )
        amount = price * ln.quantity - ln.discount
        if amount < 0:
            raise InvalidInput("discount exceeds the line", [*path, "lines", str(j), "discount"])
        total += amount
        lines.append(SaleLine(sku=product.sku, quantity=ln.quantity, unit_price=price))
    tendered = check_tenders(sale.tenders, [*path, "tenders"])
    if tendered != total:
        raise InvalidInput(f"tenders add up to {tendered}, the sale to {total}", [*path, "tenders"])
    change = await record_sale(
        session,
        caller,
        RecordSale(
            location_id=device.location_id,
            receipt_number=(sale.receipt_number or client).strip(),
            lines=tuple(lines),
            occurred_at=sale.occurred_at,
            member_id=sale.member_id,
            payments=tuple(
                Payment(method=tn.method.value, amount=tn.amount, reference=tn.provider_reference)
                for tn in sale.tenders
            ),
        ),
        request_id=request_id,
    )
    sale_id = change.movements[0].sale_id
    assert sale_id is not None
    row = (await session.execute(_SET_TOTAL, {"t": t, "id": sale_id, "total": total})).one()
    await session.execute(_COMPLETE, {"t": t, "id": claimed, "sale": sale_id, "total": total})
    await session.execute(
        insert(PosTender),
        [
            {
                "tenant_id": t,
                "pos_sale_id": claimed,
                "position": k,
                "device_id": device.id,
                "location_id": device.location_id,
                "method": tn.method.value,
                "amount": tn.amount,
                "provider_reference": tn.provider_reference,
                "terminal_id": tn.terminal_id,
                "occurred_at": sale.occurred_at,
            }
            for k, tn in enumerate(sale.tenders)
        ],
    )
    sold: dict[int, int] = defaultdict(int)
    for m in change.movements:
        sold[m.product_id] += -m.delta
    await compensate_late_sale(
        session, caller, device.location_id, sale.occurred_at, sold, client, request_id
    )
    return SaleOutcome(client_sale_id=client, status="ACCEPTED", sale=row)


async def compensate_late_sale(
    session: AsyncSession,
    caller: Caller,
    location_id: int,
    occurred_at: datetime,
    sold: dict[int, int],
    client: str,
    request_id: str | None,
) -> None:
    """Give back the part of a posted count's loss that a sale dated before it explains."""
    t = caller.tenant_id
    args = {"t": t, "location": location_id, "products": sorted(sold), "occurred": occurred_at}
    counts = (await session.execute(_POSTED_COUNTS, args)).all()
    if not counts:
        return
    refs = {r.product_id: stocktake_reference(r.stocktake_id) for r in counts}
    given = {
        (r.product_id, r.reference): int(r.units)
        for r in await session.execute(
            _GIVEN_BACK, {**args, "reason": LATE_SALE_REASON, "refs": sorted(set(refs.values()))}
        )
    }
    postings = []
    for r in counts:
        loss = -min(r.variance or 0, 0)
        left = loss - given.get((r.product_id, refs[r.product_id]), 0)
        units = min(sold[r.product_id], left)
        if units > 0:
            postings.append(
                Posting(
                    location_id=location_id,
                    product_id=r.product_id,
                    kind=MovementKind.STOCKTAKE,
                    delta=units,
                    reason=LATE_SALE_REASON,
                    note=f"sale {client} was dated before the count",
                    reference=refs[r.product_id],
                    allow_negative=True,
                )
            )
    if postings:
        await post(session, caller, postings, request_id=request_id)


async def sale_row(session: AsyncSession, caller: Caller, sale_id: int) -> Any:
    return (await session.execute(_SALE_ROW, {"t": caller.tenant_id, "id": sale_id})).one()


def audit_entry(result: SyncResult) -> AuditEntry:
    """One event per batch: which client sale IDs went which way."""
    by_status: dict[str, list[str]] = defaultdict(list)
    for o in result.outcomes:
        by_status[o.status.lower()].append(o.client_sale_id)
    return AuditEntry(
        action="pos.sales.sync",
        target_type="PosDevice",
        target_id=ids.encode("PosDevice", result.device.id),
        after=dict(by_status),
    )
