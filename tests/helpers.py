"""Checks shared by tests: the ledger against the levels, straight from the tables."""

from __future__ import annotations

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
