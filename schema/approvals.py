"""Approval requests, their decisions and the tenant's approval policies."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from auth.fields import visible_with
from auth.permissions import Permission, Role
from domain import ids
from domain.approvals.service import ApprovalStatus as DomainStatus
from domain.approvals.service import Decision as DomainDecision
from schema.describe import enum_values
from schema.errors import UserError
from schema.loading import READS, compiled_type
from schema.locations import LocationKind
from schema.relay import Node

if TYPE_CHECKING:
    from schema.transfers import Transfer

StaffRank = enum_values(
    OWNER="The owner: every permission, the last approver.",
    REGIONAL_MANAGER="Runs several stores: writes stock and transfers everywhere, approves "
    "transfers, reads costs.",
    STORE_MANAGER="Runs a store: writes stock and transfers at own locations, manages members.",
    PURCHASER="Buys from suppliers: writes stock and transfers anywhere, reads costs.",
    CLERK="Shop staff: writes stock and transfers at own locations.",
    AUDITOR="Reads stock, transfers, costs and the audit trail; changes nothing.",
)(strawberry.enum(Role, name="StaffRank", description="Staff ranks."))
ApprovalStatus = enum_values(
    PENDING="Waiting for nextRank.",
    APPROVED="Every step up to requiredRank approved.",
    REJECTED="An approver rejected it; the subject is cancelled.",
    CANCELLED="The subject was cancelled before a decision.",
)(strawberry.enum(DomainStatus, name="ApprovalStatus", description="Where an approval request is."))
ApprovalDecisionKind = enum_values(
    APPROVE="Approved this step.",
    REJECT="Rejected: the request ends and the subject is cancelled.",
)(strawberry.enum(DomainDecision, name="ApprovalDecisionKind", description="An approver's answer."))


@compiled_type
@strawberry.type(description="One approver's decision on an approval request.")
class ApprovalDecision:
    actor: str = strawberry.field(
        description='Who decided, as a stored subject ("staff:<id>" or "app:<client id>").'
    )
    rank: StaffRank = strawberry.field(description="The rank the decision was taken at.")  # type: ignore[valid-type]
    decision: ApprovalDecisionKind = strawberry.field(description="Approve or reject.")  # type: ignore[valid-type]
    comment: str | None = strawberry.field(description="The comment given, if any.")
    decided_at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, row: Any) -> ApprovalDecision:
        return cls(
            actor=row.actor,
            rank=Role(row.rank),
            decision=DomainDecision(row.decision),
            comment=row.comment,
            decided_at=row.decided_at,
        )


@visible_with(Permission.TRANSFERS_READ)
@compiled_type
@strawberry.type(
    description="A subject (a transfer) waiting for approvers by rank: each step of the "
    "chain up to requiredRank approves in turn; a higher rank may take a lower step."
)
class ApprovalRequest(Node):
    subject_type: str = strawberry.field(
        description='What is to be approved: "TRANSFER" or "PURCHASE_ORDER".'
    )
    status: ApprovalStatus = strawberry.field(  # type: ignore[valid-type]
        description="Waiting, approved, rejected or cancelled."
    )
    required_rank: StaffRank = strawberry.field(  # type: ignore[valid-type]
        description="The highest rank that must approve: REGIONAL_MANAGER unless a policy "
        "asks for OWNER."
    )
    next_rank: StaffRank | None = strawberry.field(  # type: ignore[valid-type]
        description="The rank the request waits for now; null once decided."
    )
    units: int = strawberry.field(
        description="Total units of the subject (the policies' minUnits compare with it)."
    )
    requested_by: str = strawberry.field(
        description='Who asked, as a stored subject ("staff:<id>" or "app:<client id>").'
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    decided_at: datetime | None = strawberry.field(
        description="When it was approved, rejected or cancelled; null while pending."
    )
    pk: strawberry.Private[int]
    subject_pk: strawberry.Private[int]

    @strawberry.field(
        description="The transfer to approve, when the subject is a transfer.", metadata=READS
    )
    async def transfer(
        self, info: Info
    ) -> Annotated[Transfer, strawberry.lazy("schema.transfers")] | None:
        if self.subject_type != "TRANSFER":
            return None
        from schema.transfers import Transfer

        row = await info.context.loaders.transfer_by_id.load(self.subject_pk)
        return Transfer.from_row(row) if row is not None else None

    @strawberry.field(description="The decisions so far, oldest first.", metadata=READS)
    async def decisions(self, info: Info) -> list[ApprovalDecision]:
        rows = await info.context.loaders.decisions_by_request.load(self.pk)
        return [ApprovalDecision.from_row(r) for r in rows or []]

    @classmethod
    def from_row(cls, row: Any) -> ApprovalRequest:
        return cls(
            id=strawberry.ID(ids.encode("ApprovalRequest", row.id)),
            subject_type=row.subject_type,
            status=DomainStatus(row.status),
            required_rank=Role(row.required_rank),
            next_rank=Role(row.next_rank) if row.next_rank else None,
            units=row.units,
            requested_by=row.requested_by,
            created_at=row.created_at,
            decided_at=row.decided_at,
            pk=row.id,
            subject_pk=row.subject_id,
        )


@strawberry.type(description="A tenant rule: matching subjects need approval up to a rank.")
class ApprovalPolicy(Node):
    name: str = strawberry.field(description="The policy's name.")
    min_units: int | None = strawberry.field(
        description="Matches transfers of at least this many units; null: any size."
    )
    from_location_kinds: list[LocationKind] | None = strawberry.field(
        description="Matches transfers from locations of these kinds; null: any."
    )
    required_rank: StaffRank = strawberry.field(  # type: ignore[valid-type]
        description="The rank matching transfers need approval up to."
    )

    @classmethod
    def from_row(cls, row: Any) -> ApprovalPolicy:
        kinds = row.from_location_kinds
        return cls(
            id=strawberry.ID(ids.encode("ApprovalPolicy", row.id)),
            name=row.name,
            min_units=row.min_units,
            from_location_kinds=[LocationKind(k) for k in kinds] if kinds is not None else None,
            required_rank=Role(row.required_rank),
        )


@strawberry.input(description="The input of createApprovalPolicy.")
class CreateApprovalPolicyInput:
    name: str = strawberry.field(description="The policy's name.")
    required_rank: StaffRank = strawberry.field(  # type: ignore[valid-type]
        description="The rank matching transfers need approval up to (REGIONAL_MANAGER or OWNER)."
    )
    min_units: int | None = strawberry.field(
        default=None, description="Matches transfers of at least this many units."
    )
    from_location_kinds: list[LocationKind] | None = strawberry.field(
        default=None, description="Matches transfers from locations of these kinds."
    )


@strawberry.type(description="The result of createApprovalPolicy: what changed, or userErrors.")
class ApprovalPolicyPayload:
    approval_policy: ApprovalPolicy | None = strawberry.field(
        description="The policy created; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> ApprovalPolicyPayload:
        return cls(approval_policy=None, user_errors=errors)
