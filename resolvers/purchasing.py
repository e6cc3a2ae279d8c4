"""Purchase-order operations: arguments → one domain call → schema types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from domain.approvals.service import Decision
from domain.audit.service import AuditEntry
from domain.pagination import page_size
from domain.purchasing import queries
from domain.purchasing import service as svc
from domain.purchasing.records import PurchaseOrderOutcome
from domain.purchasing.state import PurchaseOrderStatus as DomainStatus
from domain.replenishment import decisions
from resolvers._mutation import MutationSpec, run_mutation
from schema.purchasing import (
    ClosePurchaseOrderInput,
    DraftPurchaseOrdersInput,
    DraftPurchaseOrdersPayload,
    HeldPurchaseOrder,
    PurchaseOrder,
    PurchaseOrderPayload,
    ReceivePurchaseOrderInput,
    TransitionPurchaseOrderInput,
)
from schema.relay import After, Connection, First, connection, decode_id, int_cursor

Execute = Callable[[AsyncSession, Caller, str], Awaitable[PurchaseOrderOutcome]]


def audit_entry(action: str, outcome: PurchaseOrderOutcome) -> AuditEntry:
    o = outcome.order
    return AuditEntry(
        action=action,
        target_type="PurchaseOrder",
        target_id=ids.encode("PurchaseOrder", o.id),
        before={"status": outcome.before_status} if outcome.before_status else None,
        after={
            "status": o.status,
            "version": o.version,
            "closeReason": o.close_reason,
            "lines": [{"productId": ln.product_id, "received": ln.received} for ln in o.lines],
            "movementSequences": list(outcome.movement_sequences),
            "decision": outcome.decision.to_json() if outcome.decision else None,
        },
        reason=outcome.decision.comment if outcome.decision else None,
    )


def _spec(action: str) -> MutationSpec:
    return MutationSpec(
        action=action,
        audit=lambda outcome: audit_entry(action, outcome),
        snapshot=lambda outcome: outcome.to_json(),
        restore=PurchaseOrderOutcome.from_json,
    )


SUBMIT = _spec("purchase_order.submit")
APPROVE = _spec("purchase_order.approve")
REJECT = _spec("purchase_order.reject")
SEND = _spec("purchase_order.send")
RECEIVE = _spec("purchase_order.receive")
CLOSE = _spec("purchase_order.close")
CANCEL = _spec("purchase_order.cancel")


def _drafts_json(drafts: decisions.Drafts) -> dict[str, Any]:
    return {
        "outcomes": [o.to_json() for o in drafts.orders],
        "held": [h.to_json() for h in drafts.held],
    }


def _drafts_restored(data: dict[str, Any]) -> decisions.Drafts:
    return decisions.Drafts(
        orders=[PurchaseOrderOutcome.from_json(o) for o in data["outcomes"]],
        held=[decisions.HeldOrder.from_json(h) for h in data.get("held", [])],
    )


DRAFT = MutationSpec(
    action="purchase_order.draft",
    audit=lambda drafts: AuditEntry(
        action="purchase_order.draft",
        target_type="PurchaseOrder",
        after={
            "purchaseOrders": [ids.encode("PurchaseOrder", o.order.id) for o in drafts.orders],
            "units": sum(o.order.units for o in drafts.orders),
            "heldBelowMinimum": [
                {
                    "supplier": ids.encode("Supplier", h.supplier_id),
                    "location": ids.encode("Location", h.location_id),
                    "orderValue": str(h.order_value),
                    "minOrderValue": str(h.min_order_value),
                }
                for h in drafts.held
            ],
        },
    ),
    snapshot=_drafts_json,
    restore=_drafts_restored,
)


async def _run(
    info: Info, spec: MutationSpec, input: Any, execute: Execute
) -> PurchaseOrderPayload:
    return await run_mutation(
        info, spec, PurchaseOrderPayload, input, execute, PurchaseOrderPayload.from_outcome
    )


def _id(value: strawberry.ID) -> int:
    return decode_id(value, "PurchaseOrder", ["id"])


def _transition(
    spec: MutationSpec,
    call: Callable[
        [AsyncSession, Caller, svc.TransitionPurchaseOrder], Awaitable[PurchaseOrderOutcome]
    ],
) -> Callable[[Info, TransitionPurchaseOrderInput], Awaitable[PurchaseOrderPayload]]:
    async def resolver(
        info: Info,
        input: Annotated[
            TransitionPurchaseOrderInput,
            strawberry.argument(description="What to do; see TransitionPurchaseOrderInput."),
        ],
    ) -> PurchaseOrderPayload:
        async def execute(session: AsyncSession, caller: Caller, _: str) -> PurchaseOrderOutcome:
            cmd = svc.TransitionPurchaseOrder(id=_id(input.id), comment=input.comment)
            return await call(session, caller, cmd)

        return await _run(info, spec, input, execute)

    return resolver


async def _approve(
    session: AsyncSession, caller: Caller, cmd: svc.TransitionPurchaseOrder
) -> PurchaseOrderOutcome:
    return await svc.decide(session, caller, cmd, Decision.APPROVE)


async def _reject(
    session: AsyncSession, caller: Caller, cmd: svc.TransitionPurchaseOrder
) -> PurchaseOrderOutcome:
    return await svc.decide(session, caller, cmd, Decision.REJECT)


submit_purchase_order = _transition(SUBMIT, svc.submit)
approve_purchase_order = _transition(APPROVE, _approve)
reject_purchase_order = _transition(REJECT, _reject)
send_purchase_order = _transition(SEND, svc.send)
cancel_purchase_order = _transition(CANCEL, svc.cancel)


async def receive_purchase_order(
    info: Info,
    input: Annotated[
        ReceivePurchaseOrderInput,
        strawberry.argument(description="What to do; see ReceivePurchaseOrderInput."),
    ],
) -> PurchaseOrderPayload:
    async def execute(
        session: AsyncSession, caller: Caller, request_id: str
    ) -> PurchaseOrderOutcome:
        cmd = svc.ReceivePurchaseOrder(
            id=_id(input.id),
            lines=tuple(svc.ReceiveLine(ln.sku, ln.quantity, ln.unit_cost) for ln in input.lines),
            reference=input.reference,
        )
        return await svc.receive(session, caller, cmd, request_id=request_id)

    return await _run(info, RECEIVE, input, execute)


async def close_purchase_order(
    info: Info,
    input: Annotated[
        ClosePurchaseOrderInput,
        strawberry.argument(description="What to do; see ClosePurchaseOrderInput."),
    ],
) -> PurchaseOrderPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> PurchaseOrderOutcome:
        cmd = svc.ClosePurchaseOrder(id=_id(input.id), reason=input.reason, note=input.note)
        return await svc.close(session, caller, cmd)

    return await _run(info, CLOSE, input, execute)


async def draft_purchase_orders(
    info: Info,
    input: Annotated[
        DraftPurchaseOrdersInput,
        strawberry.argument(description="What to do; see DraftPurchaseOrdersInput."),
    ],
) -> DraftPurchaseOrdersPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> decisions.Drafts:
        locations = tuple(
            decode_id(gid, "Location", ["locationIds", str(i)])
            for i, gid in enumerate(input.location_ids)
        )
        return await decisions.draft_purchase_orders(
            session, caller, locations, input.allow_below_minimum
        )

    return await run_mutation(
        info,
        DRAFT,
        DraftPurchaseOrdersPayload,
        input,
        execute,
        lambda drafts: DraftPurchaseOrdersPayload(
            purchase_orders=[PurchaseOrder.from_row(o.order) for o in drafts.orders],
            held_orders=[HeldPurchaseOrder.from_held(h) for h in drafts.held],
            user_errors=[],
        ),
    )


async def purchase_order(
    info: Info,
    id: Annotated[
        strawberry.ID, strawberry.argument(description="The purchase order's global ID.")
    ],
) -> PurchaseOrder | None:
    pk = decode_id(id, "PurchaseOrder", ["id"])
    row = await info.context.loaders.purchase_order_by_id.load(pk)
    return PurchaseOrder.from_row(row) if row is not None else None


async def purchase_orders(
    info: Info,
    first: First = None,
    after: After = None,
    status: Annotated[
        DomainStatus | None, strawberry.argument(description="Only orders in this status.")
    ] = None,
    location_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only orders delivering to this location."),
    ] = None,
) -> Connection[PurchaseOrder]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    loc = None
    if location_id is not None:
        loc = decode_id(location_id, "Location", ["locationId"])
    db = info.context.db
    async with db.tenant_transaction(caller.tenant_id) as session:
        page = await queries.list_orders(
            session, caller, limit=limit, after=cursor, status=status, location_id=loc
        )

    async def count() -> int:
        async with db.tenant_transaction(caller.tenant_id) as s:
            return await queries.count_orders(s, caller, status, loc)

    return connection(page, PurchaseOrder.from_row, lambda r: r.id, count)
