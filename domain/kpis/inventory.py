"""Inventory KPIs over days ``start``..``end`` (tenant time), for one store and/or category.

Days follow the movement report's rule (a late sale counts on its posted day).

- stock-out rate = SKU-days ending at or below zero on hand ÷ all SKU-days, over the
  SKU × locations that sold in the period (those that had demand);
- fill rate = (units sold − units oversold) ÷ units sold (an oversold unit is one sold
  from no stock);
- inventory turnover = cost of goods sold ÷ average inventory value
  ((opening value + closing value) ÷ 2);
- days of cover = closing value ÷ (cost of goods sold ÷ days in the period);
- sell-through = units sold ÷ (opening units + units received, transferred in or opened);
- shrinkage by reason = units and value lost through ADJUSTMENT and DAMAGE by reason,
  and STOCKTAKE losses;
- transfer lead time = mean hours from a transfer's creation (requested) to its last
  receipt, over transfers into the store(s) received in the period;
- forecast accuracy: null until forecasts exist.
A ratio whose denominator is zero is null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from domain.access import require
from domain.errors import InvalidInput
from domain.periods.service import tenant_zone

MAX_DAYS = 400
PLACES = Decimal("0.0001")

_MOVES = """
  m AS (
    SELECT m.location_id, m.product_id, m.kind, COALESCE(m.reason, 'OTHER') AS reason,
           m.delta, m.on_hand_after, m.delta * COALESCE(m.unit_cost, 0) AS value,
           COALESCE(s.posted_on, CAST(timezone(:zone, m.occurred_at) AS date)) AS day
    FROM stock_movements m
    JOIN products p ON p.tenant_id = m.tenant_id AND p.id = m.product_id
    LEFT JOIN sales s ON s.tenant_id = m.tenant_id AND s.id = m.sale_id
    WHERE m.tenant_id = :tenant
      AND (CAST(:location AS bigint) IS NULL OR m.location_id = CAST(:location AS bigint))
      AND (CAST(:category AS text) IS NULL OR p.category = CAST(:category AS text))
  )
