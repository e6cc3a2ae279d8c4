"""Transfers: create, request, approve or reject, ship, receive, resolve, cancel.

Every command locks the transfer row first (so two commands on one transfer
run one after the other and see each other's result), then any approval
request, then — through ``domain.stock.ledger.post`` — the stock levels, and
takes its event sequence last: the lock order of every writer is idempotency
key → transfer → approval request → levels → tenant counter.

Units are conserved: shipping moves units from the source's on hand to the
destination's in transit; receiving moves them into the destination's on hand
(rejected units arrive and leave again as DAMAGE); resolving a shortfall books
it as a reason-coded loss. So for every transfer line ``shipped = received +
rejected + missing_resolved + outstanding`` and the destination's in transit
is the sum of the outstanding units of its open transfers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Location, TransferLine
from domain.access import require
from domain.approvals import service as approvals
from domain.catalog.lookup import location_row, products_by_sku
from domain.errors import Forbidden, InvalidInput
from domain.stock.ledger import Posting, post
from domain.stock.records import AdjustmentReason, MovementKind
from domain.transfers import repository as repo
from domain.transfers.records import TransferOutcome, TransferRecord
from domain.transfers.state import TransferAction, TransferStatus, next_status
from domain.valuation.transfers import remember_shipped_costs, shipped_costs

MAX_LINES = 500
MAX_QUANTITY = 1_000_000
A = TransferAction
S = TransferStatus


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class CreateTransfer:
    from_location_id: int | None
    to_location_id: int | None
    lines: tuple[Line, ...]
    note: str | None = None
    submit: bool = True


@dataclass(frozen=True, slots=True)
class TransitionTransfer:
    id: int | None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ShipTransfer:
    id: int | None
    lines: tuple[Line, ...] | None = None


@dataclass(frozen=True, slots=True)
class ReceiveLine:
    sku: str
    quantity: int
    rejected_quantity: int = 0
    rejection_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiveTransfer:
    id: int | None
    lines: tuple[ReceiveLine, ...]


@dataclass(frozen=True, slots=True)
class ResolveLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ResolveDiscrepancy:
    id: int | None
    lines: tuple[ResolveLine, ...]
    reason: AdjustmentReason
    note: str | None = None


def _can_write_either(caller: Caller, t: TransferRecord) -> bool:
    return caller.can(Permission.TRANSFERS_WRITE, t.from_location_id) or caller.can(
        Permission.TRANSFERS_WRITE, t.to_location_id
    )


def _require_either(caller: Caller, t: TransferRecord) -> None:
    if not _can_write_either(caller, t):
        require(caller, Permission.TRANSFERS_WRITE, t.from_location_id, ["id"])


def _text(value: str | None, limit: int, path: list[str]) -> None:
    if value is not None and len(value) > limit:
        raise InvalidInput(f"{path[-1]} must be at most {limit} characters", path)


def _lines(count: int) -> None:
    if count == 0:
        raise InvalidInput("at least one line is required", ["lines"])
    if count > MAX_LINES:
        raise InvalidInput(f"at most {MAX_LINES} lines", ["lines"])


def _unique(skus: list[str]) -> None:
    seen: set[str] = set()
    for i, sku in enumerate(skus):
        if sku in seen:
            raise InvalidInput(f"SKU {sku!r} appears twice", ["lines", str(i), "sku"])
        seen.add(sku)


async def _finish(
    session: AsyncSession,
    caller: Caller,
    action: str,
    before: TransferRecord | None,
    transfer_id: int,
    sequences: tuple[int, ...] = (),
    decision: approvals.DecisionRecord | None = None,
) -> TransferOutcome:
    after = await repo.load(session, caller, transfer_id)
    await repo.publish(session, caller, after, action)
    return TransferOutcome(
        action=action,
        before_status=before.status if before else None,
        transfer=after,
        movement_sequences=sequences,
        decision=decision,
    )


async def create_transfer(
    session: AsyncSession, caller: Caller, cmd: CreateTransfer
) -> TransferOutcome:
    """A DRAFT (or, with ``submit``, a REQUESTED transfer waiting for approval)."""
    source = await location_row(session, caller, cmd.from_location_id, ["fromLocationId"])
    target = await location_row(session, caller, cmd.to_location_id, ["toLocationId"])
    if not (
        caller.can(Permission.TRANSFERS_WRITE, source.id)
        or caller.can(Permission.TRANSFERS_WRITE, target.id)
    ):
        require(caller, Permission.TRANSFERS_WRITE, source.id, ["fromLocationId"])
    if source.id == target.id:
        raise InvalidInput("a transfer needs two different locations", ["toLocationId"])
    _lines(len(cmd.lines))
    _text(cmd.note, 1000, ["note"])
    _unique([ln.sku for ln in cmd.lines])
    for i, ln in enumerate(cmd.lines):
        if not 0 < ln.quantity <= MAX_QUANTITY:
            raise InvalidInput(
                f"quantity must be 1 to {MAX_QUANTITY}", ["lines", str(i), "quantity"]
            )
    products = await products_by_sku(session, caller, [ln.sku for ln in cmd.lines])
    now = datetime.now(UTC)
    transfer_id = int(
        (
            await session.execute(
                insert(repo.T)
                .values(
                    tenant_id=caller.tenant_id,
                    status=S.DRAFT.value,
                    from_location_id=source.id,
                    to_location_id=target.id,
                    note=cmd.note,
                    created_by=caller.subject,
                    version=1,
                    updated_at=now,
                )
                .returning(repo.T.c.id)
            )
        ).scalar_one()
    )
    await session.execute(
        insert(TransferLine),
        [
            {
                "tenant_id": caller.tenant_id,
                "transfer_id": transfer_id,
                "product_id": products[ln.sku].id,
                "position": i,
                "quantity": ln.quantity,
                "shipped": 0,
                "received": 0,
                "rejected": 0,
                "missing_resolved": 0,
            }
            for i, ln in enumerate(cmd.lines)
        ],
    )
    if cmd.submit:
        draft = await repo.load(session, caller, transfer_id, lock=True)
        await _request(session, caller, draft, source.kind)
    return await _finish(session, caller, "CREATE", None, transfer_id)


async def _request(
    session: AsyncSession, caller: Caller, t: TransferRecord, from_kind: str
) -> None:
    status = next_status(S(t.status), A.REQUEST)
    rank = await approvals.required_rank(session, caller, approvals.TRANSFER, t.units, from_kind)
    request_id = await approvals.open_request(
        session, caller, approvals.TRANSFER, t.id, t.units, rank
    )
    await repo.set_status(
        session,
        caller,
        t.id,
        status=status.value,
        requested_by=caller.subject,
        approval_request_id=request_id,
    )


async def request_transfer(
    session: AsyncSession, caller: Caller, cmd: TransitionTransfer
) -> TransferOutcome:
    """DRAFT → REQUESTED: opens the approval request the tenant's policy asks for."""
    t = await repo.load(session, caller, cmd.id, lock=True)
    _require_either(caller, t)
    next_status(S(t.status), A.REQUEST)
    kind = (
        await session.execute(
            select(Location.kind).where(
                Location.tenant_id == caller.tenant_id, Location.id == t.from_location_id
            )
        )
    ).scalar_one()
    await _request(session, caller, t, kind)
    return await _finish(session, caller, A.REQUEST.value, t, t.id)


