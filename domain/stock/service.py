"""Receiving, adjusting and selling stock: the rules, then one ledger posting."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db import driver
from db.driver import Statement
from domain.access import require
from domain.audit.service import AuditEntry
from domain.catalog.lookup import (
    NewSale,
    location_row,
    products_by_sku,
    require_skus,
    sale_references,
)
from domain.errors import AlreadyExists, DomainError, InvalidInput, NotFound
from domain.members.service import require_member
from domain.members.tags import recompute_member
from domain.stock.ledger import Posting, post
from domain.stock.records import (
    AdjustmentReason,
    LevelRecord,
    MovementKind,
    StockChange,
)

MAX_LINES = 1000
MAX_QUANTITY = 1_000_000
MAX_MONEY = Decimal(10) ** 10


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    sku: str
    quantity: int
    unit_cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ReceiveStock:
    location_id: int | None
    lines: tuple[ReceiptLine, ...]
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class AdjustStock:
    location_id: int | None
    sku: str
    delta: int
    reason: AdjustmentReason
    note: str | None = None
    expected_on_hand: int | None = None


@dataclass(frozen=True, slots=True)
class SaleLine:
    sku: str
    quantity: int
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    method: str
    amount: Decimal
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class RecordSale:
    location_id: int | None
    receipt_number: str
    lines: tuple[SaleLine, ...]
    occurred_at: datetime | None = None
    member_id: int | None = None
    payments: tuple[Payment, ...] = field(default_factory=tuple)
    currency: str | None = None


def _check_lines(count: int) -> None:
    if count == 0:
        raise InvalidInput("at least one line is required", ["lines"])
    if count > MAX_LINES:
        raise InvalidInput(f"at most {MAX_LINES} lines per request", ["lines"])


def _positive(quantity: int, index: int) -> None:
    if not 0 < quantity <= MAX_QUANTITY:
        raise InvalidInput(
            f"quantity must be 1 to {MAX_QUANTITY}", ["lines", str(index), "quantity"]
        )


def _text(value: str | None, limit: int, field: str) -> None:
    if value is not None and len(value) > limit:
        raise InvalidInput(f"{field} must be at most {limit} characters", [field])


def _money(value: Decimal | None, path: list[str]) -> None:
    """Prices and costs: finite, not negative, below 10 billion."""
    if value is None:
        return
    if not value.is_finite() or value < 0 or value >= MAX_MONEY:
        raise InvalidInput(f"{path[-1]} must be a number from 0 to {MAX_MONEY}", path)


async def receive_stock(
    session: AsyncSession, caller: Caller, cmd: ReceiveStock, *, request_id: str | None = None
) -> StockChange:
    """A purchase receipt: stock arrives at a location."""
    location = await location_row(session, caller, cmd.location_id, ["locationId"])
    require(caller, Permission.STOCK_WRITE, location.id, ["locationId"])
    _check_lines(len(cmd.lines))
    _text(cmd.reference, 200, "reference")
    for i, line in enumerate(cmd.lines):
        _positive(line.quantity, i)
        _money(line.unit_cost, ["lines", str(i), "unitCost"])
    products = await products_by_sku(session, caller, [ln.sku for ln in cmd.lines])
    postings = [
        Posting(
            location_id=location.id,
            product_id=products[ln.sku].id,
            kind=MovementKind.RECEIPT,
            delta=ln.quantity,
            reference=cmd.reference,
            unit_cost=ln.unit_cost,
            field=("lines", str(i)),
        )
        for i, ln in enumerate(cmd.lines)
    ]
    return await post(session, caller, postings, request_id=request_id, sequenced=False)


async def adjust_stock(
    session: AsyncSession, caller: Caller, cmd: AdjustStock, *, request_id: str | None = None
) -> StockChange:
    """A counted or observed correction; never takes stock below zero."""
    location = await location_row(session, caller, cmd.location_id, ["locationId"])
    require(caller, Permission.STOCK_WRITE, location.id, ["locationId"])
    if cmd.delta == 0 or abs(cmd.delta) > MAX_QUANTITY:
        raise InvalidInput(f"delta must be non-zero and within ±{MAX_QUANTITY}", ["delta"])
    _text(cmd.note, 1000, "note")
    products = await products_by_sku(session, caller, [cmd.sku], lines=False)
    kind = MovementKind.DAMAGE if cmd.reason is AdjustmentReason.DAMAGE else MovementKind.ADJUSTMENT
    posting = Posting(
        location_id=location.id,
        product_id=products[cmd.sku].id,
        kind=kind,
        delta=cmd.delta,
        reason=cmd.reason.value,
        note=cmd.note,
        expected_on_hand=cmd.expected_on_hand,
        field=(),
    )
    return await post(session, caller, [posting], request_id=request_id, sequenced=False)


_INSERT_SALE = Statement(
    text(
        """
    INSERT INTO sales (tenant_id, location_id, receipt_number, occurred_at, member_id,
                       currency, total, payments, oversold)
    VALUES (:tenant, :location, :receipt, :occurred_at, :member, :currency, :total,
            CAST(:payments AS jsonb), false)
    ON CONFLICT (tenant_id, location_id, receipt_number) DO NOTHING
    RETURNING id
    """
    )
)

_OVERSOLD = Statement(text("UPDATE sales SET oversold = true WHERE tenant_id = :t AND id = :id"))


def _check_sale(cmd: RecordSale, receipt: str) -> None:
    """What a sale must be before anything is looked up: its receipt number, lines and
    payments, in that order."""
    if not receipt or len(receipt) > 100:
        raise InvalidInput("receiptNumber must be 1 to 100 characters", ["receiptNumber"])
    _check_lines(len(cmd.lines))
    for i, line in enumerate(cmd.lines):
        _positive(line.quantity, i)
        _money(line.unit_price, ["lines", str(i), "unitPrice"])
    for i, payment in enumerate(cmd.payments):
        _money(payment.amount, ["payments", str(i), "amount"])
        if not payment.method or len(payment.method) > 32:
            raise InvalidInput("method must be 1 to 32 characters", ["payments", str(i), "method"])


async def record_sale(
    session: AsyncSession,
    caller: Caller,
    cmd: RecordSale,
    *,
    request_id: str | None = None,
    audits_itself: bool = False,
) -> StockChange:
    """A POS receipt. Never refused for lack of stock: an oversell is recorded and flagged.

    ``audits_itself``: this sale is the whole of the mutation (``recordSale``, not a
    batch), so the mutation's pending audit event may be written with the movements.

    The refusals come in this order: the location, the permission there, the receipt
    number, the lines, the payments, the member, the SKUs, the time, a receipt
    recorded already. Without a member, the sale's row is written by the statement that
    looks up its references (one round trip fewer) when nothing checked before the
    lookup refuses it; a later refusal rolls it back with everything else."""
    receipt = cmd.receipt_number.strip()
    occurred_at = cmd.occurred_at or datetime.now(UTC)
    payments = json.dumps(
        [
            {"method": p.method, "amount": str(p.amount), "reference": p.reference}
            for p in cmd.payments
        ]
    )
    try:
        _check_sale(cmd, receipt)
        early: DomainError | None = None
    except DomainError as error:
        early = error
    together = early is None and cmd.member_id is None and occurred_at.tzinfo is not None
    refs = await sale_references(
        session,
        caller,
        cmd.location_id,
        [ln.sku for ln in cmd.lines],
        NewSale(
            receipt=receipt,
            occurred_at=occurred_at,
            currency=cmd.currency,
            payments=payments,
            skus=[ln.sku for ln in cmd.lines],
            quantities=[ln.quantity for ln in cmd.lines],
            prices=[ln.unit_price for ln in cmd.lines],
            take_movement_ids=audits_itself,
        )
        if together
        else None,
    )
    location_id = refs.location_id
    if location_id is None:
        raise NotFound("no such location", ["locationId"])
    require(caller, Permission.STOCK_WRITE, location_id, ["locationId"])
    if early is not None:
        raise early
    if cmd.member_id is not None:
        await require_member(session, caller, cmd.member_id, ["memberId"])
    products = refs.products
    require_skus([ln.sku for ln in cmd.lines], products)
    if occurred_at.tzinfo is None:
        raise InvalidInput("occurredAt needs a UTC offset", ["occurredAt"])
    if together:
        sale_id = refs.sale_id
    else:
        total = sum(
            (
                (ln.unit_price if ln.unit_price is not None else products[ln.sku].retail_price or 0)
                * ln.quantity
                for ln in cmd.lines
            ),
            Decimal("0"),
        )
        sale_id = await driver.value(
            session,
            _INSERT_SALE,
            {
                "tenant": caller.tenant_id,
                "location": location_id,
                "receipt": receipt,
                "occurred_at": occurred_at,
                "member": cmd.member_id,
                "currency": cmd.currency or refs.currency,
                "total": total,
                "payments": payments,
            },
        )
    if sale_id is None:
        raise AlreadyExists(
            f"receipt {receipt} is already recorded at this location", ["receiptNumber"]
        )
    postings = [
        Posting(
            location_id=location_id,
            product_id=products[ln.sku].id,
            kind=MovementKind.SALE,
            delta=-ln.quantity,
            reference=receipt,
            unit_price=ln.unit_price
            if ln.unit_price is not None
            else products[ln.sku].retail_price,
            sale_id=sale_id,
            occurred_at=cmd.occurred_at,  # none given: stamped once the rows are locked
            allow_negative=True,
            field=("lines", str(i)),
        )
        for i, ln in enumerate(cmd.lines)
    ]
    change = await post(
        session,
        caller,
        postings,
        request_id=request_id,
        sequenced=False,
        levels_exist=refs.levels_exist,
        locked=refs.locked,
        movement_ids=refs.movement_ids,
    )
    if any(m.oversell for m in change.movements):
        await driver.execute(session, _OVERSOLD, {"t": caller.tenant_id, "id": sale_id})
    if cmd.member_id is not None:  # the member's computed tags follow in this transaction
        await recompute_member(session, caller.tenant_id, cmd.member_id, now=datetime.now(UTC))
    return change


def audit_entry(action: str, change: StockChange, reason: str | None = None) -> AuditEntry:
    """The audit view of a posting (``StockChange.audit_entry``)."""
    return change.audit_entry(action, reason)


@dataclass(frozen=True, slots=True)
class SetReorderPoint:
    location_id: int | None
    sku: str
    reorder_point: int | None


_SET_POINT = text(
    """
    INSERT INTO stock_levels (tenant_id, location_id, product_id)
    VALUES (:tenant, :location, :product)
    ON CONFLICT (tenant_id, location_id, product_id) DO NOTHING
    """
)

_UPDATE_POINT = text(
    """
    UPDATE stock_levels SET reorder_point = :point, updated_at = now()
    FROM (SELECT id, reorder_point AS before FROM stock_levels
          WHERE tenant_id = :tenant AND location_id = :location AND product_id = :product
          FOR UPDATE) old
    WHERE stock_levels.tenant_id = :tenant AND stock_levels.id = old.id
    RETURNING stock_levels.id, location_id, product_id, on_hand, reserved, in_transit,
              incoming, reorder_point, version, updated_at, old.before
    """
)


async def set_reorder_point(
    session: AsyncSession, caller: Caller, cmd: SetReorderPoint
) -> tuple[LevelRecord, int | None]:
    """Where lowStock fires for one SKU at one location (null: never). Not a stock change."""
    location = await location_row(session, caller, cmd.location_id, ["locationId"])
    require(caller, Permission.STOCK_WRITE, location.id, ["locationId"])
    if cmd.reorder_point is not None and not 0 <= cmd.reorder_point <= MAX_QUANTITY:
        raise InvalidInput(f"reorderPoint must be 0 to {MAX_QUANTITY}", ["reorderPoint"])
    products = await products_by_sku(session, caller, [cmd.sku], lines=False)
    args = {
        "tenant": caller.tenant_id,
        "location": location.id,
        "product": products[cmd.sku].id,
        "point": cmd.reorder_point,
    }
    await session.execute(_SET_POINT, args)
    row = (await session.execute(_UPDATE_POINT, args)).one()
    return LevelRecord.from_row(row), row.before
