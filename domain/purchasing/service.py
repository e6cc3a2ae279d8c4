"""Purchase orders: draft, submit, approve or reject, send, receive, close short, cancel.

Every command locks the order row first, then any approval request, then the
stock levels (``incoming`` and, for receipts, ``domain.stock.ledger.post``),
and takes its event sequence last: the same order as transfers, so the two
never deadlock each other.

``incoming`` of a level is the sum of ``quantity - received`` over the lines
of the location's SENT and PARTIALLY_RECEIVED orders: sending adds a line's
quantity, a receipt moves units from incoming to on hand (a RECEIPT movement
with the line's unit cost), closing short drops what will not come.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import PurchaseOrderLine, Supplier
from domain.access import require
from domain.approvals import service as approvals
from domain.catalog.lookup import location_row, products_by_sku
from domain.errors import Forbidden, InvalidInput, NotFound
from domain.purchasing import repository as repo
from domain.purchasing.records import PurchaseOrderOutcome, PurchaseOrderRecord
from domain.purchasing.state import PurchaseOrderAction, PurchaseOrderStatus, next_status
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind

A = PurchaseOrderAction
S = PurchaseOrderStatus
MAX_LINES = 500
MAX_QUANTITY = 1_000_000


class CloseReason(StrEnum):
    SUPPLIER_SHORT = "SUPPLIER_SHORT"
    DISCONTINUED = "DISCONTINUED"
    DAMAGED_REFUSED = "DAMAGED_REFUSED"
    NO_LONGER_NEEDED = "NO_LONGER_NEEDED"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class DraftLine:
    product_id: int
    quantity: int
    unit_cost: Decimal
    supplier_sku: str | None = None


@dataclass(frozen=True, slots=True)
class CreateDraft:
    supplier_id: int
    location_id: int
    lines: tuple[DraftLine, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class TransitionPurchaseOrder:
    id: int | None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiveLine:
    sku: str
    quantity: int
    unit_cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ReceivePurchaseOrder:
    id: int | None
    lines: tuple[ReceiveLine, ...]
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class ClosePurchaseOrder:
    id: int | None
    reason: CloseReason
    note: str | None = None


def _text(value: str | None, limit: int, path: list[str]) -> None:
    if value is not None and len(value) > limit:
        raise InvalidInput(f"{path[-1]} must be at most {limit} characters", path)


async def _finish(
    session: AsyncSession,
    caller: Caller,
    action: str,
    before: PurchaseOrderRecord | None,
    order_id: int,
    sequences: tuple[int, ...] = (),
    decision: approvals.DecisionRecord | None = None,
) -> PurchaseOrderOutcome:
    after = await repo.load(session, caller, order_id)
    await repo.publish(session, caller, after, action)
    return PurchaseOrderOutcome(
        action=action,
        before_status=before.status if before else None,
        order=after,
        movement_sequences=sequences,
        decision=decision,
    )


async def create_draft(
    session: AsyncSession, caller: Caller, cmd: CreateDraft
) -> PurchaseOrderOutcome:
    """A DRAFT order for one supplier and one location (from accepted suggestions)."""
    location = await location_row(session, caller, cmd.location_id, ["locationIds"])
    require(caller, Permission.STOCK_WRITE, location.id, ["locationIds"])
    supplier = (
        await session.execute(
            select(Supplier).where(
                Supplier.tenant_id == caller.tenant_id, Supplier.id == cmd.supplier_id
            )
        )
    ).scalar_one_or_none()
    if supplier is None:
        raise NotFound("no such supplier", ["supplierId"])
    if not cmd.lines or len(cmd.lines) > MAX_LINES:
        raise InvalidInput(f"1 to {MAX_LINES} lines", ["lines"])
    _text(cmd.note, 1000, ["note"])
    now = datetime.now(UTC)
    order_id = int(
        (
            await session.execute(
                insert(repo.PO)
                .values(
                    tenant_id=caller.tenant_id,
                    status=S.DRAFT.value,
                    supplier_id=supplier.id,
                    location_id=location.id,
                    currency=supplier.currency,
                    note=cmd.note,
                    created_by=caller.subject[:100],
                    version=1,
                    updated_at=now,
                )
                .returning(repo.PO.c.id)
            )
        ).scalar_one()
    )
    await session.execute(
        insert(PurchaseOrderLine),
        [
            {
                "tenant_id": caller.tenant_id,
                "purchase_order_id": order_id,
                "product_id": ln.product_id,
                "position": i,
                "quantity": ln.quantity,
                "received": 0,
                "unit_cost": ln.unit_cost,
                "supplier_sku": ln.supplier_sku,
            }
            for i, ln in enumerate(cmd.lines)
        ],
    )
    return await _finish(session, caller, "CREATE", None, order_id)


async def submit(
    session: AsyncSession, caller: Caller, cmd: TransitionPurchaseOrder
) -> PurchaseOrderOutcome:
    """DRAFT → SUBMITTED: opens the approval request the tenant's policies ask for.

    Purchase orders go through the transfers' policies (by units; their
    location-kind conditions never match a supplier) and the same chain of ranks.
    """
    po = await repo.load(session, caller, cmd.id, lock=True)
    require(caller, Permission.STOCK_WRITE, po.location_id, ["id"])
    status = next_status(S(po.status), A.SUBMIT)
    rank = await approvals.required_rank(session, caller, approvals.TRANSFER, po.units, "SUPPLIER")
    request_id = await approvals.open_request(
        session, caller, approvals.PURCHASE_ORDER, po.id, po.units, rank
    )
    await repo.set_status(
        session,
        caller,
        po.id,
        status=status.value,
        submitted_by=caller.subject[:100],
        approval_request_id=request_id,
    )
    return await _finish(session, caller, A.SUBMIT.value, po, po.id)


async def decide(
    session: AsyncSession,
    caller: Caller,
    cmd: TransitionPurchaseOrder,
    decision: approvals.Decision,
) -> PurchaseOrderOutcome:
    """One approver's decision; the last step of the chain approves the order."""
    po = await repo.load(session, caller, cmd.id, lock=True)
    require(caller, Permission.TRANSFERS_APPROVE, None, ["id"])
    action = A.APPROVE if decision is approvals.Decision.APPROVE else A.REJECT
    next_status(S(po.status), action)
    assert po.approval_request_id is not None
    record = await approvals.decide(session, caller, po.approval_request_id, decision, cmd.comment)
    status = next_status(
        S(po.status), action, approved=record.status_after == approvals.ApprovalStatus.APPROVED
    )
    await repo.set_status(session, caller, po.id, status=status.value)
    return await _finish(session, caller, action.value, po, po.id, decision=record)


