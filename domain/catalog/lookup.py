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
    its level at the location, None when there is none yet); and, when the lookup was
    asked to record the sale too, the new sale's id (None: the receipt exists)."""

    location_id: int | None
    currency: str
    products: dict[str, Any]
    sale_id: int | None = None

    @property
    def levels_exist(self) -> bool:
        """Every product found has a level row at the location."""
        return all(p.level_id is not None for p in self.products.values())


@dataclass(frozen=True, slots=True)
class NewSale:
    """A sale to record in the same statement as its lookup: its receipt, when, the
    currency it was given (None: the tenant's), its payments (JSON) and its lines."""

    receipt: str
    occurred_at: Any
    currency: str | None
    payments: str
    skus: list[str]
    quantities: list[int]
    prices: list[Any]


# The lookup, and (``:insert``) the sale's row when the location is the caller's and
# every SKU is known: one round trip for the commonest write. Its total is what the
# lines come to at their given price, else the product's retail price, else 0.
_SALE_REFERENCES = Statement(
    text(
        """
    WITH refs AS (
      SELECT t.currency, l.id AS location_id, p.sku, p.id, p.retail_price,
             s.id AS level_id
      FROM tenants t
      LEFT JOIN locations l ON l.tenant_id = t.tenant_id AND l.id = :location
      LEFT JOIN products p
        ON p.tenant_id = t.tenant_id AND p.sku = ANY(CAST(:skus AS text[]))
      LEFT JOIN stock_levels s
        ON s.tenant_id = t.tenant_id AND s.location_id = l.id AND s.product_id = p.id
      WHERE t.tenant_id = :tenant
    ),
    line AS (
      SELECT x.sku, x.quantity, x.price
      FROM unnest(CAST(:line_skus AS text[]), CAST(:line_quantities AS integer[]),
                  CAST(:line_prices AS numeric[])) AS x(sku, quantity, price)
    ),
    sale AS (
      INSERT INTO sales (tenant_id, location_id, receipt_number, occurred_at, member_id,
                         currency, total, payments, oversold)
      SELECT CAST(:tenant AS bigint), r.location_id, CAST(:receipt AS text),
             CAST(:occurred_at AS timestamptz), NULL,
             coalesce(CAST(:currency AS text), r.currency),
             (SELECT sum(coalesce(x.price, p.retail_price, 0) * x.quantity)
              FROM line x JOIN refs p ON p.sku = x.sku),
             CAST(:payments AS jsonb), false
      FROM (SELECT location_id, currency FROM refs LIMIT 1) r
      WHERE CAST(:insert AS boolean) AND r.location_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM line x
                        WHERE NOT EXISTS (SELECT 1 FROM refs p WHERE p.sku = x.sku))
      ON CONFLICT (tenant_id, location_id, receipt_number) DO NOTHING
      RETURNING id
    )
    SELECT refs.*, (SELECT id FROM sale) AS sale_id FROM refs
    """
    )
)


async def sale_references(
    session: AsyncSession,
    caller: Caller,
    location_id: int | None,
    skus: Sequence[str],
    sale: NewSale | None = None,
) -> SaleReferences:
    """One statement instead of four (location, products, currency, the sale's row): a
    sale is the commonest write, and each statement is a round trip. ``sale``: record
    it too (when the location is the caller's and every SKU is known; the caller then
    checks the rest before using it, and a refusal rolls the row back with the rest)."""
    rows = await driver.rows(
        session,
        _SALE_REFERENCES,
        {
            "tenant": caller.tenant_id,
            "location": location_id,
            "skus": [sku for sku in set(skus) if len(sku) <= 64],
            "insert": sale is not None,
            "receipt": sale.receipt if sale else None,
            "occurred_at": sale.occurred_at if sale else None,
            "currency": sale.currency if sale else None,
            "payments": sale.payments if sale else None,
            "line_skus": sale.skus if sale else [],
            "line_quantities": sale.quantities if sale else [],
            "line_prices": sale.prices if sale else [],
        },
    )
    if not rows:
        raise NotFound("no such tenant", [])
    return SaleReferences(
        location_id=rows[0].location_id,
        currency=rows[0].currency,
        products={r.sku: r for r in rows if r.sku is not None},
        sale_id=rows[0].sale_id,
    )