async def decide_transfer(
    session: AsyncSession, caller: Caller, cmd: TransitionTransfer, decision: approvals.Decision
) -> TransferOutcome:
    """One approver's decision; the last step of the chain approves the transfer."""
    t = await repo.load(session, caller, cmd.id, lock=True)
    require(caller, Permission.TRANSFERS_APPROVE, None, ["id"])
    action = A.APPROVE if decision is approvals.Decision.APPROVE else A.REJECT
    next_status(S(t.status), action)
    assert t.approval_request_id is not None
    record = await approvals.decide(session, caller, t.approval_request_id, decision, cmd.comment)
    status = next_status(
        S(t.status), action, approved=record.status_after == approvals.ApprovalStatus.APPROVED
    )
    await repo.set_status(session, caller, t.id, status=status.value)
    return await _finish(session, caller, action.value, t, t.id, decision=record)


async def cancel_transfer(
    session: AsyncSession, caller: Caller, cmd: TransitionTransfer
) -> TransferOutcome:
    """Before the goods leave only; afterwards they come back by a transfer the other way."""
    t = await repo.load(session, caller, cmd.id, lock=True)
    if not (_can_write_either(caller, t) or caller.has(Permission.TRANSFERS_APPROVE)):
        raise Forbidden("transfers:write at either location is required", ["id"])
    _text(cmd.comment, 1000, ["comment"])
    status = next_status(S(t.status), A.CANCEL)
    if t.approval_request_id is not None:
        await approvals.withdraw(session, caller, t.approval_request_id)
    await repo.set_status(session, caller, t.id, status=status.value)
    return await _finish(session, caller, A.CANCEL.value, t, t.id)


