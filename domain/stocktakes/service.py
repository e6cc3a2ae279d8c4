"""Starting, counting, posting and cancelling stocktakes.

**The variance rule.** A count is compared with the ledger at the moment it is
recorded, not at posting time. ``record_count`` locks the counted level rows
``FOR SHARE`` (in the ledger's (location, product) order, so it never
deadlocks with ``ledger.post``), reads ``on_hand`` and the tenant's last
committed movement sequence, and stores them on the line as
``expected_at_count`` and ``ledger_sequence_at_count``. While the share lock
is held no movement of that level can commit, so ``expected_at_count`` is
exactly the sum of the level's movements up to ``ledger_sequence_at_count``.

Posting moves each line by ``variance = counted - expected_at_count`` as one
STOCKTAKE movement. Sales and receipts between the count and the posting have
already moved ``on_hand`` through the ledger, so afterwards
``on_hand = counted + (movements since the count)``: only the true shrinkage
(or surplus) is posted, never the trading in between.

**Decreases are never refused for lack of stock** (``allow_negative``): the
count is a fact about the shelf. If sales since the count exceed what was
counted, the level goes below zero exactly as the ledger says it must (the
ledger flags such a movement ``oversell``, meaning "took stock below zero").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Product, Stocktake, StocktakeLine
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.catalog.lookup import location_row, products_by_sku
from domain.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from domain.stocktakes.records import (
    LineRecord,
    StocktakeKind,
    StocktakeRecord,
    StocktakeResult,
    StocktakeStatus,
)
from domain.stocktakes.selection import products_in_scope

MAX_LINES = 1000
MAX_QUANTITY = 1_000_000
MAX_DAYS = 3660

T = Stocktake.__table__
L = StocktakeLine.__table__


@dataclass(frozen=True, slots=True)
class StartStocktake:
    location_id: int | None
    kind: StocktakeKind
    category: str | None = None
    not_counted_days: int | None = None
    skus: tuple[str, ...] | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CountLine:
    sku: str
    counted_quantity: int


@dataclass(frozen=True, slots=True)
class RecordCount:
    stocktake_id: int | None
    lines: tuple[CountLine, ...]


@dataclass(frozen=True, slots=True)
class StocktakeCommand:
    """Post or cancel."""

    stocktake_id: int | None


def reference(stocktake_id: int) -> str:
    """The movements' reference: the stocktake's global ID."""
    return ids.encode("Stocktake", stocktake_id)


def _scope_text(cmd: StartStocktake, location_code: str) -> str:
    if cmd.kind is StocktakeKind.FULL:
        return f"every SKU stocked at {location_code}"
    parts = []
    if cmd.category is not None:
        parts.append(f"category {cmd.category}")
    if cmd.not_counted_days is not None:
        parts.append(f"not counted in {cmd.not_counted_days} days")
    if cmd.skus is not None:
        parts.append(f"{len(cmd.skus)} listed SKUs")
    return ("cycle count at " + location_code + ": " + "; ".join(parts))[:500]


def _validate_start(cmd: StartStocktake) -> None:
    filters = (cmd.category, cmd.not_counted_days, cmd.skus)
    if cmd.kind is StocktakeKind.FULL and any(f is not None for f in filters):
        raise InvalidInput("a full count takes no category, notCountedForDays or skus", ["kind"])
    if cmd.kind is StocktakeKind.CYCLE and all(f is None for f in filters):
        raise InvalidInput(
            "a cycle count needs a category, notCountedForDays or skus", ["category"]
        )
    if cmd.not_counted_days is not None and not 1 <= cmd.not_counted_days <= MAX_DAYS:
        raise InvalidInput(f"notCountedForDays must be 1 to {MAX_DAYS}", ["notCountedForDays"])
    if cmd.category is not None and not 0 < len(cmd.category) <= 100:
        raise InvalidInput("category must be 1 to 100 characters", ["category"])
    if cmd.note is not None and len(cmd.note) > 1000:
        raise InvalidInput("note must be at most 1000 characters", ["note"])
    if cmd.skus is not None and not 0 < len(cmd.skus) <= MAX_LINES:
        raise InvalidInput(f"skus must list 1 to {MAX_LINES} SKUs", ["skus"])


_INSERT_OPEN = text(
    """
    INSERT INTO stocktakes (tenant_id, location_id, kind, status, scope, category,
                            not_counted_days, note, started_by, started_at)
    VALUES (:tenant, :location, :kind, 'OPEN', :scope, :category, :days, :note, :actor, :now)
    ON CONFLICT (tenant_id, location_id) WHERE status = 'OPEN' DO NOTHING
    RETURNING *
    """
)


async def start_stocktake(
    session: AsyncSession, caller: Caller, cmd: StartStocktake
) -> StocktakeResult:
    """Open a count; its lines are the SKUs in scope, uncounted. One open count per location."""
    location = await location_row(session, caller, cmd.location_id, ["locationId"])
    require(caller, Permission.STOCK_WRITE, location.id, ["locationId"])
    _validate_start(cmd)
    product_ids = None
    if cmd.skus is not None:
        found = await products_by_sku(session, caller, list(cmd.skus), lines=False)
        product_ids = sorted({p.id for p in found.values()})
    now = datetime.now(UTC)
    row = (
        await session.execute(
            _INSERT_OPEN,
            {
                "tenant": caller.tenant_id,
                "location": location.id,
                "kind": cmd.kind.value,
                "scope": _scope_text(cmd, location.code),
                "category": cmd.category,
                "days": cmd.not_counted_days,
                "note": cmd.note,
                "actor": caller.subject,
                "now": now,
            },
        )
    ).first()
    if row is None:
        raise AlreadyExists("this location already has an open stocktake", ["locationId"])
    scope = products_in_scope(
        caller.tenant_id,
        location.id,
        category=cmd.category,
        not_counted_days=cmd.not_counted_days,
        product_ids=product_ids,
        now=now,
    )
    selected = scope.with_only_columns(
        literal(caller.tenant_id, BigInteger),
        literal(row.id, BigInteger),
        literal(location.id, BigInteger),
        scope.selected_columns[0],
    )
    result = await session.execute(
        insert(StocktakeLine)
        .from_select(["tenant_id", "stocktake_id", "location_id", "product_id"], selected)
        .returning(*L.c)
    )
    lines = [LineRecord.from_row(r) for r in result]
    if cmd.kind is StocktakeKind.CYCLE and not lines:
        raise InvalidInput("no SKU at this location matches the cycle count", ["category"])
    return StocktakeResult(stocktake=StocktakeRecord.from_row(row), lines=lines)


async def _locked(
    session: AsyncSession, caller: Caller, stocktake_id: int | None, *, share: bool
) -> StocktakeRecord:
    """The stocktake row, locked; NOT_FOUND for unknown and foreign IDs; stock:write there."""
    row = None
    if stocktake_id is not None:
        stmt = select(T).where(T.c.tenant_id == caller.tenant_id, T.c.id == stocktake_id)
        stmt = stmt.with_for_update(read=share)
        row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("no such stocktake", ["id"])
    record = StocktakeRecord.from_row(row)
    require(caller, Permission.STOCK_WRITE, record.location_id, ["id"])
    return record


def _open(record: StocktakeRecord, action: str) -> None:
    if record.status != StocktakeStatus.OPEN:
        raise InvalidTransition(f"cannot {action} a {record.status.lower()} stocktake", ["id"])


_ENSURE_LEVELS = text(
    """
    INSERT INTO stock_levels (tenant_id, location_id, product_id)
    SELECT :tenant, :location, p FROM unnest(CAST(:products AS bigint[])) AS p ORDER BY p
    ON CONFLICT (tenant_id, location_id, product_id) DO NOTHING
    """
)

_SHARE_LEVELS = text(
    """
    SELECT product_id, on_hand FROM stock_levels
    WHERE tenant_id = :tenant AND location_id = :location
      AND product_id = ANY(CAST(:products AS bigint[]))
    ORDER BY location_id, product_id
    FOR SHARE
    """
)

_LAST_SEQUENCE = text("SELECT last_sequence FROM tenant_counters WHERE tenant_id = :tenant")


async def record_count(session: AsyncSession, caller: Caller, cmd: RecordCount) -> StocktakeResult:
    """Record counted quantities; each line's expectation is on hand right now. Recount replaces."""
    stocktake = await _locked(session, caller, cmd.stocktake_id, share=True)
    _open(stocktake, "count")
    if not 0 < len(cmd.lines) <= MAX_LINES:
        raise InvalidInput(f"lines must hold 1 to {MAX_LINES} counts", ["lines"])
    seen: set[str] = set()
    for i, ln in enumerate(cmd.lines):
        if not 0 <= ln.counted_quantity <= MAX_QUANTITY:
            raise InvalidInput(
                f"countedQuantity must be 0 to {MAX_QUANTITY}",
                ["lines", str(i), "countedQuantity"],
            )
        if ln.sku in seen:
            raise InvalidInput("each SKU may be counted once per request", ["lines", str(i), "sku"])
        seen.add(ln.sku)
    products = await products_by_sku(session, caller, [ln.sku for ln in cmd.lines])
    counted = {products[ln.sku].id: ln.counted_quantity for ln in cmd.lines}
    if stocktake.kind == StocktakeKind.CYCLE:
        in_scope = set(
            (
                await session.execute(
                    select(L.c.product_id).where(
                        L.c.tenant_id == caller.tenant_id,
                        L.c.stocktake_id == stocktake.id,
                        L.c.product_id.in_(counted),
                    )
                )
            ).scalars()
        )
        for i, ln in enumerate(cmd.lines):
            if products[ln.sku].id not in in_scope:
                raise InvalidInput(f"{ln.sku} is not in this cycle count", ["lines", str(i), "sku"])
    keys = sorted(counted)
    args = {"tenant": caller.tenant_id, "location": stocktake.location_id, "products": keys}
    await session.execute(_ENSURE_LEVELS, args)
    on_hand = {r.product_id: r.on_hand for r in await session.execute(_SHARE_LEVELS, args)}
    sequence = (await session.execute(_LAST_SEQUENCE, args)).scalar_one()
    now = datetime.now(UTC)
    rows = [
        {
            "tenant_id": caller.tenant_id,
            "stocktake_id": stocktake.id,
            "location_id": stocktake.location_id,
            "product_id": pid,
            "counted_quantity": counted[pid],
            "counted_at": now,
            "counted_by": caller.subject,
            "ledger_sequence_at_count": sequence,
            "expected_at_count": on_hand[pid],
            "variance": counted[pid] - on_hand[pid],
        }
        for pid in keys
    ]
    upsert = pg_insert(StocktakeLine).values(rows)
    stmt = upsert.on_conflict_do_update(
        index_elements=[L.c.tenant_id, L.c.stocktake_id, L.c.product_id],
        set_={
            name: upsert.excluded[name]
            for name in (
                "counted_quantity",
                "counted_at",
                "counted_by",
                "ledger_sequence_at_count",
                "expected_at_count",
                "variance",
            )
        },
    ).returning(*L.c)
    lines = sorted((LineRecord.from_row(r) for r in await session.execute(stmt)), key=_by_product)
    return StocktakeResult(stocktake=stocktake, lines=lines)


