"""Listing purchase orders: newest first, keyset on id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from domain.pagination import Page, make_page
from domain.purchasing.repository import PO
from domain.purchasing.state import PurchaseOrderStatus


def _filter(
    caller: Caller, status: PurchaseOrderStatus | None, location_id: int | None
) -> list[Any]:
    where = [PO.c.tenant_id == caller.tenant_id]
    if status is not None:
        where.append(PO.c.status == status.value)
    if location_id is not None:
        where.append(PO.c.location_id == location_id)
    return where


async def list_orders(
    session: AsyncSession,
    caller: Caller,
    *,
    limit: int,
    after: int | None,
    status: PurchaseOrderStatus | None,
    location_id: int | None,
) -> Page[Row[Any]]:
    stmt = select(PO).where(*_filter(caller, status, location_id))
    if after is not None:
        stmt = stmt.where(PO.c.id < after)
    rows = (await session.execute(stmt.order_by(PO.c.id.desc()).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


async def count_orders(
    session: AsyncSession,
    caller: Caller,
    status: PurchaseOrderStatus | None,
    location_id: int | None,
) -> int:
    stmt = select(func.count()).select_from(PO).where(*_filter(caller, status, location_id))
    return int((await session.execute(stmt)).scalar_one())
