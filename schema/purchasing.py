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
from domain.replenishment.decisions import HeldOrder
from schema.approvals import ApprovalRequest
from schema.catalog import CURRENCIES, Money, Product
from schema.describe import enum_values
from schema.errors import UserError
from schema.locations import Location
from schema.relay import Node
from schema.scalars import BigInt
from schema.stock import load_location, load_product
from schema.suppliers import Supplier

COSTS = [requires(Permission.COSTS_READ)]

PurchaseOrderStatus = enum_values(
    DRAFT="Being prepared (drafted from accepted replenishment suggestions); may be edited.",
    SUBMITTED="Waiting for approval (transfers:approve).",
    APPROVED="Approved; may be sent to the supplier.",
    SENT="Sent: its units count as incoming at the location.",
    PARTIALLY_RECEIVED="Some units have arrived; the rest are still incoming.",
    RECEIVED="Everything ordered has arrived.",
    CLOSED="Closed short with a reason: what had not arrived is no longer incoming.",
    CANCELLED="Cancelled or rejected before it was sent.",
)(
    strawberry.enum(
        DomainStatus,
        name="PurchaseOrderStatus",
        description="DRAFT → SUBMITTED → APPROVED → SENT → PARTIALLY_RECEIVED → RECEIVED, or "
        "CLOSED short with a reason; CANCELLED only before SENT.",
    )
)
PurchaseOrderCloseReason = enum_values(
    SUPPLIER_SHORT="The supplier cannot deliver the rest.",
    DISCONTINUED="The product is discontinued.",
    DAMAGED_REFUSED="The rest arrived damaged and was refused.",
    NO_LONGER_NEEDED="The rest is no longer wanted.",
    OTHER="Anything else; say what in the note.",
)(
    strawberry.enum(
        DomainCloseReason,
        name="PurchaseOrderCloseReason",
        description="Why a sent order was closed before everything arrived.",
    )
)


