"""Checks shared by tests: the ledger against the levels, straight from the tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from db.session import Database

LEDGER_MISMATCHES = text(
    """
    SELECT s.location_id, s.product_id, s.on_hand, COALESCE(m.total, 0) AS ledger
    FROM stock_levels s
    LEFT JOIN (
        SELECT location_id, product_id, SUM(delta) AS total FROM stock_movements
        WHERE tenant_id = :t GROUP BY location_id, product_id
    ) m ON m.location_id = s.location_id AND m.product_id = s.product_id
    WHERE s.tenant_id = :t AND s.on_hand <> COALESCE(m.total, 0)
    """
)


async def ledger_mismatches(db: Database, tenant_id: int) -> list[tuple[int, int, int, int]]:
    async with db.owner_transaction() as session:
        rows = (await session.execute(LEDGER_MISMATCHES, {"t": tenant_id})).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def on_hand(db: Database, tenant_id: int, location_id: int, product_id: int) -> int:
    async with db.owner_transaction() as session:
        value = (
            await session.execute(
                text(
                    "SELECT on_hand FROM stock_levels WHERE tenant_id = :t AND location_id = :l "
                    "AND product_id = :p"
                ),
                {"t": tenant_id, "l": location_id, "p": product_id},
            )
        ).scalar_one_or_none()
    return int(value or 0)


async def count_rows(db: Database, table: str, tenant_id: int) -> int:
    async with db.owner_transaction() as session:
        return int(
            (
                await session.execute(
                    text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id}
                )
            ).scalar_one()
        )


# In transit at a destination = what its open transfers shipped and nobody has
# received, rejected or written off yet (the missing units included).
IN_TRANSIT_MISMATCHES = text(
    """
    WITH expected AS (
        SELECT t.to_location_id AS location_id, l.product_id,
               SUM(l.shipped - l.received - l.rejected - l.missing_resolved) AS units
        FROM transfers t
        JOIN transfer_lines l ON l.tenant_id = t.tenant_id AND l.transfer_id = t.id
        WHERE t.tenant_id = :t
        GROUP BY t.to_location_id, l.product_id
    )
    SELECT s.location_id, s.product_id, s.in_transit, COALESCE(e.units, 0) AS expected
    FROM stock_levels s
    FULL JOIN expected e ON e.location_id = s.location_id AND e.product_id = s.product_id
    WHERE COALESCE(s.tenant_id, :t) = :t
      AND COALESCE(s.in_transit, 0) <> COALESCE(e.units, 0)
    """
)

# A transfer's movements must add up to its lines: -shipped out of the source;
# received + rejected + written off into the destination; rejected and written-off
# units out again as DAMAGE or ADJUSTMENT. A transfer movement without its
# transfer (an orphan) shows up with no line.
TRANSFER_MOVEMENT_MISMATCHES = text(
    """
    WITH moved AS (
        SELECT m.reference, m.location_id, m.product_id,
               SUM(m.delta) FILTER (WHERE m.kind = 'TRANSFER_OUT') AS out_units,
               SUM(m.delta) FILTER (WHERE m.kind = 'TRANSFER_IN') AS in_units,
               SUM(m.delta) FILTER (WHERE m.kind IN ('DAMAGE', 'ADJUSTMENT')) AS lost_units
        FROM stock_movements m
        WHERE m.tenant_id = :t AND m.reference LIKE 'TRF-%'
        GROUP BY m.reference, m.location_id, m.product_id
    ), lines AS (
        SELECT 'TRF-' || t.id AS reference, t.from_location_id, t.to_location_id,
               l.product_id, l.shipped, l.received, l.rejected, l.missing_resolved
        FROM transfers t
        JOIN transfer_lines l ON l.tenant_id = t.tenant_id AND l.transfer_id = t.id
        WHERE t.tenant_id = :t
    )
    SELECT m.reference, m.location_id, m.product_id
    FROM moved m
    LEFT JOIN lines l ON l.reference = m.reference AND l.product_id = m.product_id
    WHERE l.reference IS NULL
       OR (m.location_id = l.from_location_id
           AND (COALESCE(m.out_units, 0) <> -l.shipped OR m.in_units IS NOT NULL))
       OR (m.location_id = l.to_location_id
           AND (COALESCE(m.in_units, 0) <> l.received + l.rejected + l.missing_resolved
                OR COALESCE(m.lost_units, 0) <> -(l.rejected + l.missing_resolved)))
       OR m.location_id NOT IN (l.from_location_id, l.to_location_id)
    UNION ALL
    SELECT l.reference, l.from_location_id, l.product_id
    FROM lines l
    WHERE l.shipped > 0 AND NOT EXISTS (
        SELECT 1 FROM moved m WHERE m.reference = l.reference AND m.product_id = l.product_id
          AND m.location_id = l.from_location_id)
    """
)


async def in_transit_mismatches(db: Database, tenant_id: int) -> list[tuple[int, int, int, int]]:
    """Levels whose in_transit differs from the outstanding units of transfers to them."""
    async with db.owner_transaction() as session:
        rows = (await session.execute(IN_TRANSIT_MISMATCHES, {"t": tenant_id})).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def transfer_movement_mismatches(db: Database, tenant_id: int) -> list[tuple[str, int, int]]:
    """Transfer movements that do not match their transfer's lines, or have no transfer."""
    async with db.owner_transaction() as session:
        rows = (await session.execute(TRANSFER_MOVEMENT_MISMATCHES, {"t": tenant_id})).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def units_by_product(db: Database, tenant_id: int) -> dict[int, tuple[int, int, int]]:
    """Per product: on hand + in transit everywhere, and the net of every non-transfer
    movement (receipts − sales − losses ± adjustments). Conservation: the two are equal."""
    async with db.owner_transaction() as session:
        held = (
            await session.execute(
                text(
                    "SELECT product_id, SUM(on_hand + in_transit) FROM stock_levels "
                    "WHERE tenant_id = :t GROUP BY product_id"
                ),
                {"t": tenant_id},
            )
        ).all()
        booked = dict(
            (
                await session.execute(
                    text(
                        "SELECT product_id, SUM(delta) FROM stock_movements WHERE tenant_id = :t "
                        "AND kind NOT IN ('TRANSFER_OUT', 'TRANSFER_IN') GROUP BY product_id"
                    ),
                    {"t": tenant_id},
                )
            ).all()
        )
    return {
        int(p): (int(total), int(booked.get(p, 0)), int(total) - int(booked.get(p, 0)))
        for p, total in held
    }


async def assert_conserved(db: Database, tenant_id: int) -> None:
    """Ledger = levels, in transit = open transfers, units conserved, no orphan movements."""
    assert await ledger_mismatches(db, tenant_id) == []
    assert await in_transit_mismatches(db, tenant_id) == []
    assert await transfer_movement_mismatches(db, tenant_id) == []
    unbalanced = {p: v for p, v in (await units_by_product(db, tenant_id)).items() if v[2] != 0}
    assert unbalanced == {}


async def receive_lines(gql: Any, tenant: Any, lines: dict[str, list[tuple[str, int]]]) -> None:
    """Stock in through receiveStock as the owner: {location code: [(sku, quantity)]}."""
    from tests.graphql.test_stock_concurrency import RECEIVE

    for loc, items in lines.items():
        data = await gql.ok(
            RECEIVE,
            tenant.owner,
            {
                "input": {
                    "locationId": tenant.loc(loc),
                    "lines": [{"sku": s, "quantity": q} for s, q in items],
                }
            },
        )
        assert data["receiveStock"]["userErrors"] == []
