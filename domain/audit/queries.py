"""Reading the audit trail, in sequence order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import AuditEvent
from domain.pagination import Page, make_page

A = AuditEvent.__table__


async def list_events(
    session: AsyncSession,
    caller: Caller,
    *,
    limit: int,
    after_sequence: int | None,
    target_id: str | None,
) -> Page[Row[Any]]:
    stmt = select(A).where(A.c.tenant_id == caller.tenant_id)
    if target_id is not None:
        stmt = stmt.where(A.c.target_id == target_id)
    if after_sequence is not None:
        stmt = stmt.where(A.c.sequence > after_sequence)
    rows = (await session.execute(stmt.order_by(A.c.sequence).limit(limit + 1))).all()
    return make_page(rows, limit, after_sequence is not None)


async def count_events(session: AsyncSession, caller: Caller, *, target_id: str | None) -> int:
    """How many events match the filter, whatever page is being read."""
    stmt = select(func.count()).select_from(A).where(A.c.tenant_id == caller.tenant_id)
    if target_id is not None:
        stmt = stmt.where(A.c.target_id == target_id)
    return int((await session.execute(stmt)).scalar_one())


async def events_by_sequence(
    session: AsyncSession, tenant_id: int, sequences: Sequence[int]
) -> dict[int, Row[Any]]:
    stmt = select(A).where(A.c.tenant_id == tenant_id, A.c.sequence.in_(sequences))
    return {r.sequence: r for r in (await session.execute(stmt))}
