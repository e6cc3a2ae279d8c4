"""Reading stock levels and the movement ledger, keyset-paged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import Product, StockLevel, StockMovement
from domain.pagination import Page, make_page

S = StockLevel.__table__
M = StockMovement.__table__
P = Product.__table__


async def level_at(
    session: AsyncSession, caller: Caller, location_id: int, sku: str
) -> Row[Any] | None:
    stmt = (
        select(S)
        .join(P, and_(P.c.tenant_id == S.c.tenant_id, P.c.id == S.c.product_id))
        .where(S.c.tenant_id == caller.tenant_id, S.c.location_id == location_id, P.c.sku == sku)
    )
    return (await session.execute(stmt)).first()


async def levels_by_id(
    session: AsyncSession, tenant_id: int, ids: Sequence[int]
) -> dict[int, Row[Any]]:
    stmt = select(S).where(S.c.tenant_id == tenant_id, S.c.id.in_(ids))
    return {r.id: r for r in (await session.execute(stmt))}


def _level_filter(
    caller: Caller,
    location_ids: Sequence[int] | None,
    skus: Sequence[str] | None,
    below_reorder_point: bool | None,
) -> list[Any]:
    conditions: list[Any] = [S.c.tenant_id == caller.tenant_id]
    if location_ids is not None:
        conditions.append(S.c.location_id.in_(location_ids))
    if skus is not None:
        conditions.append(
            S.c.product_id.in_(
                select(P.c.id).where(P.c.tenant_id == caller.tenant_id, P.c.sku.in_(skus))
            )
        )
    if below_reorder_point is True:
        conditions.append(S.c.reorder_point.is_not(None))
        conditions.append(S.c.on_hand - S.c.reserved <= S.c.reorder_point)
    elif below_reorder_point is False:
        conditions.append(
            (S.c.reorder_point.is_(None)) | (S.c.on_hand - S.c.reserved > S.c.reorder_point)
        )
    return conditions


async def list_levels(
    session: AsyncSession,
    caller: Caller,
    *,
    limit: int,
    after: tuple[int, int] | None,
    location_ids: Sequence[int] | None,
    skus: Sequence[str] | None,
    below_reorder_point: bool | None,
) -> Page[Row[Any]]:
    """Ordered by (location, product): one location's levels are one index range."""
    stmt = select(S).where(*_level_filter(caller, location_ids, skus, below_reorder_point))
    if after is not None:
        stmt = stmt.where(tuple_(S.c.location_id, S.c.product_id) > tuple_(*after))
    stmt = stmt.order_by(S.c.location_id, S.c.product_id).limit(limit + 1)
    rows = (await session.execute(stmt)).all()
    return make_page(rows, limit, after is not None)


async def count_levels(
    session: AsyncSession,
    caller: Caller,
    location_ids: Sequence[int] | None,
    skus: Sequence[str] | None,
    below_reorder_point: bool | None,
) -> int:
    stmt = (
        select(func.count())
        .select_from(S)
        .where(*_level_filter(caller, location_ids, skus, below_reorder_point))
    )
    return int((await session.execute(stmt)).scalar_one())


async def list_movements(
    session: AsyncSession,
    caller: Caller,
    *,
    limit: int,
    after_sequence: int | None,
    location_id: int | None,
    sku: str | None,
) -> Page[Row[Any]]:
    """The ledger in sequence (= commit) order; see ``domain.stock.ledger``."""
    stmt = select(M).where(M.c.tenant_id == caller.tenant_id)
    if location_id is not None:
        stmt = stmt.where(M.c.location_id == location_id)
    if sku is not None:
        stmt = stmt.where(
            M.c.product_id
            == select(P.c.id)
            .where(P.c.tenant_id == caller.tenant_id, P.c.sku == sku)
            .scalar_subquery()
        )
    if after_sequence is not None:
        stmt = stmt.where(M.c.sequence > after_sequence)
    rows = (await session.execute(stmt.order_by(M.c.sequence).limit(limit + 1))).all()
    return make_page(rows, limit, after_sequence is not None)


async def movements_by_id(
    session: AsyncSession, tenant_id: int, ids: Sequence[int]
) -> dict[int, Row[Any]]:
    stmt = select(M).where(M.c.tenant_id == tenant_id, M.c.id.in_(ids))
    return {r.id: r for r in (await session.execute(stmt))}