async def send(
    session: AsyncSession, caller: Caller, cmd: TransitionPurchaseOrder
) -> PurchaseOrderOutcome:
    """APPROVED → SENT: the supplier has it; its lines count as ``incoming`` from now."""
    po = await repo.load(session, caller, cmd.id, lock=True)
    require(caller, Permission.STOCK_WRITE, po.location_id, ["id"])
    status = next_status(S(po.status), A.SEND)
    await repo.move_incoming(
        session, caller, po.location_id, {ln.product_id: ln.quantity for ln in po.lines}
    )
    await repo.set_status(session, caller, po.id, status=status.value, sent_at=datetime.now(UTC))
    return await _finish(session, caller, A.SEND.value, po, po.id)


async def receive(
    session: AsyncSession,
    caller: Caller,
    cmd: ReceivePurchaseOrder,
    *,
    request_id: str | None = None,
) -> PurchaseOrderOutcome:
    """What arrived: RECEIPT movements at the line's unit cost; over-receipt is refused."""
    po = await repo.load(session, caller, cmd.id, lock=True)
    require(caller, Permission.STOCK_WRITE, po.location_id, ["id"])
    next_status(S(po.status), A.RECEIVE)
    if not cmd.lines or len(cmd.lines) > MAX_LINES:
        raise InvalidInput(f"1 to {MAX_LINES} lines", ["lines"])
    _text(cmd.reference, 200, ["reference"])
    products = await products_by_sku(session, caller, [ln.sku for ln in cmd.lines])
    by_product = {ln.product_id: ln for ln in po.lines}
    seen: set[int] = set()
    postings: list[Posting] = []
    received: dict[int, int] = {}
    for i, ln in enumerate(cmd.lines):
        path = ["lines", str(i)]
        line = by_product.get(products[ln.sku].id)
        if line is None:
            raise InvalidInput("this SKU is not on the purchase order", [*path, "sku"])
        if line.product_id in seen:
            raise InvalidInput(f"SKU {ln.sku!r} appears twice", [*path, "sku"])
        seen.add(line.product_id)
        if not 0 < ln.quantity <= MAX_QUANTITY:
            raise InvalidInput("quantity must be positive", [*path, "quantity"])
        if ln.quantity > line.outstanding:
            raise InvalidInput(
                f"only {line.outstanding} of this SKU are still due (no over-receipt)",
                [*path, "quantity"],
            )
        if ln.unit_cost is not None and not (
            Decimal(0) <= ln.unit_cost < Decimal("10000000000")
            and ln.unit_cost == ln.unit_cost.quantize(Decimal("0.0001"))
        ):
            raise InvalidInput(
                "unitCost must be 0 or more, 4 decimals at most", [*path, "unitCost"]
            )
        postings.append(
            Posting(
                location_id=po.location_id,
                product_id=line.product_id,
                kind=MovementKind.RECEIPT,
                delta=ln.quantity,
                reference=cmd.reference or repo.reference(po.id),
                unit_cost=ln.unit_cost if ln.unit_cost is not None else line.unit_cost,
                field=tuple(path),
            )
        )
        received[line.product_id] = line.received + ln.quantity
    change = await post(session, caller, postings, request_id=request_id)
    await repo.move_incoming(
        session,
        caller,
        po.location_id,
        {p: -(r - by_product[p].received) for p, r in received.items()},
    )
    await repo.set_received(session, caller, po.id, received)
    outstanding = po.outstanding - sum(r - by_product[p].received for p, r in received.items())
    status = next_status(S(po.status), A.RECEIVE, outstanding=outstanding)
    await repo.set_status(session, caller, po.id, status=status.value)
    sequences = tuple(m.sequence for m in change.movements)
    return await _finish(session, caller, A.RECEIVE.value, po, po.id, sequences)


