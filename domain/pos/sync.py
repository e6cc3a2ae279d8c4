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

**No deadlock between batches.** A batch first locks its device's row (so one
device's batches run in turn), then claims its client sale IDs in
one statement, in ID order; then locks every stock level its new sales move,
in the ledger's (location, product) order; only then does ``ledger.post`` take
the tenant counter. Every batch acquires device → claims → levels → counter, each in one
global order (other writers take levels → counter), so batches queue behind
each other instead of deadlocking, and a batch of replays alone takes no level
lock at all.

**Late sales.** A sale dated before a posted stocktake count is compensated so
the count stands (``domain.pos.late_sales``).
"""

from __future__ import annotations

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
from domain.pos.batch_reversals import ReversalOutcome, reversal_targets, reverse
from domain.pos.client_ids import canonical, client_id_of
from domain.pos.devices import usable_device
from domain.pos.late_sales import compensate_late_sale, posted_counts
from domain.pos.returns import RecordReturn, VoidSale, record_return, void_sale
from domain.pos.tenders import Tender, check_tenders
from domain.stock.service import Payment, RecordSale, SaleLine, record_sale

MAX_SALES = 500
MAX_LINES = 200
MAX_FUTURE = timedelta(hours=24)


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
    returns: tuple[RecordReturn, ...] = ()
    voids: tuple[VoidSale, ...] = ()


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
    returns: list[ReversalOutcome] = field(default_factory=list)
    voids: list[ReversalOutcome] = field(default_factory=list)


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
# Claims in client-ID order: two batches claiming the same sales wait for each other
# in one order, never in a cycle.
_CLAIM = text(
    """
    INSERT INTO pos_sales (tenant_id, client_sale_id, device_id, location_id, occurred_at,
                           total, status)
    SELECT :t, c.client, :device, :location, c.occurred, 0, 'COMPLETED'
    FROM unnest(CAST(:clients AS text[]), CAST(:occurred AS timestamptz[])) AS c(client, occurred)
    ORDER BY c.client
    ON CONFLICT (tenant_id, client_sale_id) DO NOTHING
    RETURNING id, client_sale_id
    """
)
_UNCLAIM = text("DELETE FROM pos_sales WHERE tenant_id = :t AND id = :id")
_ORIGINALS = text(
    """
    SELECT p.client_sale_id, p.id AS pos_sale_id, s.* FROM pos_sales p
    JOIN sales s ON s.tenant_id = p.tenant_id AND s.id = p.sale_id
    WHERE p.tenant_id = :t AND p.client_sale_id = ANY(CAST(:clients AS text[]))
    """
)
_SET_TOTAL = text("UPDATE sales SET total = :total WHERE tenant_id = :t AND id = :id")
_COMPLETE = text(
    """
    UPDATE pos_sales p SET sale_id = c.sale, total = c.total
    FROM unnest(CAST(:ids AS bigint[]), CAST(:sales AS bigint[]), CAST(:totals AS numeric[]))
         AS c(id, sale, total)
    WHERE p.tenant_id = :t AND p.id = c.id
    """
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


@dataclass(slots=True)
class _Priced:
    """A sale that passed every check that needs no write: lines priced, tenders summed."""

    index: int
    client: str
    sale: SyncSale
    lines: list[SaleLine]
    total: Decimal
    list_total: Decimal


def _price(
    sale: SyncSale, index: int, by_sku: dict[str, Any], by_code: dict[str, Any], now: datetime
) -> _Priced:
    path = ["sales", str(index)]
    client = client_id_of(sale.client_sale_id, [*path, "clientSaleId"])
    _validate(sale, path, now)
    lines: list[SaleLine] = []
    total = list_total = Decimal("0")
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
        list_total += price * ln.quantity
        lines.append(SaleLine(sku=product.sku, quantity=ln.quantity, unit_price=price))
    tendered = check_tenders(sale.tenders, [*path, "tenders"])
    if tendered != total:
        raise InvalidInput(f"tenders add up to {tendered}, the sale to {total}", [*path, "tenders"])
    return _Priced(index, client, sale, lines, total, list_total)


async def sync_sales(
    session: AsyncSession, caller: Caller, cmd: SyncSales, *, request_id: str | None = None
) -> SyncResult:
    """Apply a batch; every sale gets its own answer."""
    device = await usable_device(session, caller, cmd.device_id)
    if not 0 < len(cmd.sales) + len(cmd.returns) + len(cmd.voids) <= MAX_SALES:
        raise InvalidInput(
            f"a batch holds 1 to {MAX_SALES} sales, returns and voids together", ["sales"]
        )
    t = caller.tenant_id
    now = datetime.now(UTC)
    by_sku, by_code = await _catalog(session, caller, cmd.sales)
    outcomes: list[SaleOutcome | None] = [None] * len(cmd.sales)
    refused: dict[int, DomainError] = {}
    priced: list[_Priced] = []
    for i, sale in enumerate(cmd.sales):
        try:
            if sale.location_id is not None and sale.location_id != device.location_id:
                raise Forbidden(
                    "this device is not at that location", ["sales", str(i), "locationId"]
                )
            priced.append(_price(sale, i, by_sku, by_code, now))
        except DomainError as error:
            refused[i] = error
    unique: dict[str, _Priced] = {}
    for p in priced:
        unique.setdefault(p.client, p)
    claimed: dict[str, int] = {}
    if unique:
        claimed = {
            r.client_sale_id: r.id
            for r in await session.execute(
                _CLAIM,
                {
                    "t": t,
                    "device": device.id,
                    "location": device.location_id,
                    "clients": list(unique),
                    "occurred": [p.sale.occurred_at for p in unique.values()],
                },
            )
        }
    fresh = [p for p in unique.values() if p.client in claimed]
    known = {r.sku: r.id for r in (*by_sku.values(), *by_code.values())}
    targets = await reversal_targets(session, caller, device.location_id, cmd)
    products = sorted(
        {known[ln.sku] for p in fresh for ln in p.lines} | {r.product_id for r in targets}
    )
    if products:
        args = {"tenant": t, "location": device.location_id, "products": products}
        await session.execute(_ENSURE_LEVELS, args)
        await session.execute(_LOCK_LEVELS, args)
    counts = await posted_counts(session, caller, device.location_id, fresh, products)
    done: list[tuple[int, int, Decimal]] = []
    tenders: list[dict[str, Any]] = []
    for p in priced:
        claim = claimed.pop(p.client, None)
        if claim is None:
            continue  # a duplicate: answered below with the original
        try:
            async with session.begin_nested():
                sale_id = await _apply(session, caller, device, p, claim, counts, request_id)
        except DomainError as error:
            await session.execute(_UNCLAIM, {"t": t, "id": claim})
            refused[p.index] = error
            continue
        done.append((claim, sale_id, p.total))
        tenders.extend(
            {
                "tenant_id": t,
                "pos_sale_id": claim,
                "position": k,
                "device_id": device.id,
                "location_id": device.location_id,
                "method": tn.method.value,
                "amount": tn.amount,
                "provider_reference": tn.provider_reference,
                "terminal_id": tn.terminal_id,
                "occurred_at": p.sale.occurred_at,
            }
            for k, tn in enumerate(p.sale.tenders)
        )
    if done:
        await session.execute(
            _COMPLETE,
            {
                "t": t,
                "ids": [d[0] for d in done],
                "sales": [d[1] for d in done],
                "totals": [d[2] for d in done],
            },
        )
        await session.execute(insert(PosTender), tenders)
    accepted = {d[0] for d in done}
    wanted = sorted({p.client for p in priced} | _clients_of(cmd.sales, refused))
    originals = {
        r.client_sale_id: r for r in await session.execute(_ORIGINALS, {"t": t, "clients": wanted})
    }
    last: tuple[datetime, str] | None = None
    for i, sale in enumerate(cmd.sales):
        client = canonical(sale.client_sale_id)
        row = originals.get(client) if client is not None else None
        head = unique.get(client) if client is not None else None
        if row is None:  # refused here, or a repeat in this batch of a refused sale
            why = refused.get(i) or (refused.get(head.index) if head is not None else None)
            assert why is not None
            outcomes[i] = SaleOutcome(
                client_sale_id=client or sale.client_sale_id[:64],
                status="REJECTED",
                errors=[why],
            )
            continue
        assert client is not None
        first = head is not None and head.index == i and _claim_of(row) in accepted
        outcomes[i] = SaleOutcome(
            client_sale_id=client, status="ACCEPTED" if first else "DUPLICATE", sale=row
        )
        if first and (last is None or sale.occurred_at >= last[0]):
            last = (sale.occurred_at, client)
    here = {r.client_sale_id for r in targets if r.location_id == device.location_id}
    here |= {p.client for p in fresh}
    returns = [
        await reverse(
            session,
            caller,
            device,
            r.client_return_id,
            r.client_sale_id,
            here,
            lambda r=r: record_return(
                session, caller, r, request_id=request_id, device_id=device.id
            ),
            ["returns", str(i)],
        )
        for i, r in enumerate(cmd.returns)
    ]
    voids = [
        await reverse(
            session,
            caller,
            device,
            v.client_void_id,
            v.client_sale_id,
            here,
            lambda v=v: void_sale(session, caller, v, request_id=request_id, device_id=device.id),
            ["voids", str(i)],
        )
        for i, v in enumerate(cmd.voids)
    ]
    await session.execute(
        _DEVICE_SEEN,
        {
            "t": t,
            "d": device.id,
            "now": now,
            "last_sale": last[0] if last else None,
            "last_client": last[1] if last else None,
        },
    )
    return SyncResult(
        device=device,
        outcomes=[o for o in outcomes if o is not None],
        returns=returns,
        voids=voids,
    )


def _clients_of(sales: Sequence[SyncSale], refused: dict[int, DomainError]) -> set[str]:
    """Refused sales may still be replays of accepted ones: look them up too."""
    return {c for i in refused if (c := canonical(sales[i].client_sale_id)) is not None}


def _claim_of(row: Any) -> int:
    return int(row.pos_sale_id)


async def _apply(
    session: AsyncSession,
    caller: Caller,
    device: Any,
    p: _Priced,
    claim: int,
    counts: list[Any],
    request_id: str | None,
) -> int:
    """One claimed sale through the sale path; returns its sales row id."""
    change = await record_sale(
        session,
        caller,
        RecordSale(
            location_id=device.location_id,
            receipt_number=(p.sale.receipt_number or p.client).strip(),
            lines=tuple(p.lines),
            occurred_at=p.sale.occurred_at,
            member_id=p.sale.member_id,
            payments=tuple(
                Payment(method=tn.method.value, amount=tn.amount, reference=tn.provider_reference)
                for tn in p.sale.tenders
            ),
        ),
        request_id=request_id,
    )
    sale_id = change.movements[0].sale_id
    assert sale_id is not None
    if p.total != p.list_total:
        await session.execute(_SET_TOTAL, {"t": caller.tenant_id, "id": sale_id, "total": p.total})
    sold: dict[int, int] = defaultdict(int)
    for m in change.movements:
        sold[m.product_id] += -m.delta
    predated = [c for c in counts if c.counted_at > p.sale.occurred_at and c.product_id in sold]
    if predated:
        await compensate_late_sale(
            session, caller, device.location_id, predated, sold, p.client, request_id
        )
    return sale_id


def audit_entry(result: SyncResult) -> AuditEntry:
    """One event per batch: which client sale IDs went which way."""
    by_status: dict[str, Any] = defaultdict(list)
    for o in result.outcomes:
        by_status[o.status.lower()].append(o.client_sale_id)
    for name, items in (("returns", result.returns), ("voids", result.voids)):
        if items:
            by_status[name] = {r.client_id: r.status for r in items}
    return AuditEntry(
        action="pos.sales.sync",
        target_type="PosDevice",
        target_id=ids.encode("PosDevice", result.device.id),
        after=dict(by_status),
    )
