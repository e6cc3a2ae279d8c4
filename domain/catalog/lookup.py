"""Resolving the catalog references a command names (location ids, SKUs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

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
    # with the sale: its levels, locked in (location, product) order, when all exist
    locked: list[Any] | None = None
    # with the sale: an id taken for each line's movement
    movement_ids: list[int] | None = None

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
    take_movement_ids: bool = False  # an id for each line's movement too


# The lookup, and (``:insert``) the sale's row when the location is the caller's and
# every SKU is known: one round trip for the commonest write. Its total is what the
# lines come to at their given price, else the product's retail price, else 0. With
# the sale, the levels are locked too, in the ledger's order, but only when every one
# exists: a missing one is created by the ledger first (docs/write-path.md). And an id
# is taken for each line's movement, so the sale's audit event, which names them, can
# be written with them (domain.stock.ledger.post).
_SALE_REFERENCES = Statement(
    text(
        """
    WITH refs AS (
      SELECT t.currency, l.id AS location_id, p.sku, p.id, p.retail_price, p.cost_price,
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
    ),
    held AS MATERIALIZED (
      SELECT s.id AS lock_id, s.location_id AS lock_location_id,
             s.product_id AS lock_product_id, s.on_hand, s.reserved, s.in_transit,
             s.incoming, s.reorder_point, s.version, s.stock_value, s.average_cost
      FROM stock_levels s
      WHERE CAST(:insert AS boolean) AND s.tenant_id = :tenant AND s.location_id = :location
        AND s.id IN (SELECT level_id FROM refs)
        AND NOT EXISTS (SELECT 1 FROM refs WHERE id IS NOT NULL AND level_id IS NULL)
      ORDER BY s.location_id, s.product_id
      FOR UPDATE
    ),
    mids AS MATERIALIZED (
      SELECT array_agg(nextval(pg_get_serial_sequence('stock_movements', 'id'))) AS ids
      FROM generate_series(1, CAST(:movement_count AS integer))
    )
    SELECT refs.*, (SELECT id FROM sale) AS sale_id, (SELECT ids FROM mids) AS movement_ids,
           k.*
    FROM refs LEFT JOIN held k ON k.lock_id = refs.level_id
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
            "movement_count": len(sale.skus) if sale and sale.take_movement_ids else 0,
        },
    )
    if not rows:
        raise NotFound("no such tenant", [])
    locked = sorted(
        (
            _LockedLevel(
                r.lock_id,
                r.lock_location_id,
                r.lock_product_id,
                r.on_hand,
                r.reserved,
                r.in_transit,
                r.incoming,
                r.reorder_point,
                r.version,
                r.stock_value,
                r.average_cost,
                r.cost_price,
            )
            for r in rows
            if r.lock_id is not None
        ),
        key=lambda r: (r.location_id, r.product_id),
    )
    return SaleReferences(
        location_id=rows[0].location_id,
        currency=rows[0].currency,
        products={r.sku: r for r in rows if r.sku is not None},
        sale_id=rows[0].sale_id,
        locked=locked or None,
        movement_ids=rows[0].movement_ids,
    )


class _LockedLevel(NamedTuple):
    """A level row as the ledger's own lock reads it (``domain.stock.ledger``)."""

    id: int
    location_id: int
    product_id: int
    on_hand: int
    reserved: int
    in_transit: int
    incoming: int
    reorder_point: int | None
    version: int
    stock_value: Any
    average_cost: Any
    catalogue_cost: Any
