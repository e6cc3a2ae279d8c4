"""Which SKUs a count covers at a location: the full range, or a cycle-count subset.

"Last counted" is the latest counted line of a POSTED stocktake at that location.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, select

from db.models import Product, StockLevel, Stocktake, StocktakeLine

P = Product.__table__
S = StockLevel.__table__
T = Stocktake.__table__
L = StocktakeLine.__table__


def last_counted(tenant_id: int, location_id: int) -> Select[Any]:
    """(product_id, last_counted_at) of every SKU counted and posted at the location."""
    return (
        select(L.c.product_id, func.max(L.c.counted_at).label("last_counted_at"))
        .join(T, and_(T.c.tenant_id == L.c.tenant_id, T.c.id == L.c.stocktake_id))
        .where(
            L.c.tenant_id == tenant_id,
            L.c.location_id == location_id,
            L.c.counted_at.is_not(None),
            T.c.status == "POSTED",
        )
        .group_by(L.c.product_id)
    )


def products_in_scope(
    tenant_id: int,
    location_id: int,
    *,
    category: str | None = None,
    not_counted_days: int | None = None,
    product_ids: Sequence[int] | None = None,
    now: datetime,
) -> Select[Any]:
    """Product ids of the scope, in id order.

    Without explicit products, the range is every SKU with a level at the location
    (stocked there now or before). ``category`` and ``not_counted_days`` narrow it.
    """
    stmt = select(P.c.id).where(P.c.tenant_id == tenant_id)
    if product_ids is not None:
        stmt = stmt.where(P.c.id.in_(product_ids))
    else:
        stmt = stmt.where(
            exists().where(
                S.c.tenant_id == tenant_id,
                S.c.location_id == location_id,
                S.c.product_id == P.c.id,
            )
        )
    if category is not None:
        stmt = stmt.where(P.c.category == category)
    if not_counted_days is not None:
        since = now - timedelta(days=not_counted_days)
        stmt = stmt.where(
            ~exists().where(
                L.c.tenant_id == tenant_id,
                L.c.location_id == location_id,
                L.c.product_id == P.c.id,
                L.c.counted_at >= since,
                exists().where(
                    T.c.tenant_id == L.c.tenant_id,
                    T.c.id == L.c.stocktake_id,
                    T.c.status == "POSTED",
                ),
            )
        )
    return stmt.order_by(P.c.id)
