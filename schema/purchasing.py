"""Purchase orders: the types, the inputs and the payloads."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import requires, visible_with
from auth.permissions import Permission
from domain import ids
from domain.purchasing.records import POLineRecord, PurchaseOrderOutcome, PurchaseOrderRecord
from domain.purchasing.repository import reference
from domain.purchasing.service import CloseReason as DomainCloseReason
from domain.purchasing.state import PurchaseOrderStatus as DomainStatus
from schema.approvals import ApprovalRequest
from schema.catalog import CURRENCIES, Money, Product
from schema.errors import UserError
from schema.locations import Location
from schema.relay import Node
from schema.scalars import BigInt
from schema.stock import load_location, load_product
from schema.suppliers import Supplier

COSTS = [requires(Permission.COSTS_READ)]

PurchaseOrderStatus = strawberry.enum(
    DomainStatus,
    name="PurchaseOrderStatus",
    description="DRAFT → SUBMITTED → APPROVED → SENT → PARTIALLY_RECEIVED → RECEIVED, or "
    "CLOSED short with a reason; CANCELLED only before SENT.",
)
PurchaseOrderCloseReason = strawberry.enum(
    DomainCloseReason,
    name="PurchaseOrderCloseReason",
    description="Why a sent order was closed before everything arrived.",
)


@strawberry.type
class PurchaseOrderLine:
    quantity: int = strawberry.field(description="Units ordered.")
    received_quantity: int
    outstanding_quantity: int = strawberry.field(description="Ordered and not yet received.")
    supplier_sku: str | None
    product_pk: strawberry.Private[int]
    _cost: strawberry.Private[Money]

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await load_product(info, self.product_pk)

    @strawberry.field(
        description="Per unit; needs costs:read. Receipts post it on their movements.",
        permission_classes=COSTS,
    )
    def unit_cost(self) -> Money | None:
        return self._cost

    @classmethod
    def from_record(cls, line: POLineRecord, currency: str) -> PurchaseOrderLine:
        return cls(
            quantity=line.quantity,
            received_quantity=line.received,
            outstanding_quantity=line.outstanding,
            supplier_sku=line.supplier_sku,
            product_pk=line.product_id,
            _cost=Money(amount=line.unit_cost, currency=CURRENCIES[currency]),
        )


@visible_with(Permission.STOCK_READ)
@strawberry.type
class PurchaseOrder(Node):
    status: PurchaseOrderStatus  # type: ignore[valid-type]
    reference: str = strawberry.field(description="What its receipt movements carry.")
    currency: str
    note: str | None
    close_reason: PurchaseOrderCloseReason | None  # type: ignore[valid-type]
    created_by: str
    submitted_by: str | None
    version: BigInt
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    sent_at: datetime | None
    pk: strawberry.Private[int]
    supplier_pk: strawberry.Private[int]
    location_pk: strawberry.Private[int]
    approval_pk: strawberry.Private[int | None]
    preloaded: strawberry.Private[tuple[POLineRecord, ...] | None] = None

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field
    async def supplier(self, info: Info) -> Supplier:
        return Supplier.from_row(await info.context.loaders.supplier_by_id.load(self.supplier_pk))

    async def _lines(self, info: Info) -> tuple[POLineRecord, ...]:
        if self.preloaded is not None:
            return self.preloaded
        rows = await info.context.loaders.lines_by_purchase_order.load(self.pk) or []
        return tuple(POLineRecord.from_row(r) for r in rows)

    @strawberry.field
    async def lines(self, info: Info) -> list[PurchaseOrderLine]:
        return [PurchaseOrderLine.from_record(ln, self.currency) for ln in await self._lines(info)]

    @strawberry.field(description="Sum of quantity × unit cost; needs costs:read.")
    async def total(self, info: Info) -> Money | None:
        if not info.context.viewer.has(Permission.COSTS_READ):
            return None
        lines = await self._lines(info)
        amount = sum((ln.unit_cost * ln.quantity for ln in lines), Decimal(0))
        return Money(amount=amount.quantize(Decimal("0.01")), currency=CURRENCIES[self.currency])

    @strawberry.field
    async def approval_request(self, info: Info) -> ApprovalRequest | None:
        if self.approval_pk is None:
            return None
        row = await info.context.loaders.approval_request_by_id.load(self.approval_pk)
        return ApprovalRequest.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: Any) -> PurchaseOrder:
        return cls(
            id=strawberry.ID(ids.encode("PurchaseOrder", row.id)),
            status=DomainStatus(row.status),
            reference=reference(row.id),
            currency=row.currency,
            note=row.note,
            close_reason=DomainCloseReason(row.close_reason) if row.close_reason else None,
            created_by=row.created_by,
            submitted_by=row.submitted_by,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            sent_at=row.sent_at,
            pk=row.id,
            supplier_pk=row.supplier_id,
            location_pk=row.location_id,
            approval_pk=row.approval_request_id,
            preloaded=row.lines if isinstance(row, PurchaseOrderRecord) else None,
        )


@strawberry.type(
    description="The result of approvePurchaseOrder, cancelPurchaseOrder, closePurchaseOrder, "
    "receivePurchaseOrder, rejectPurchaseOrder, sendPurchaseOrder and "
    "submitPurchaseOrder: what changed, or userErrors."
)
class PurchaseOrderPayload:
    purchase_order: PurchaseOrder | None
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def from_outcome(cls, outcome: PurchaseOrderOutcome) -> PurchaseOrderPayload:
        return cls(purchase_order=PurchaseOrder.from_row(outcome.order), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> PurchaseOrderPayload:
        return cls(purchase_order=None, user_errors=errors)


@strawberry.type(description="The result of draftPurchaseOrders: what changed, or userErrors.")
class DraftPurchaseOrdersPayload:
    purchase_orders: list[PurchaseOrder]
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> DraftPurchaseOrdersPayload:
        return cls(purchase_orders=[], user_errors=errors)


@strawberry.input(
    description="The input of approvePurchaseOrder, cancelPurchaseOrder, rejectPurchaseOrder, "
    "sendPurchaseOrder and submitPurchaseOrder."
)
class TransitionPurchaseOrderInput:
    id: strawberry.ID
    comment: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input
class ReceivePurchaseOrderLineInput:
    sku: str
    quantity: int
    unit_cost: Decimal | None = strawberry.field(
        default=None, description="Omitted: the order line's unit cost."
    )


@strawberry.input(description="The input of receivePurchaseOrder.")
class ReceivePurchaseOrderInput:
    id: strawberry.ID
    lines: list[ReceivePurchaseOrderLineInput]
    reference: str | None = strawberry.field(
        default=None, description="The supplier's delivery note; omitted: the order's reference."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of closePurchaseOrder.")
class ClosePurchaseOrderInput:
    id: strawberry.ID
    reason: PurchaseOrderCloseReason  # type: ignore[valid-type]
    note: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of draftPurchaseOrders.")
class DraftPurchaseOrdersInput:
    location_ids: list[strawberry.ID]
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.type(description="A purchase order changed; sequence orders it among events.")
class PurchaseOrderUpdatedEvent:
    sequence: BigInt
    action: str = strawberry.field(
        description="CREATE, SUBMIT, APPROVE, REJECT, SEND, RECEIVE, CLOSE or CANCEL."
    )
    purchase_order: PurchaseOrder
