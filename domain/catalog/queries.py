"""Reading locations and products (tenant-filtered; RLS filters again)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import Location, Product, Tenant
from domain.pagination import Page, make_page

L = Location.__table__
P = Product.__table__
T = Tenant.__table__


def priced_products() -> Select[Any]:
    """Products with the currency they are priced in (the tenant's)."""
    return select(P, T.c.currency).join(T, T.c.tenant_id == P.c.tenant_id)


async def locations_by_id(
    session: AsyncSession, tenant_id: int, ids: Sequence[int]
) -> dict[int, Row[Any]]:
    stmt = select(L).where(L.c.tenant_id == tenant_id, L.c.id.in_(ids))
    return {r.id: r for r in (await session.execute(stmt))}


async def list_locations(
    session: AsyncSession, caller: Caller, *, limit: int, after: str | None, kind: str | None
) -> Page[Row[Any]]:
    stmt = select(L).where(L.c.tenant_id == caller.tenant_id)
    if kind:
        stmt = stmt.where(L.c.kind == kind)
    if after is not None:
        stmt = stmt.where(L.c.code > after)
    rows = (await session.execute(stmt.order_by(L.c.code).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


async def count_locations(session: AsyncSession, caller: Caller, kind: str | None) -> int:
    stmt = select(func.count()).select_from(L).where(L.c.tenant_id == caller.tenant_id)
    if kind:
        stmt = stmt.where(L.c.kind == kind)
    return int((await session.execute(stmt)).scalar_one())


async def products_by_id(
    session: AsyncSession, tenant_id: int, ids: Sequence[int]
) -> dict[int, Row[Any]]:
    stmt = priced_products().where(P.c.tenant_id == tenant_id, P.c.id.in_(ids))
    return {r.id: r for r in (await session.execute(stmt))}


def _product_filter(caller: Caller, search: str | None) -> list[Any]:
    conditions: list[Any] = [P.c.tenant_id == caller.tenant_id]
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                P.c.sku.ilike(pattern),
                P.c.barcode == search,
                P.c.name_en.ilike(pattern),
                P.c.name_zh.like(pattern),
            )
        )
    return conditions


async def list_products(
    session: AsyncSession, caller: Caller, *, limit: int, after: str | None, search: str | None
) -> Page[Row[Any]]:
    stmt = priced_products().where(*_product_filter(caller, search))
    if after is not None:
        stmt = stmt.where(P.c.sku > after)
    rows = (await session.execute(stmt.order_by(P.c.sku).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


async def count_products(session: AsyncSession, caller: Caller, search: str | None) -> int:
    stmt = select(func.count()).select_from(P).where(*_product_filter(caller, search))
    return int((await session.execute(stmt)).scalar_one())
