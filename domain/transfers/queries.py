"""Reading transfers, newest first, keyset-paged by id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from domain.pagination import Page, make_page
from domain.transfers.repository import T
from domain.transfers.state import TransferStatus


def _filter(caller: Caller, status: TransferStatus | None, location_id: int | None) -> list[Any]:
    conditions: list[Any] = [T.c.tenant_id == caller.tenant_id]
    if status is not None:
        conditions.append(T.c.status == status.value)
    if location_id is not None:
        conditions.append(
            or_(T.c.from_location_id == location_id, T.c.to_location_id == location_id)
        )
    return conditions


async def list_transfers(
    session: AsyncSession,
    caller: Caller,
    *,
    limit: int,
    after: int | None,
    status: TransferStatus | None,
    location_id: int | None,
) -> Page[Row[Any]]:
    """Transfers touching ``location_id`` at either end, newest first."""
    stmt = select(T).where(*_filter(caller, status, location_id))
    if after is not None:
        stmt = stmt.where(T.c.id < after)
    rows = (await session.execute(stmt.order_by(T.c.id.desc()).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


async def count_transfers(
    session: AsyncSession,
    caller: Caller,
    status: TransferStatus | None,
    location_id: int | None,
) -> int:
    stmt = select(func.count()).select_from(T).where(*_filter(caller, status, location_id))
    return int((await session.execute(stmt)).scalar_one())
