"""Sales dated before a posted stocktake count: the count stands.

A sale dated before a posted count's time was already gone from the shelf when
it was counted, so the count's recorded loss included it. The sale still moves
stock (the ledger stays the sum of its movements), and a compensating STOCKTAKE
movement with reason ``LATE_SALE``, referencing the stocktake, gives back the
part of that loss the sale explains: never more than the loss the count
recorded, less what earlier late sales already gave back. Receive 14, count 10,
post; a 4-unit sale dated before the count arrives: −4 and +4, on hand 10.
(While the stocktake is open, ``domain.stocktakes.service`` already leaves such
sales out of the variance.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from domain.stocktakes.service import reference as stocktake_reference

LATE_SALE_REASON = "LATE_SALE"

# Posted counts at this location that some sale of the batch may predate.
_POSTED_COUNTS = text(
    """
    SELECT l.product_id, l.stocktake_id, l.variance, l.counted_at
    FROM stocktake_lines l
    JOIN stocktakes s ON s.tenant_id = l.tenant_id AND s.id = l.stocktake_id
    WHERE l.tenant_id = :t AND l.location_id = :location AND s.status = 'POSTED'
      AND l.product_id = ANY(CAST(:products AS bigint[]))
      AND l.counted_quantity IS NOT NULL AND l.counted_at > :occurred
    ORDER BY l.product_id, l.counted_at DESC
    """
)
_GIVEN_BACK = text(
    """
    SELECT COALESCE(SUM(delta), 0) FROM stock_movements
    WHERE tenant_id = :t AND location_id = :location AND kind = 'STOCKTAKE'
      AND reason = :reason AND reference = :ref AND product_id = :product
    """
)


async def posted_counts(
    session: AsyncSession,
    caller: Caller,
    location_id: int,
    sales: Sequence[Any],
    products: list[int],
) -> list[Any]:
    """Posted count lines at this location after the earliest of ``sales`` (their
    ``sale.occurred_at``), latest first per product."""
    if not sales or not products:
        return []
    earliest = min(p.sale.occurred_at for p in sales)
    args = {"t": caller.tenant_id, "location": location_id, "products": products}
    return list((await session.execute(_POSTED_COUNTS, {**args, "occurred": earliest})).all())


async def compensate_late_sale(
    session: AsyncSession,
    caller: Caller,
    location_id: int,
    counts: Sequence[Any],
    sold: dict[int, int],
    client: str,
    request_id: str | None,
) -> None:
    """Give back the part of a posted count's loss that a sale dated before it explains.

    ``counts`` are the posted count lines after the sale, latest first per product;
    the latest count of each product is the one that stands.
    """
    latest: dict[int, Any] = {}
    for c in counts:
        latest.setdefault(c.product_id, c)
    postings = []
    for product_id, c in sorted(latest.items()):
        ref = stocktake_reference(c.stocktake_id)
        given = (
            await session.execute(
                _GIVEN_BACK,
                {
                    "t": caller.tenant_id,
                    "location": location_id,
                    "reason": LATE_SALE_REASON,
                    "ref": ref,
                    "product": product_id,
                },
            )
        ).scalar_one()
        left = -min(c.variance or 0, 0) - int(given)
        units = min(sold[product_id], left)
        if units > 0:
            postings.append(
                Posting(
                    location_id=location_id,
                    product_id=product_id,
                    kind=MovementKind.STOCKTAKE,
                    delta=units,
                    reason=LATE_SALE_REASON,
                    note=f"sale {client} was dated before the count",
                    reference=ref,
                    allow_negative=True,
                )
            )
    if postings:
        await post(session, caller, postings, request_id=request_id)