@strawberry.type(description="One product ordered and how much of it has arrived.")
class PurchaseOrderLine:
    quantity: int = strawberry.field(description="Units ordered.")
    received_quantity: int = strawberry.field(description="Units received so far.")
    outstanding_quantity: int = strawberry.field(description="Ordered and not yet received.")
    supplier_sku: str | None = strawberry.field(
        description="The supplier's own code for the product, if known."
    )
    product_pk: strawberry.Private[int]
    _cost: strawberry.Private[Money]

    @strawberry.field(description="The product.")
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
@strawberry.type(
    description="An order to one supplier for delivery to one location. Sending it adds its "
    "units to the location's incoming; receipts post RECEIPT movements at the "
    "line's unit cost."
)
class PurchaseOrder(Node):
    status: PurchaseOrderStatus = strawberry.field(description="Where the order is in its life.")  # type: ignore[valid-type]
    reference: str = strawberry.field(description="What its receipt movements carry.")
    currency: str = strawberry.field(
        description="The supplier's currency, in which the unit costs are (ISO 4217, e.g. HKD)."
    )
    note: str | None = strawberry.field(description="Free text.")
    close_reason: PurchaseOrderCloseReason | None = strawberry.field(  # type: ignore[valid-type]
        description="Why it was closed short; null unless CLOSED."
    )
    created_by: str = strawberry.field(
        description='Who drafted it, as a stored subject ("staff:<id>", "app:<client id>" '
        'or "system").'
    )
    submitted_by: str | None = strawberry.field(
        description="Who submitted it for approval, as a stored subject; null while a DRAFT."
    )
    version: BigInt = strawberry.field(
        description="Increases with every change; compare it to detect changes."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    sent_at: datetime | None = strawberry.field(
        description="When it was sent to the supplier; null before."
    )
    pk: strawberry.Private[int]
    supplier_pk: strawberry.Private[int]
    location_pk: strawberry.Private[int]
    approval_pk: strawberry.Private[int | None]
    preloaded: strawberry.Private[tuple[POLineRecord, ...] | None] = None

    @strawberry.field(description="Where the goods are to be delivered.")
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field(description="Who supplies the goods.")
    async def supplier(self, info: Info) -> Supplier:
        return Supplier.from_row(await info.context.loaders.supplier_by_id.load(self.supplier_pk))

    async def _lines(self, info: Info) -> tuple[POLineRecord, ...]:
        if self.preloaded is not None:
            return self.preloaded
        rows = await info.context.loaders.lines_by_purchase_order.load(self.pk) or []
        return tuple(POLineRecord.from_row(r) for r in rows)

    @strawberry.field(description="The products ordered, in order.")
    async def lines(self, info: Info) -> list[PurchaseOrderLine]:
        return [PurchaseOrderLine.from_record(ln, self.currency) for ln in await self._lines(info)]

    @strawberry.field(description="Sum of quantity × unit cost; needs costs:read.")
    async def total(self, info: Info) -> Money | None:
        if not info.context.viewer.has(Permission.COSTS_READ):
            return None
        lines = await self._lines(info)
        amount = sum((ln.unit_cost * ln.quantity for ln in lines), Decimal(0))
        return Money(amount=amount.quantize(Decimal("0.01")), currency=CURRENCIES[self.currency])

    @strawberry.field(
        description="True when the order comes to less than its supplier's minimum order "
        "value (drafted with allowBelowMinimum, or the minimum was raised since)."
    )
    async def below_minimum_order(self, info: Info) -> bool:
        supplier = await info.context.loaders.supplier_by_id.load(self.supplier_pk)
        lines = await self._lines(info)
        amount = sum((ln.unit_cost * ln.quantity for ln in lines), Decimal(0))
        return supplier is not None and amount < supplier.min_order_value

    @strawberry.field(description="The approval it waits for or got; null before it is submitted.")
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
    purchase_order: PurchaseOrder | None = strawberry.field(
        description="The order after the change; null when refused."
    )
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


@strawberry.type(
    description="Accepted purchases not drafted: together they come to less than the "
    "supplier's minimum order value. They stay accepted (and count as on the way) until more "
    "is accepted for the same supplier and location, or they are drafted with "
    "allowBelowMinimum."
)
class HeldPurchaseOrder:
    lines: int = strawberry.field(description="Products it would order.")
    units: int = strawberry.field(description="Units it would order.")
    min_order_value: Money = strawberry.field(description="The supplier's minimum order value.")
    location_pk: strawberry.Private[int]
    supplier_pk: strawberry.Private[int]
    supplier_code: strawberry.Private[str]
    _value: strawberry.Private[Money]
    _shortfall: strawberry.Private[Money]

    @strawberry.field(description="Where the goods would go.")
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field(description="Whom it would be ordered from.")
    async def supplier(self, info: Info) -> Supplier:
        return Supplier.from_row(await info.context.loaders.supplier_by_id.load(self.supplier_pk))

    @strawberry.field(
        description="Sum of quantity × unit cost; needs costs:read.", permission_classes=COSTS
    )
    def order_value(self) -> Money | None:
        return self._value

    @strawberry.field(
        description="How much more the order needs; needs costs:read.", permission_classes=COSTS
    )
    def shortfall(self) -> Money | None:
        return self._shortfall

    @strawberry.field(description="Why it was held, in one line.")
    def explanation(self) -> str:
        minimum = self.min_order_value
        return (
            f"Not drafted: {self.lines} product(s), {self.units} unit(s) for "
            f"supplier {self.supplier_code} come to less than its minimum order of "
            f"{minimum.currency.value} {minimum.amount}. Accept more for this supplier and "
            "location, or draft with allowBelowMinimum: true."
        )

    @classmethod
    def from_held(cls, held: HeldOrder) -> HeldPurchaseOrder:
        currency = CURRENCIES[held.currency]
        return cls(
            lines=held.lines,
            units=held.units,
            min_order_value=Money(amount=held.min_order_value, currency=currency),
            location_pk=held.location_id,
            supplier_pk=held.supplier_id,
            supplier_code=held.supplier_code,
            _value=Money(amount=held.order_value, currency=currency),
            _shortfall=Money(amount=held.shortfall, currency=currency),
        )


@strawberry.type(description="The result of draftPurchaseOrders: what changed, or userErrors.")
class DraftPurchaseOrdersPayload:
    purchase_orders: list[PurchaseOrder] = strawberry.field(
        description="The DRAFT orders made, one per supplier and location; empty when "
        "refused or when nothing was accepted."
    )
    held_orders: list[HeldPurchaseOrder] = strawberry.field(
        description="Orders not drafted because they are below the supplier's minimum order "
        "value (see HeldPurchaseOrder); empty with allowBelowMinimum."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> DraftPurchaseOrdersPayload:
        return cls(purchase_orders=[], held_orders=[], user_errors=errors)


@strawberry.input(
    description="The input of approvePurchaseOrder, cancelPurchaseOrder, rejectPurchaseOrder, "
    "sendPurchaseOrder and submitPurchaseOrder."
)
class TransitionPurchaseOrderInput:
    id: strawberry.ID = strawberry.field(
        description="The purchase order's global ID. Submit, send and cancel need "
        "stock:write at its location; approve and reject need "
        "transfers:approve."
    )
    comment: str | None = strawberry.field(
        default=None,
        description="Why, for approvals, rejections and cancellations; kept in the audit trail.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="What arrived of one product.")
class ReceivePurchaseOrderLineInput:
    sku: str = strawberry.field(description="The product's SKU; must be on the order.")
    quantity: int = strawberry.field(description="Units received, at least 1.")
    unit_cost: Decimal | None = strawberry.field(
        default=None, description="Omitted: the order line's unit cost."
    )


@strawberry.input(description="The input of receivePurchaseOrder.")
class ReceivePurchaseOrderInput:
    id: strawberry.ID = strawberry.field(
        description="The purchase order's global ID (SENT or PARTIALLY_RECEIVED); needs "
        "stock:write at its location."
    )
    lines: list[ReceivePurchaseOrderLineInput] = strawberry.field(
        description="What arrived, per SKU; may be partial, and may come in several receipts."
    )
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
    id: strawberry.ID = strawberry.field(
        description="The purchase order's global ID (SENT or PARTIALLY_RECEIVED); needs "
        "stock:write at its location."
    )
    reason: PurchaseOrderCloseReason = strawberry.field(description="Why the rest will not come.")  # type: ignore[valid-type]
    note: str | None = strawberry.field(default=None, description="Free text.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of draftPurchaseOrders.")
class DraftPurchaseOrdersInput:
    location_ids: list[strawberry.ID] = strawberry.field(
        description="The locations (Location IDs) whose accepted replenishment suggestions "
        "to order; needs stock:write at each."
    )
    allow_below_minimum: bool = strawberry.field(
        default=False,
        description="Draft orders below their supplier's minimum order value too (they say "
        "belowMinimumOrder); by default they are held.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.type(description="A purchase order changed; sequence orders it among events.")
class PurchaseOrderUpdatedEvent:
    sequence: BigInt = strawberry.field(
        description="The event's position in the tenant's event stream; pass the last one "
        "seen as afterSequence when reconnecting."
    )
    action: str = strawberry.field(
        description="CREATE, SUBMIT, APPROVE, REJECT, SEND, RECEIVE, CLOSE or CANCEL."
    )
    purchase_order: PurchaseOrder = strawberry.field(description="The order as it is now.")