"""

_FIGURES = text(
    "WITH"
    + _MOVES
    + """
    SELECT
      COALESCE(-SUM(delta) FILTER (WHERE kind = 'SALE' AND day >= :start), 0) AS sold,
      COALESCE(SUM(LEAST(-delta, GREATEST(0, -on_hand_after)))
               FILTER (WHERE kind = 'SALE' AND delta < 0 AND day >= :start), 0) AS oversold,
      COALESCE(-SUM(value) FILTER (WHERE kind = 'SALE' AND day >= :start), 0) AS cogs,
      COALESCE(SUM(value) FILTER (WHERE day < :start), 0) AS opening_value,
      COALESCE(SUM(value), 0) AS closing_value,
      COALESCE(SUM(delta) FILTER (WHERE day < :start), 0) AS opening_units,
      COALESCE(SUM(delta) FILTER (WHERE kind IN ('RECEIPT', 'OPENING', 'TRANSFER_IN')
                                  AND day >= :start), 0) AS received
    FROM m WHERE day <= :end
    """
)

_SHRINKAGE = text(
    "WITH"
    + _MOVES
    + """
    SELECT CASE WHEN kind = 'STOCKTAKE' THEN 'STOCKTAKE' ELSE reason END AS reason,
           -SUM(delta) AS units, -SUM(value) AS value
    FROM m
    WHERE day BETWEEN :start AND :end AND delta < 0
      AND kind IN ('ADJUSTMENT', 'DAMAGE', 'STOCKTAKE')
    GROUP BY 1 ORDER BY 1
    """
)

_STOCKOUTS = text(
    "WITH"
    + _MOVES
    + """,
    selling AS (SELECT DISTINCT location_id, product_id FROM m
                WHERE kind = 'SALE' AND day BETWEEN :start AND :end),
    days AS (SELECT CAST(d AS date) AS day
             FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') d),
    daily AS (SELECT location_id, product_id, day, SUM(delta) AS delta FROM m
              WHERE day BETWEEN :start AND :end GROUP BY 1, 2, 3),
    opening AS (SELECT location_id, product_id, SUM(delta) AS units FROM m
                WHERE day < :start GROUP BY 1, 2),
    grid AS (
      SELECT COALESCE(o.units, 0) + SUM(COALESCE(dl.delta, 0)) OVER (
               PARTITION BY k.location_id, k.product_id ORDER BY d.day) AS end_of_day
      FROM selling k CROSS JOIN days d
      LEFT JOIN opening o ON o.location_id = k.location_id AND o.product_id = k.product_id
      LEFT JOIN daily dl ON dl.location_id = k.location_id AND dl.product_id = k.product_id
                        AND dl.day = d.day
    )
    SELECT count(*) FILTER (WHERE end_of_day <= 0) AS out_days, count(*) AS all_days FROM grid
    """
)

_LEAD_TIME = text(
    """
    SELECT avg(extract(epoch FROM r.received_at - t.created_at) / 3600) AS hours,
           count(*) AS transfers
    FROM transfers t
    JOIN (SELECT reference, max(recorded_at) AS received_at FROM stock_movements
          WHERE tenant_id = :tenant AND kind = 'TRANSFER_IN' GROUP BY reference) r
      ON r.reference = 'TRF-' || t.id
    WHERE t.tenant_id = :tenant AND t.status = 'RECEIVED'
      AND CAST(timezone(:zone, r.received_at) AS date) BETWEEN :start AND :end
      AND (CAST(:location AS bigint) IS NULL OR t.to_location_id = CAST(:location AS bigint))
    """
)


@dataclass(frozen=True, slots=True)
class KpiQuery:
    start: date
    end: date
    location_id: int | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Shrinkage:
    reason: str
    units: int
    value: Decimal


@dataclass(frozen=True, slots=True)
class InventoryKpis:
    days: int
    units_sold: int
    units_oversold: int
    cost_of_goods_sold: Decimal
    opening_value: Decimal
    closing_value: Decimal
    stock_out_sku_days: int
    sku_days: int
    stock_out_rate: Decimal | None
    fill_rate: Decimal | None
    inventory_turnover: Decimal | None
    days_of_cover: Decimal | None
    sell_through: Decimal | None
    shrinkage: list[Shrinkage]
    transfer_lead_time_hours: Decimal | None
    transfers_received: int
    forecast_accuracy: Decimal | None = None


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(PLACES)


def check_period(start: date, end: date) -> int:
    if end < start:
        raise InvalidInput("the period ends before it starts", ["to"])
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days", ["to"])
    return days


async def inventory_kpis(session: AsyncSession, caller: Caller, query: KpiQuery) -> InventoryKpis:
    """Needs costs:read (the figures are at cost)."""
    require(caller, Permission.COSTS_READ)
    days = check_period(query.start, query.end)
    zone = await tenant_zone(session, caller.tenant_id)
    args: dict[str, Any] = {
        "tenant": caller.tenant_id,
        "zone": zone.key,
        "start": query.start,
        "end": query.end,
        "location": query.location_id,
        "category": query.category,
    }
    f = (await session.execute(_FIGURES, args)).one()
    shrinkage = [
        Shrinkage(r.reason, int(r.units), Decimal(r.value))
        for r in await session.execute(_SHRINKAGE, args)
    ]
    outs = (await session.execute(_STOCKOUTS, args)).one()
    lead = (await session.execute(_LEAD_TIME, args)).one()
    sold, oversold = int(f.sold), int(f.oversold)
    cogs = Decimal(f.cogs)
    average_value = (Decimal(f.opening_value) + Decimal(f.closing_value)) / 2
    return InventoryKpis(
        days=days,
        units_sold=sold,
        units_oversold=oversold,
        cost_of_goods_sold=cogs,
        opening_value=Decimal(f.opening_value),
        closing_value=Decimal(f.closing_value),
        stock_out_sku_days=int(outs.out_days),
        sku_days=int(outs.all_days),
        stock_out_rate=ratio(outs.out_days, outs.all_days),
        fill_rate=ratio(sold - oversold, sold),
        inventory_turnover=ratio(cogs, average_value),
        days_of_cover=ratio(Decimal(f.closing_value), cogs / days) if cogs else None,
        sell_through=ratio(sold, int(f.opening_units) + int(f.received)),
        shrinkage=shrinkage,
        transfer_lead_time_hours=Decimal(lead.hours).quantize(Decimal("0.01"))
        if lead.hours is not None
        else None,
        transfers_received=int(lead.transfers),
    )