def _by_product(line: LineRecord) -> int:
    return line.product_id


_RECORDED_LATE = text(
    """
    SELECT l.id, SUM(m.delta) AS late
    FROM stocktake_lines l
    JOIN stock_movements m
      ON m.tenant_id = l.tenant_id AND m.location_id = :location AND m.product_id = l.product_id
     AND m.sequence > l.ledger_sequence_at_count AND m.occurred_at <= l.counted_at
    WHERE l.tenant_id = :tenant AND l.stocktake_id = :stocktake
      AND l.counted_quantity IS NOT NULL
    GROUP BY l.id
    """
)

_LOCK_COUNTED_LEVELS = text(
    """
    SELECT id FROM stock_levels
    WHERE tenant_id = :tenant AND location_id = :location AND product_id = ANY(:products)
    ORDER BY location_id, product_id
    FOR UPDATE
    """
)


async def _recorded_late(
    session: AsyncSession, caller: Caller, stocktake: Any, product_ids: list[int]
) -> dict[int, int]:
    """Movements recorded after a count that happened before it (an offline till syncing
    later): the shelf already showed them, so they are not shrinkage. Per line id.

    The counted levels are locked first (in the ledger's order), so no such movement
    can commit between this sum and the posting.
    """
    args = {"tenant": caller.tenant_id, "location": stocktake.location_id}
    await session.execute(_LOCK_COUNTED_LEVELS, {**args, "products": sorted(product_ids)})
    rows = await session.execute(_RECORDED_LATE, {**args, "stocktake": stocktake.id})
    return {r.id: int(r.late) for r in rows}


