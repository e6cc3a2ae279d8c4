"""What a store manager opens first, read-only: one query per section.

Transfers and approval requests are read straight from their tables (owned by
``domain.transfers`` and ``domain.approvals``); nothing here writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import StockLevel, StockMovement, Stocktake
from db.models.approvals import ApprovalRequest
from db.models.transfers import Transfer
from domain.approvals import policy

S = StockLevel.__table__
M = StockMovement.__table__
T = Stocktake.__table__
X = Transfer.__table__
A = ApprovalRequest.__table__

SECTION_LIMIT = 50
OVERSELL_DAYS = 7
FINISHED_TRANSFERS = ("DRAFT", "RECEIVED", "CANCELLED")


async def low_stock(session: AsyncSession, caller: Caller, location_id: int) -> list[Row[Any]]:
    """Levels whose available quantity is at or below their reorder point."""
    stmt = (
        select(S)
        .where(
            S.c.tenant_id == caller.tenant_id,
            S.c.location_id == location_id,
            S.c.reorder_point.is_not(None),
            S.c.on_hand - S.c.reserved <= S.c.reorder_point,
        )
        .order_by(S.c.on_hand - S.c.reserved - S.c.reorder_point, S.c.product_id)
        .limit(SECTION_LIMIT)
    )
    return list((await session.execute(stmt)).all())


async def recent_oversells(
    session: AsyncSession, caller: Caller, location_id: int, *, now: datetime | None = None
) -> list[Row[Any]]:
    """SALE movements flagged as oversells in the last 7 days, newest first."""
    since = (now or datetime.now(UTC)) - timedelta(days=OVERSELL_DAYS)
    stmt = (
        select(M)
        .where(
            M.c.tenant_id == caller.tenant_id,
            M.c.location_id == location_id,
            M.c.kind == "SALE",
            M.c.oversell.is_(True),
            M.c.occurred_at >= since,
        )
        .order_by(M.c.sequence.desc())
        .limit(SECTION_LIMIT)
    )
    return list((await session.execute(stmt)).all())


async def open_stocktakes(
    session: AsyncSession, caller: Caller, location_id: int
) -> list[Row[Any]]:
    stmt = (
        select(T)
        .where(
            T.c.tenant_id == caller.tenant_id,
            T.c.location_id == location_id,
            T.c.status == "OPEN",
        )
        .order_by(T.c.id)
    )
    return list((await session.execute(stmt)).all())


async def transfers(
    session: AsyncSession, caller: Caller, location_id: int, *, arriving: bool
) -> list[Row[Any]]:
    """Transfers to (arriving) or from (leaving) the location that are not finished."""
    side = X.c.to_location_id if arriving else X.c.from_location_id
    stmt = (
        select(X)
        .where(
            X.c.tenant_id == caller.tenant_id,
            side == location_id,
            X.c.status.not_in(FINISHED_TRANSFERS),
        )
        .order_by(X.c.id)
        .limit(SECTION_LIMIT)
    )
    return list((await session.execute(stmt)).all())


async def approvals_waiting(
    session: AsyncSession, caller: Caller, location_id: int
) -> list[Row[Any]]:
    """Pending approval requests of transfers touching the location that the caller may decide.

    A caller of a rank at or above the step waiting may decide it (``domain.approvals.policy``).
    """
    rank = policy.caller_rank(caller)
    if rank is None or not caller.has(Permission.TRANSFERS_APPROVE):
        return []
    ranks = [r.value for r in policy.CHAIN if policy.level(r) <= policy.level(rank)]
    stmt = (
        select(A)
        .join(X, and_(X.c.tenant_id == A.c.tenant_id, X.c.id == A.c.subject_id))
        .where(
            A.c.tenant_id == caller.tenant_id,
            A.c.subject_type == "TRANSFER",
            A.c.status == "PENDING",
            A.c.next_rank.in_(ranks),
            or_(X.c.from_location_id == location_id, X.c.to_location_id == location_id),
        )
        .order_by(A.c.id)
        .limit(SECTION_LIMIT)
    )
    return list((await session.execute(stmt)).all())
