"""Approval requests and policies: arguments → one domain call → schema types."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from auth.permissions import Role
from domain import ids
from domain.approvals import service
from domain.audit.service import AuditEntry
from domain.pagination import page_size
from resolvers._mutation import MutationSpec, run_mutation
from schema.approvals import (
    ApprovalPolicy,
    ApprovalPolicyPayload,
    ApprovalRequest,
    CreateApprovalPolicyInput,
)
from schema.relay import After, Connection, First, connection, int_cursor


def _policy_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "min_units": row.min_units,
        "from_location_kinds": row.from_location_kinds,
        "required_rank": row.required_rank,
    }


class _PolicyRow:
    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)


CREATE_POLICY = MutationSpec(
    action="approval.policy.create",
    audit=lambda row: AuditEntry(
        action="approval.policy.create",
        target_type="ApprovalPolicy",
        target_id=ids.encode("ApprovalPolicy", row.id),
        after=_policy_json(row),
    ),
    snapshot=_policy_json,
    restore=_PolicyRow,
)


async def create_approval_policy(
    info: Info,
    input: Annotated[
        CreateApprovalPolicyInput,
        strawberry.argument(description="What to do; see CreateApprovalPolicyInput."),
    ],
) -> ApprovalPolicyPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> Any:
        cmd = service.NewPolicy(
            name=input.name,
            required_rank=Role(input.required_rank),
            min_units=input.min_units,
            from_location_kinds=tuple(k.value for k in input.from_location_kinds)
            if input.from_location_kinds is not None
            else None,
        )
        return await service.create_policy(session, caller, cmd)

    return await run_mutation(
        info,
        CREATE_POLICY,
        ApprovalPolicyPayload,
        input,
        execute,
        lambda row: ApprovalPolicyPayload(
            approval_policy=ApprovalPolicy.from_row(row), user_errors=[]
        ),
    )


async def approval_requests(
    info: Info,
    first: First = None,
    after: After = None,
    status: Annotated[
        service.ApprovalStatus | None,
        strawberry.argument(description="Only requests in this status (PENDING: still waiting)."),
    ] = None,
) -> Connection[ApprovalRequest]:
    """The tenant's approval requests, newest first."""
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await service.list_requests(
            session, caller, limit=limit, after=cursor, status=status
        )
    return connection(page, ApprovalRequest.from_row, lambda r: r.id)