async def post_stocktake(
    session: AsyncSession, caller: Caller, cmd: StocktakeCommand, *, request_id: str | None = None
) -> StocktakeResult:
    """Post every counted line's variance as one STOCKTAKE movement, in one ledger posting."""
    stocktake = await _locked(session, caller, cmd.stocktake_id, share=False)
    _open(stocktake, "post")
    counted = (
        await session.execute(
            select(L, Product.__table__.c.cost_price)
            .join(
                Product.__table__,
                (Product.__table__.c.tenant_id == L.c.tenant_id)
                & (Product.__table__.c.id == L.c.product_id),
            )
            .where(
                L.c.tenant_id == caller.tenant_id,
                L.c.stocktake_id == stocktake.id,
                L.c.counted_quantity.is_not(None),
            )
            .order_by(L.c.product_id)
        )
    ).all()
    if not counted:
        raise InvalidInput("no line of this stocktake has been counted", ["id"])
    late = await _recorded_late(session, caller, stocktake, [r.product_id for r in counted])
    variance = {r.id: r.variance - late.get(r.id, 0) for r in counted}
    ref = reference(stocktake.id)
    postings = [
        Posting(
            location_id=stocktake.location_id,
            product_id=r.product_id,
            kind=MovementKind.STOCKTAKE,
            delta=variance[r.id],
            reason="STOCKTAKE",
            reference=ref,
            unit_cost=r.cost_price,
            allow_negative=True,
        )
        for r in counted
        if variance[r.id] != 0
    ]
    movements = []
    if postings:
        change = await post(session, caller, postings, request_id=request_id)
        movements = change.movements
    sequence_of = {m.product_id: m.sequence for m in movements}
    cost_of = {m.product_id: m.unit_cost for m in movements}  # the average it moved at
    for r in counted:
        await session.execute(
            update(StocktakeLine)
            .where(L.c.tenant_id == caller.tenant_id, L.c.id == r.id)
            .values(
                unit_cost=cost_of.get(r.product_id, r.cost_price),
                movement_sequence=sequence_of.get(r.product_id),
                variance=variance[r.id],
            )
        )
    row = (
        await session.execute(
            update(Stocktake)
            .where(T.c.tenant_id == caller.tenant_id, T.c.id == stocktake.id)
            .values(
                status=StocktakeStatus.POSTED.value,
                posted_at=datetime.now(UTC),
                posted_by=caller.subject,
            )
            .returning(*T.c)
        )
    ).one()
    lines = (
        await session.execute(
            select(L)
            .where(
                L.c.tenant_id == caller.tenant_id,
                L.c.stocktake_id == stocktake.id,
                L.c.counted_quantity.is_not(None),
            )
            .order_by(L.c.product_id)
        )
    ).all()
    return StocktakeResult(
        stocktake=StocktakeRecord.from_row(row),
        lines=[LineRecord.from_row(r) for r in lines],
        movements=movements,
    )


