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
from schema.catalog import Product
from schema.errors import UserError
from schema.locations import Location
from schema.relay import Node
from schema.scalars import BigInt
from schema.stock import AdjustmentReason, load_location, load_product

TransferStatus = strawberry.enum(
    DomainStatus,
    name="TransferStatus",
    description="DRAFT → REQUESTED → APPROVED → IN_TRANSIT → PARTIALLY_RECEIVED → RECEIVED; "
    "CANCELLED from any state before IN_TRANSIT.",
)


@strawberry.type
class TransferLine:
    quantity: int = strawberry.field(description="Units requested.")
    shipped_quantity: int
    received_quantity: int = strawberry.field(description="Units accepted at the destination.")
    rejected_quantity: int = strawberry.field(description="Units that arrived damaged (DAMAGE).")
    rejection_reason: str | None
    resolved_quantity: int = strawberry.field(
        description="Missing units written off with a reason-coded adjustment."
    )
    resolution_reason: str | None
    missing_quantity: int = strawberry.field(
        description="Shipped and not yet received, rejected or resolved: still in transit."
    )
    product_pk: strawberry.Private[int]

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await load_product(info, self.product_pk)

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
@strawberry.type
class Transfer(Node):
    status: TransferStatus  # type: ignore[valid-type]
    reference: str = strawberry.field(description="What its stock movements carry as reference.")
    note: str | None
    created_by: str
    requested_by: str | None
    version: BigInt
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]
    from_pk: strawberry.Private[int]
    to_pk: strawberry.Private[int]
    approval_pk: strawberry.Private[int | None]
    preloaded: strawberry.Private[tuple[LineRecord, ...] | None] = None

    @strawberry.field
    async def from_location(self, info: Info) -> Location:
        return await load_location(info, self.from_pk)

    @strawberry.field
    async def to_location(self, info: Info) -> Location:
        return await load_location(info, self.to_pk)

    @strawberry.field
    async def lines(self, info: Info) -> list[TransferLine]:
        rows: Any = self.preloaded
        if rows is None:
            rows = await info.context.loaders.lines_by_transfer.load(self.pk) or []
        return [TransferLine.from_row(r) for r in rows]

    @strawberry.field
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
    transfer: Transfer | None
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


@strawberry.input
class TransferLineInput:
    sku: str
    quantity: int


@strawberry.input(description="The input of createTransfer.")
class CreateTransferInput:
    from_location_id: strawberry.ID
    to_location_id: strawberry.ID
    lines: list[TransferLineInput]
    note: str | None = None
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
    id: strawberry.ID
    comment: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of shipTransfer.")
class ShipTransferInput:
    id: strawberry.ID
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


@strawberry.input
class ReceiveTransferLineInput:
    sku: str
    quantity: int = strawberry.field(description="Units accepted into stock.")
    rejected_quantity: int | None = strawberry.field(
        default=0, description="Units that arrived damaged: booked in and out as DAMAGE."
    )
    rejection_reason: str | None = None


@strawberry.input(description="The input of receiveTransfer.")
class ReceiveTransferInput:
    id: strawberry.ID
    lines: list[ReceiveTransferLineInput]
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of resolveTransferDiscrepancy.")
class ResolveTransferDiscrepancyInput:
    id: strawberry.ID
    lines: list[TransferLineInput] = strawberry.field(
        description="Missing units to write off, per SKU."
    )
    reason: AdjustmentReason  # type: ignore[valid-type]
    note: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.type(description="A transfer changed; sequence orders it among the tenant's events.")
class TransferUpdatedEvent:
    sequence: BigInt
    action: str = strawberry.field(
        description="CREATE, REQUEST, APPROVE, REJECT, SHIP, RECEIVE, RESOLVE or CANCEL."
    )
    transfer: Transfer