async def close(
    session: AsyncSession, caller: Caller, cmd: ClosePurchaseOrder
) -> PurchaseOrderOutcome:
    """Closes a sent order short, with a reason: what did not come leaves ``incoming``."""
    po = await repo.load(session, caller, cmd.id, lock=True)
    require(caller, Permission.STOCK_WRITE, po.location_id, ["id"])
    status = next_status(S(po.status), A.CLOSE)
    _text(cmd.note, 1000, ["note"])
    await repo.move_incoming(
        session, caller, po.location_id, {ln.product_id: -ln.outstanding for ln in po.lines}
    )
    note = po.note if cmd.note is None else cmd.note
    await repo.set_status(
        session, caller, po.id, status=status.value, close_reason=cmd.reason.value, note=note
    )
    return await _finish(session, caller, A.CLOSE.value, po, po.id)


async def cancel(
    session: AsyncSession, caller: Caller, cmd: TransitionPurchaseOrder
) -> PurchaseOrderOutcome:
    """Only before the order is sent."""
    po = await repo.load(session, caller, cmd.id, lock=True)
    if not (
        caller.can(Permission.STOCK_WRITE, po.location_id)
        or caller.has(Permission.TRANSFERS_APPROVE)
    ):
        raise Forbidden("stock:write at the location is required", ["id"])
    _text(cmd.comment, 1000, ["comment"])
    status = next_status(S(po.status), A.CANCEL)
    if po.approval_request_id is not None:
        await approvals.withdraw(session, caller, po.approval_request_id)
    await repo.set_status(session, caller, po.id, status=status.value)
    return await _finish(session, caller, A.CANCEL.value, po, po.id)