async def ship_transfer(
    session: AsyncSession, caller: Caller, cmd: ShipTransfer, *, request_id: str | None = None
) -> TransferOutcome:
    """APPROVED → IN_TRANSIT: TRANSFER_OUT at the source, in transit up at the destination."""
    t = await repo.load(session, caller, cmd.id, lock=True)
    require(caller, Permission.TRANSFERS_WRITE, t.from_location_id, ["id"])
    status = next_status(S(t.status), A.SHIP)
    by_product = {ln.product_id: ln for ln in t.lines}
    if cmd.lines is None:
        shipping = {ln.product_id: ln.quantity for ln in t.lines}
    else:
        _lines(len(cmd.lines))
        _unique([ln.sku for ln in cmd.lines])
        products = await products_by_sku(session, caller, [ln.sku for ln in cmd.lines])
        shipping = {}
        for i, ln in enumerate(cmd.lines):
            line = by_product.get(products[ln.sku].id)
            if line is None:
                raise InvalidInput("this SKU is not on the transfer", ["lines", str(i), "sku"])
            if not 0 <= ln.quantity <= line.quantity:
                raise InvalidInput(
                    f"quantity must be 0 to {line.quantity}", ["lines", str(i), "quantity"]
                )
            shipping[line.product_id] = ln.quantity
    shipping = {p: q for p, q in shipping.items() if q > 0}
    if not shipping:
        raise InvalidInput("nothing to ship", ["lines"])
    ref = repo.reference(t.id)
    postings = [
        Posting(
            location_id=t.from_location_id,
            product_id=ln.product_id,
            kind=MovementKind.TRANSFER_OUT,
            delta=-shipping[ln.product_id],
            reference=ref,
            field=("lines", str(i)),
        )
        for i, ln in enumerate(t.lines)
        if ln.product_id in shipping
    ]
    change = await post(
        session,
        caller,
        postings,
        request_id=request_id,
        in_transit={(t.to_location_id, p): q for p, q in shipping.items()},
    )
    for product_id, quantity in shipping.items():
        await repo.set_line(session, caller, t.id, product_id, shipped=quantity)
    await remember_shipped_costs(session, caller, t.id, change.movements)
    await repo.set_status(session, caller, t.id, status=status.value)
    sequences = tuple(m.sequence for m in change.movements)
    return await _finish(session, caller, A.SHIP.value, t, t.id, sequences)


async def receive_transfer(
    session: AsyncSession, caller: Caller, cmd: ReceiveTransfer, *, request_id: str | None = None
) -> TransferOutcome:
    """What arrived: TRANSFER_IN at the destination; rejected units go out again as DAMAGE.

    Whatever is not received stays in transit (missing) until a later receipt or
    ``resolve_discrepancy``.
    """
    t = await repo.load(session, caller, cmd.id, lock=True)
    require(caller, Permission.TRANSFERS_WRITE, t.to_location_id, ["id"])
    next_status(S(t.status), A.RECEIVE)
    _lines(len(cmd.lines))
    _unique([ln.sku for ln in cmd.lines])
    products = await products_by_sku(session, caller, [ln.sku for ln in cmd.lines])
    by_product = {ln.product_id: ln for ln in t.lines}
    ref = repo.reference(t.id)
    carried = await shipped_costs(session, caller, t.id)
    postings: list[Posting] = []
    transit: dict[tuple[int, int], int] = {}
    updates: dict[int, dict[str, object]] = {}
    for i, ln in enumerate(cmd.lines):
        path = ["lines", str(i)]
        line = by_product.get(products[ln.sku].id)
        if line is None:
            raise InvalidInput("this SKU is not on the transfer", [*path, "sku"])
        if ln.quantity < 0 or ln.rejected_quantity < 0:
            raise InvalidInput("quantities cannot be negative", [*path, "quantity"])
        arrived = ln.quantity + ln.rejected_quantity
        if arrived > line.outstanding:
            raise InvalidInput(
                f"only {line.outstanding} of this SKU are still in transit", [*path, "quantity"]
            )
        _text(ln.rejection_reason, 500, [*path, "rejectionReason"])
        if arrived == 0:
            continue
        key = (t.to_location_id, line.product_id)
        transit[key] = -arrived
        postings.append(
            Posting(
                location_id=t.to_location_id,
                product_id=line.product_id,
                kind=MovementKind.TRANSFER_IN,
                delta=arrived,
                reference=ref,
                unit_cost=carried.get(line.product_id),
                field=tuple(path),
            )
        )
        if ln.rejected_quantity:
            postings.append(
                Posting(
                    location_id=t.to_location_id,
                    product_id=line.product_id,
                    kind=MovementKind.DAMAGE,
                    delta=-ln.rejected_quantity,
                    reason=AdjustmentReason.DAMAGE.value,
                    note=ln.rejection_reason,
                    reference=ref,
                    allow_negative=True,  # the units arrived in this same posting
                    field=tuple(path),
                )
            )
        updates[line.product_id] = {
            "received": line.received + ln.quantity,
            "rejected": line.rejected + ln.rejected_quantity,
            "rejection_reason": ln.rejection_reason or line.rejection_reason,
        }
    if not postings:
        raise InvalidInput("nothing received", ["lines"])
    change = await post(session, caller, postings, request_id=request_id, in_transit=transit)
    for product_id, values in updates.items():
        await repo.set_line(session, caller, t.id, product_id, **values)
    outstanding = t.outstanding - sum(-d for d in transit.values())
    status = next_status(S(t.status), A.RECEIVE, outstanding=outstanding)
    await repo.set_status(session, caller, t.id, status=status.value)
    sequences = tuple(m.sequence for m in change.movements)
    return await _finish(session, caller, A.RECEIVE.value, t, t.id, sequences)


