"""Reading stock levels and the movement ledger, keyset-paged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import Product, StockLevel, StockMovement
from db.reader import Params, Reader, Record
from domain.pagination import Page, make_page

S = StockLevel.__table__
M = StockMovement.__table__
P = Product.__table__
LEVEL_COLUMNS = ", ".join(c.name for c in S.columns)


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
    p: Params,
    location_ids: Sequence[int] | None,
    skus: Sequence[str] | None,
    below_reorder_point: bool | None,
    table: str = "",
) -> list[str]:
    """WHERE conditions over stock_levels (parameters added to ``p``); ``table`` is its
    alias with a dot when the statement joins other tables."""
    t = table
    tenant = p.add(caller.tenant_id)
    conditions = [f"{t}tenant_id = {tenant}"]
    if location_ids is not None and len(location_ids) == 1:
        # equality, not ANY: only then does the (tenant, location, product) index both
        # find and order the rows (with ANY, PostgreSQL filters the whole tenant)
        conditions.append(f"{t}location_id = {p.add(location_ids[0])}")
    elif location_ids is not None:
        conditions.append(f"{t}location_id = ANY({p.add(list(location_ids))}::bigint[])")
    if skus is not None:
        conditions.append(
            f"{t}product_id IN (SELECT id FROM products WHERE tenant_id = {tenant} "
            f"AND sku = ANY({p.add(list(skus))}::text[]))"
        )
    if below_reorder_point is True:
        conditions.append(
            f"{t}reorder_point IS NOT NULL AND {t}on_hand - {t}reserved <= {t}reorder_point"
        )
    elif below_reorder_point is False:
        conditions.append(
            f"({t}reorder_point IS NULL OR {t}on_hand - {t}reserved > {t}reorder_point)"
        )
    return conditions


# A level joined with its product as the product loader reads it (db/loaders.py,
# product_by_id: every column and the tenant's currency), so its rows can stand in.
JOINED_COLUMNS = (
    ", ".join(f"sl.{c.name}" for c in S.columns)
    + ", "
    + ", ".join(f"p.{c.name}" for c in P.columns)
    + ", t.currency"
)
JOINED_FROM = (
    "stock_levels sl JOIN products p ON p.tenant_id = sl.tenant_id AND p.id = sl.product_id "
    "JOIN tenants t ON t.tenant_id = sl.tenant_id"
)


async def list_levels(
    reader: Reader,
    caller: Caller,
    *,
    limit: int,
    after: tuple[int, int] | None,
    location_ids: Sequence[int] | None,
    skus: Sequence[str] | None,
    below_reorder_point: bool | None,
    products: dict[int, Record] | None = None,
) -> Page[Record]:
    """Ordered by (location, product): one location's levels are one index range.

    With ``products`` (a dict), each level's product row is read in the same statement
    and put there by product id, as the product loader would have read it."""
    p = Params()
    t = "sl." if products is not None else ""
    where = _level_filter(caller, p, location_ids, skus, below_reorder_point, t)
    if after is not None:
        where.append(f"({t}location_id, {t}product_id) > ({p.add(after[0])}, {p.add(after[1])})")
    order = f"ORDER BY {t}location_id, {t}product_id LIMIT {p.add(limit + 1)}"
    if products is None:
        sql = f"SELECT {LEVEL_COLUMNS} FROM stock_levels WHERE {' AND '.join(where)} {order}"
        rows = await reader.fetch(sql, *p.values)
    else:
        sql = f"SELECT {JOINED_COLUMNS} FROM {JOINED_FROM} WHERE {' AND '.join(where)} {order}"
        pairs = await reader.fetch_joined(sql, *p.values, split=len(S.columns))
        rows = [level for level, _ in pairs]
        products.update((product.id, product) for _, product in pairs[:limit])
    return make_page(rows, limit, after is not None)


async def count_levels(
    reader: Reader,
    caller: Caller,
    location_ids: Sequence[int] | None,
    skus: Sequence[str] | None,
    below_reorder_point: bool | None,
) -> int:
    p = Params()
    where = _level_filter(caller, p, location_ids, skus, below_reorder_point)
    sql = f"SELECT count(*) FROM stock_levels WHERE {' AND '.join(where)}"
    return int(await reader.fetchval(sql, *p.values))


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
