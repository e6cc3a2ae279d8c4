"""Approval requests: opened for a subject, decided step by step along the chain.

Generic over the subject (``TRANSFER`` now, purchase orders later): this module
never looks at the subject itself; the subject's service opens the request and
applies the outcome. The caller holds the subject's row lock, then this module
locks the request row, so every writer takes them in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Row, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission, Role
from db.models import ApprovalDecision, ApprovalPolicy, ApprovalRequest
from domain.access import require
from domain.approvals import policy
from domain.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from domain.pagination import Page, make_page

R = cast(Table, ApprovalRequest.__table__)
D = cast(Table, ApprovalDecision.__table__)
POLICIES = cast(Table, ApprovalPolicy.__table__)

TRANSFER = "TRANSFER"
PURCHASE_ORDER = "PURCHASE_ORDER"
# Purchase orders go up the same chain of ranks as transfers.
SUBJECT_PERMISSIONS = {
    TRANSFER: Permission.TRANSFERS_APPROVE,
    PURCHASE_ORDER: Permission.TRANSFERS_APPROVE,
}


class ApprovalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    request_id: int
    actor: str
    rank: str
    decision: str
    comment: str | None
    status_after: str
    next_rank: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "actor": self.actor,
            "rank": self.rank,
            "decision": self.decision,
            "comment": self.comment,
            "statusAfter": self.status_after,
            "nextRank": self.next_rank,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DecisionRecord:
        return cls(
            request_id=data["requestId"],
            actor=data["actor"],
            rank=data["rank"],
            decision=data["decision"],
            comment=data["comment"],
            status_after=data["statusAfter"],
            next_rank=data["nextRank"],
        )


@dataclass(frozen=True, slots=True)
class NewPolicy:
    name: str
    required_rank: Role
    min_units: int | None = None
    from_location_kinds: tuple[str, ...] | None = None
    subject_type: str = TRANSFER


async def create_policy(session: AsyncSession, caller: Caller, cmd: NewPolicy) -> Row[Any]:
    """A tenant rule (admin only)."""
    require(caller, Permission.ADMIN)
    if cmd.required_rank not in policy.CHAIN:
        raise InvalidInput("requiredRank must be a rank that approves", ["requiredRank"])
    if not 0 < len(cmd.name) <= 200:
        raise InvalidInput("name must be 1 to 200 characters", ["name"])
    if cmd.min_units is not None and cmd.min_units < 0:
        raise InvalidInput("minUnits cannot be negative", ["minUnits"])
    row = (
        await session.execute(
            insert(POLICIES)
            .values(
                tenant_id=caller.tenant_id,
                subject_type=cmd.subject_type,
                name=cmd.name,
                min_units=cmd.min_units,
                from_location_kinds=list(cmd.from_location_kinds)
                if cmd.from_location_kinds is not None
                else None,
                required_rank=cmd.required_rank.value,
                active=True,
            )
            .returning(POLICIES)
        )
    ).one()
    return row


async def required_rank(
    session: AsyncSession, caller: Caller, subject_type: str, units: int, from_kind: str
) -> Role:
    rows = await session.execute(
        select(POLICIES).where(
            POLICIES.c.tenant_id == caller.tenant_id,
            POLICIES.c.subject_type == subject_type,
            POLICIES.c.active.is_(True),
        )
    )
    rules = [
        policy.Rule(
            r.min_units,
            tuple(r.from_location_kinds) if r.from_location_kinds is not None else None,
            Role(r.required_rank),
        )
        for r in rows
    ]
    return policy.required_rank(rules, units, from_kind)


async def open_request(
    session: AsyncSession,
    caller: Caller,
    subject_type: str,
    subject_id: int,
    units: int,
    rank: Role,
) -> int:
    return int(
        (
            await session.execute(
                insert(R)
                .values(
                    tenant_id=caller.tenant_id,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    status=ApprovalStatus.PENDING.value,
                    required_rank=rank.value,
                    next_rank=policy.CHAIN[0].value,
                    units=units,
                    requested_by=caller.subject,
                )
                .returning(R.c.id)
            )
        ).scalar_one()
    )


async def _locked(session: AsyncSession, caller: Caller, request_id: int) -> Row[Any]:
    row = (
        await session.execute(
            select(R)
            .where(R.c.tenant_id == caller.tenant_id, R.c.id == request_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("no such approval request", ["id"])
    return row


async def decide(
    session: AsyncSession,
    caller: Caller,
    request_id: int,
    decision: Decision,
    comment: str | None,
) -> DecisionRecord:
    """Record one approver's decision and move the request along the chain."""
    request = await _locked(session, caller, request_id)
    require(caller, SUBJECT_PERMISSIONS[request.subject_type])
    if comment is not None and len(comment) > 1000:
        raise InvalidInput("comment must be at most 1000 characters", ["comment"])
    if request.status != ApprovalStatus.PENDING.value:
        raise InvalidTransition(f"the approval request is {request.status}", ["id"])
    if (
        decision is Decision.APPROVE
        and request.requested_by == caller.subject
        and caller.role not in (None, Role.OWNER)
    ):
        # Four eyes: staff below the owner (who has nobody above) never approve their own.
        raise Forbidden("nobody below the owner approves their own request", ["id"])
    rank = policy.caller_rank(caller)
    waiting = Role(request.next_rank)
    if rank is None or policy.level(rank) < policy.level(waiting):
        raise Forbidden(f"this step needs a {waiting.value} or above", ["id"])
    now = datetime.now(UTC)
    if decision is Decision.APPROVE:
        after = policy.after_approval(waiting, rank, Role(request.required_rank))
        status = ApprovalStatus.PENDING if after is not None else ApprovalStatus.APPROVED
    else:
        after, status = None, ApprovalStatus.REJECTED
    await session.execute(
        insert(D).values(
            tenant_id=caller.tenant_id,
            request_id=request_id,
            actor=caller.subject,
            staff_id=caller.staff_id,
            rank=rank.value,
            decision=decision.value,
            comment=comment,
            decided_at=now,
        )
    )
    await session.execute(
        update(R)
        .where(R.c.tenant_id == caller.tenant_id, R.c.id == request_id)
        .values(
            status=status.value,
            next_rank=after.value if after is not None else None,
            decided_at=now if status is not ApprovalStatus.PENDING else None,
        )
    )
    return DecisionRecord(
        request_id=request_id,
        actor=caller.subject,
        rank=rank.value,
        decision=decision.value,
        comment=comment,
        status_after=status.value,
        next_rank=after.value if after is not None else None,
    )


async def withdraw(session: AsyncSession, caller: Caller, request_id: int) -> None:
    """The subject was cancelled: a pending request closes without a decision."""
    await _locked(session, caller, request_id)
    await session.execute(
        update(R)
        .where(
            R.c.tenant_id == caller.tenant_id,
            R.c.id == request_id,
            R.c.status == ApprovalStatus.PENDING.value,
        )
        .values(status=ApprovalStatus.CANCELLED.value, next_rank=None, decided_at=datetime.now(UTC))
    )


async def list_requests(
    session: AsyncSession,
    caller: Caller,
    *,
    limit: int,
    after: int | None,
    status: ApprovalStatus | None,
) -> Page[Row[Any]]:
    """Newest first; keyset on id."""
    stmt = select(R).where(R.c.tenant_id == caller.tenant_id)
    if status is not None:
        stmt = stmt.where(R.c.status == status.value)
    if after is not None:
        stmt = stmt.where(R.c.id < after)
    rows = (await session.execute(stmt.order_by(R.c.id.desc()).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)
