"""Resolving the catalog references a command names (location ids, SKUs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db import driver
from db.driver import Statement
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
    require_skus(skus, found, lines=lines)
    return found


def require_skus(skus: Sequence[str], found: Mapping[str, Any], *, lines: bool = True) -> None:
    """NOT_FOUND naming the first SKU that is not in ``found``."""
    for index, sku in enumerate(skus):
        if sku not in found:
            path = ["lines", str(index), "sku"] if lines else ["sku"]
            shown = sku if len(sku) <= 64 else sku[:61] + "..."
            raise NotFound(f"no product with SKU {shown!r}", path)


@dataclass(frozen=True, slots=True)
class SaleReferences:
    """What a sale names, looked up together: its location (None: not the caller's),
    the tenant's currency and the products of its SKUs (id, retail price and the id of
    its level at the location, None when there is none yet)."""

    location_id: int | None
    currency: str
    products: dict[str, Any]

    @property
    def levels_exist(self) -> bool:
        """Every product found has a level row at the location."""
        return all(p.level_id is not None for p in self.products.values())


_SALE_REFERENCES = Statement(
    text(
        """
    SELECT t.currency, l.id AS location_id, p.sku, p.id, p.retail_price, s.id AS level_id
    FROM tenants t
    LEFT JOIN locations l ON l.tenant_id = t.tenant_id AND l.id = :location
    LEFT JOIN products p ON p.tenant_id = t.tenant_id AND p.sku = ANY(CAST(:skus AS text[]))
    LEFT JOIN stock_levels s
      ON s.tenant_id = t.tenant_id AND s.location_id = l.id AND s.product_id = p.id
    WHERE t.tenant_id = :tenant
    """
    )
)


async def sale_references(
    session: AsyncSession, caller: Caller, location_id: int | None, skus: Sequence[str]
) -> SaleReferences:
    """One statement instead of three (location, products, currency): a sale is the
    commonest write, and each statement through a session costs ~0.2 ms of Python."""
    rows = await driver.rows(
        session,
        _SALE_REFERENCES,
        {
            "tenant": caller.tenant_id,
            "location": location_id,
            "skus": [sku for sku in set(skus) if len(sku) <= 64],
        },
    )
    if not rows:
        raise NotFound("no such tenant", [])
    return SaleReferences(
        location_id=rows[0].location_id,
        currency=rows[0].currency,
        products={r.sku: r for r in rows if r.sku is not None},
    )