async def resolve_discrepancy(
    session: AsyncSession,
    caller: Caller,
    cmd: ResolveDiscrepancy,
    *,
    request_id: str | None = None,
) -> TransferOutcome:
    """Write off missing units as a reason-coded loss: out of transit, into the ledger.

    The units are booked in (TRANSFER_IN) and straight out again (an ADJUSTMENT,
    or DAMAGE, with the reason) at the destination in one posting: on hand is
    unchanged, in transit drops, and the loss is a ledger row pointing at the
    transfer.
    """
    t = await repo.load(session, caller, cmd.id, lock=True)
    require(caller, Permission.TRANSFERS_WRITE, t.to_location_id, ["id"])
    next_status(S(t.status), A.RESOLVE)
    if cmd.reason is AdjustmentReason.FOUND:
        raise InvalidInput("units that turned up are received, not resolved", ["reason"])
    _lines(len(cmd.lines))
    _unique([ln.sku for ln in cmd.lines])
    _text(cmd.note, 1000, ["note"])
    products = await products_by_sku(session, caller, [ln.sku for ln in cmd.lines])
    by_product = {ln.product_id: ln for ln in t.lines}
    ref = repo.reference(t.id)
    loss = MovementKind.DAMAGE if cmd.reason is AdjustmentReason.DAMAGE else MovementKind.ADJUSTMENT
    carried = await shipped_costs(session, caller, t.id)
    postings: list[Posting] = []
    transit: dict[tuple[int, int], int] = {}
    for i, ln in enumerate(cmd.lines):
        path = ("lines", str(i))
        line = by_product.get(products[ln.sku].id)
        if line is None:
            raise InvalidInput("this SKU is not on the transfer", [*path, "sku"])
        if not 0 < ln.quantity <= line.outstanding:
            raise InvalidInput(
                f"quantity must be 1 to {line.outstanding} (still in transit)",
                [*path, "quantity"],
            )
        transit[(t.to_location_id, line.product_id)] = -ln.quantity
        postings.append(
            Posting(
                location_id=t.to_location_id,
                product_id=line.product_id,
                kind=MovementKind.TRANSFER_IN,
                delta=ln.quantity,
                reference=ref,
                unit_cost=carried.get(line.product_id),
                field=path,
            )
        )
        postings.append(
            Posting(
                location_id=t.to_location_id,
                product_id=line.product_id,
                kind=loss,
                delta=-ln.quantity,
                reason=cmd.reason.value,
                note=cmd.note,
                reference=ref,
                allow_negative=True,
                field=path,
            )
        )
    change = await post(session, caller, postings, request_id=request_id, in_transit=transit)
    for ln in cmd.lines:
        line = by_product[products[ln.sku].id]
        await repo.set_line(
            session,
            caller,
            t.id,
            line.product_id,
            missing_resolved=line.missing_resolved + ln.quantity,
            resolution_reason=cmd.reason.value,
        )
    outstanding = t.outstanding - sum(ln.quantity for ln in cmd.lines)
    status = next_status(S(t.status), A.RESOLVE, outstanding=outstanding)
    await repo.set_status(session, caller, t.id, status=status.value)
    sequences = tuple(m.sequence for m in change.movements)
    return await _finish(session, caller, A.RESOLVE.value, t, t.id, sequences)