async def cancel_stocktake(
    session: AsyncSession, caller: Caller, cmd: StocktakeCommand
) -> StocktakeResult:
    """Abandon an open count; nothing is posted."""
    stocktake = await _locked(session, caller, cmd.stocktake_id, share=False)
    _open(stocktake, "cancel")
    row = (
        await session.execute(
            update(Stocktake)
            .where(T.c.tenant_id == caller.tenant_id, T.c.id == stocktake.id)
            .values(status=StocktakeStatus.CANCELLED.value, cancelled_at=datetime.now(UTC))
            .returning(*T.c)
        )
    ).one()
    return StocktakeResult(stocktake=StocktakeRecord.from_row(row))


def audit_entry(action: str, result: StocktakeResult) -> AuditEntry:
    st = result.stocktake
    after: dict[str, Any] = {
        "status": st.status,
        "location": ids.encode("Location", st.location_id),
        "lines": [
            {
                "product": ids.encode("Product", ln.product_id),
                "countedQuantity": ln.counted_quantity,
                "expectedAtCount": ln.expected_at_count,
                "ledgerSequenceAtCount": ln.ledger_sequence_at_count,
                "variance": ln.variance,
            }
            for ln in result.lines
            if ln.counted_quantity is not None
        ],
    }
    if action == "stocktake.start":
        after = {"status": st.status, "kind": st.kind, "scope": st.scope, "skus": len(result.lines)}
    if result.movements:
        after["movementSequences"] = [m.sequence for m in result.movements]
    return AuditEntry(
        action=action,
        target_type="Stocktake",
        target_id=ids.encode("Stocktake", st.id),
        after=after,
    )
