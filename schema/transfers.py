"""Transfers between locations: the types, the inputs and the payload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from domain.transfers.records import LineRecord, TransferOutcome, TransferRecord
from domain.transfers.repository import reference
from domain.transfers.state import TransferStatus as DomainStatus
from schema.approvals import ApprovalRequest
from schema.catalog import Product, loaded_product
from schema.describe import enum_values
from schema.errors import UserError
from schema.loading import READS, compiled_type
from schema.locations import Location, loaded_location
from schema.relay import Node
from schema.scalars import BigInt
from schema.stock import AdjustmentReason

TransferStatus = enum_values(
    DRAFT="Being prepared; nothing reserved or moved. requestTransfer sends it for approval.",
    REQUESTED="Waiting for approval (see approvalRequest).",
    APPROVED="Approved; may be shipped.",
    IN_TRANSIT="Shipped: the units left the source (TRANSFER_OUT) and count as "
    "inTransit at the destination.",
    PARTIALLY_RECEIVED="Some shipped units are received, rejected or resolved; others are "
    "still outstanding.",
    RECEIVED="Every shipped unit is received, rejected or resolved.",
    CANCELLED="Cancelled or rejected before shipping; nothing moved.",
)(
    strawberry.enum(
        DomainStatus,
        name="TransferStatus",
        description="DRAFT → REQUESTED → APPROVED → IN_TRANSIT → PARTIALLY_RECEIVED → RECEIVED; "
        "CANCELLED from any state before IN_TRANSIT.",
    )
)


@compiled_type
@strawberry.type(description="One product of a transfer and how far it has got.")
class TransferLine:
    quantity: int = strawberry.field(description="Units requested.")
    shipped_quantity: int = strawberry.field(
        description="Units shipped (0 before shipping; may be less than requested)."
    )
    received_quantity: int = strawberry.field(description="Units accepted at the destination.")
    rejected_quantity: int = strawberry.field(description="Units that arrived damaged (DAMAGE).")
    rejection_reason: str | None = strawberry.field(
        description="Why units were rejected on arrival, if any were."
    )
    resolved_quantity: int = strawberry.field(
        description="Missing units written off with a reason-coded adjustment."
    )
    resolution_reason: str | None = strawberry.field(
        description="The AdjustmentReason of the units written off as missing, if any were."
    )
    missing_quantity: int = strawberry.field(
        description="Shipped and not yet received, rejected or resolved: still in transit."
    )
    product_pk: strawberry.Private[int]

    product: Product = loaded_product("product_pk", "The product.")

    @classmethod
    def from_row(cls, row: Any) -> TransferLine:
        line = row if isinstance(row, LineRecord) else LineRecord.from_row(row)
        return cls(
            quantity=line.quantity,
            shipped_quantity=line.shipped,
            received_quantity=line.received,
            rejected_quantity=line.rejected,
            rejection_reason=line.rejection_reason,
            resolved_quantity=line.missing_resolved,
            resolution_reason=line.resolution_reason,
            missing_quantity=line.outstanding,
            product_pk=line.product_id,
        )


@visible_with(Permission.TRANSFERS_READ)
@compiled_type
@strawberry.type(
    description="Stock moving from one location to another: requested, approved, shipped "
    "(TRANSFER_OUT), then received (TRANSFER_IN)."
)
class Transfer(Node):
    status: TransferStatus = strawberry.field(description="Where the transfer is in its life.")  # type: ignore[valid-type]
    reference: str = strawberry.field(description="What its stock movements carry as reference.")
    note: str | None = strawberry.field(description="Free text given when it was created.")
    created_by: str = strawberry.field(
        description='Who created it, as a stored subject ("staff:<id>" or "app:<client id>").'
    )
    requested_by: str | None = strawberry.field(
        description="Who requested approval, as a stored subject; null while a DRAFT."
    )
    version: BigInt = strawberry.field(
        description="Increases with every change; compare it to detect changes."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]
    from_pk: strawberry.Private[int]
    to_pk: strawberry.Private[int]
    approval_pk: strawberry.Private[int | None]
    preloaded: strawberry.Private[tuple[LineRecord, ...] | None] = None

    from_location: Location = loaded_location("from_pk", "Where the goods leave from.")
    to_location: Location = loaded_location("to_pk", "Where the goods go.")

    @strawberry.field(
        description="The products and quantities, in the order given.", metadata=READS
    )
    async def lines(self, info: Info) -> list[TransferLine]:
        rows: Any = self.preloaded
        if rows is None:
            rows = await info.context.loaders.lines_by_transfer.load(self.pk) or []
        return [TransferLine.from_row(r) for r in rows]

    @strawberry.field(
        description="The approval it waits for or got; null for a DRAFT.", metadata=READS
    )
    async def approval_request(self, info: Info) -> ApprovalRequest | None:
        if self.approval_pk is None:
            return None
        row = await info.context.loaders.approval_request_by_id.load(self.approval_pk)
        return ApprovalRequest.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: Any) -> Transfer:
        return cls(
            id=strawberry.ID(ids.encode("Transfer", row.id)),
            status=DomainStatus(row.status),
            reference=reference(row.id),
            note=row.note,
            created_by=row.created_by,
            requested_by=row.requested_by,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            from_pk=row.from_location_id,
            to_pk=row.to_location_id,
            approval_pk=row.approval_request_id,
            preloaded=row.lines if isinstance(row, TransferRecord) else None,
        )


@strawberry.type(
    description="The result of approveTransfer, cancelTransfer, createTransfer, receiveTransfer, "
    "rejectTransfer, requestTransfer, resolveTransferDiscrepancy and shipTransfer: what "
    "changed, or userErrors."
)
class TransferPayload:
    transfer: Transfer | None = strawberry.field(
        description="The transfer after the change; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def from_outcome(cls, outcome: TransferOutcome) -> TransferPayload:
        return cls(transfer=Transfer.from_row(outcome.transfer), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> TransferPayload:
        return cls(transfer=None, user_errors=errors)


@strawberry.input(description="A product and a quantity.")
class TransferLineInput:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: int = strawberry.field(description="Units, at least 1.")


@strawberry.input(description="The input of createTransfer.")
class CreateTransferInput:
    from_location_id: strawberry.ID = strawberry.field(
        description="Where the goods leave from (a Location ID); needs transfers:write there."
    )
    to_location_id: strawberry.ID = strawberry.field(
        description="Where the goods go (a Location ID); not the source."
    )
    lines: list[TransferLineInput] = strawberry.field(
        description="The products and quantities to move; at least one."
    )
    note: str | None = strawberry.field(
        default=None, description="Free text for the people handling it."
    )
    submit: bool = strawberry.field(
        default=True,
        description="Request approval at once (REQUESTED, the default); false keeps a DRAFT "
        "to edit and send later with requestTransfer.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(
    description="The input of approveTransfer, cancelTransfer, rejectTransfer and requestTransfer."
)
class TransitionTransferInput:
    id: strawberry.ID = strawberry.field(description="The transfer's global ID.")
    comment: str | None = strawberry.field(
        default=None,
        description="Why, for approvals, rejections and cancellations; kept in the audit "
        "trail and on the approval decision.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of shipTransfer.")
class ShipTransferInput:
    id: strawberry.ID = strawberry.field(
        description="The transfer's global ID (APPROVED); needs transfers:write at the source."
    )
    lines: list[TransferLineInput] | None = strawberry.field(
        default=None, description="Omitted: ship every line in full."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="What arrived of one product.")
class ReceiveTransferLineInput:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: int = strawberry.field(description="Units accepted into stock.")
    rejected_quantity: int | None = strawberry.field(
        default=0, description="Units that arrived damaged: booked in and out as DAMAGE."
    )
    rejection_reason: str | None = strawberry.field(
        default=None, description="Why units were rejected, when rejectedQuantity > 0."
    )


@strawberry.input(description="The input of receiveTransfer.")
class ReceiveTransferInput:
    id: strawberry.ID = strawberry.field(
        description="The transfer's global ID (IN_TRANSIT or PARTIALLY_RECEIVED); needs "
        "transfers:write at the destination."
    )
    lines: list[ReceiveTransferLineInput] = strawberry.field(
        description="What arrived, per SKU; may be partial, and may come in several receipts."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of resolveTransferDiscrepancy.")
class ResolveTransferDiscrepancyInput:
    id: strawberry.ID = strawberry.field(
        description="The transfer's global ID, with units still outstanding."
    )
    lines: list[TransferLineInput] = strawberry.field(
        description="Missing units to write off, per SKU."
    )
    reason: AdjustmentReason = strawberry.field(  # type: ignore[valid-type]
        description="Why the units are missing (e.g. THEFT, DAMAGE); the adjustment's reason."
    )
    note: str | None = strawberry.field(
        default=None, description="Free text kept with the write-off."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.type(description="A transfer changed; sequence orders it among the tenant's events.")
class TransferUpdatedEvent:
    sequence: BigInt = strawberry.field(
        description="The event's position in the tenant's event stream; pass the last one "
        "seen as afterSequence when reconnecting."
    )
    action: str = strawberry.field(
        description="CREATE, REQUEST, APPROVE, REJECT, SHIP, RECEIVE, RESOLVE or CANCEL."
    )
    transfer: Transfer = strawberry.field(description="The transfer as it is now.")
