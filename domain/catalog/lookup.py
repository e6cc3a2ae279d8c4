"""Resolving the catalog references a command names (location ids, SKUs)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import Location, Product
from domain.errors import NotFound


async def location_row(
    session: AsyncSession, caller: Caller, location_id: int | None, field: list[str]
) -> Location:
    """The caller's location, or NOT_FOUND (a foreign tenant's id is just as unknown)."""
    if location_id is not None:
        row = (
            await session.execute(
                select(Location).where(
                    Location.tenant_id == caller.tenant_id, Location.id == location_id
                )
            )
        ).scalar_one_or_none()
        if row is not None:
            return row
    raise NotFound("no such location", field)


async def products_by_sku(
    session: AsyncSession, caller: Caller, skus: Sequence[str], *, lines: bool = True
) -> dict[str, Product]:
    """Map every SKU to its product; NOT_FOUND names the first unknown line."""
    wanted = {sku for sku in skus if len(sku) <= 64}
    rows = (
        await session.execute(
            select(Product).where(Product.tenant_id == caller.tenant_id, Product.sku.in_(wanted))
        )
    ).scalars()
    found = {p.sku: p for p in rows}
    for index, sku in enumerate(skus):
        if sku not in found:
            path = ["lines", str(index), "sku"] if lines else ["sku"]
            shown = sku if len(sku) <= 64 else sku[:61] + "..."
            raise NotFound(f"no product with SKU {shown!r}", path)
    return found
