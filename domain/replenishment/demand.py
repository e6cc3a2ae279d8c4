"""Demand forecasts as the API and the CLI show them: one SKU, and backtests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import Location
from domain.catalog.lookup import location_row, products_by_sku
from domain.errors import InvalidInput
from domain.replenishment import forecast as fc
from domain.replenishment import history

MAX_DAYS = 56
ERROR_DAYS = 28


@dataclass(frozen=True, slots=True)
class DemandForecast:
    location_id: int
    product_id: int
    sku: str
    start: date
    daily_level: float
    days: list[fc.ForecastDay]
    recent: fc.Backtest

    @property
    def total(self) -> float:
        return sum(d.units for d in self.days)


async def demand_forecast(
    session: AsyncSession, caller: Caller, location_id: int | None, sku: str, days: int
) -> DemandForecast:
    if not 0 < days <= MAX_DAYS:
        raise InvalidInput(f"days must be 1 to {MAX_DAYS}", ["days"])
    location = await location_row(session, caller, location_id, ["locationId"])
    product = (await products_by_sku(session, caller, [sku], lines=False))[sku]
    t = caller.tenant_id
    zone = await history.tenant_zone(session, t)
    today = await history.today(session, zone)
    profile = (await history.profiles(session, t, zone, [location.id], today))[location.id]
    start = today - timedelta(days=fc.LEVEL_DAYS + ERROR_DAYS)
    daily = (
        await history.sku_daily(session, t, zone, location.id, [product.id], start, today)
    ).get(product.id, {})
    level_start = today - timedelta(days=fc.LEVEL_DAYS)
    sold = sum(v for d, v in daily.items() if d >= level_start)
    level = fc.level(profile, sold, level_start, today)
    return DemandForecast(
        location_id=location.id,
        product_id=product.id,
        sku=sku,
        start=today,
        daily_level=level,
        days=fc.forecast(profile, level, today, days),
        recent=fc.backtest(profile, daily, today - timedelta(days=ERROR_DAYS), ERROR_DAYS),
    )


@dataclass(frozen=True, slots=True)
class LocationBacktest:
    location_id: int
    code: str
    skus: int
    result: fc.Backtest


def _figures(acc: fc.Accuracy) -> dict[str, Any]:
    return {
        "wape": round(acc.wape, 4) if acc.wape is not None else None,
        "bias": round(acc.bias, 4) if acc.bias is not None else None,
        "actualUnits": round(acc.actual, 2),
    }


async def backtest(
    session: AsyncSession, tenant_id: int, days: int, *, end: date | None = None
) -> dict[str, Any]:
    """WAPE and bias of the model and of seasonal-naive over the last ``days`` days.

    The profile is fitted on the history before the window and each SKU's level
    on the four weeks before it: nothing from the window leaks into the model.
    """
    if not 0 < days <= MAX_DAYS:
        raise InvalidInput(f"days must be 1 to {MAX_DAYS}", ["days"])
    zone = await history.tenant_zone(session, tenant_id)
    end = end or await history.today(session, zone)
    window = end - timedelta(days=days)
    locations = (
        await session.execute(
            select(Location.id, Location.code)
            .where(Location.tenant_id == tenant_id)
            .order_by(Location.code)
        )
    ).all()
    ids = [r.id for r in locations]
    profiles = await history.fit_profiles(session, tenant_id, zone, ids, window)
    per_location = []
    model_total, naive_total = fc.NO_ERROR, fc.NO_ERROR
    for loc in locations:
        start = window - timedelta(days=fc.LEVEL_DAYS)
        daily = await history.sku_daily(
            session,
            tenant_id,
            zone,
            loc.id,
            await _sold_products(session, tenant_id, loc.id),
            start,
            end,
        )
        if not daily:
            continue
        m, n = fc.NO_ERROR, fc.NO_ERROR
        for series in daily.values():
            r = fc.backtest(profiles[loc.id], series, window, days)
            m, n = m + r.model, n + r.seasonal_naive
        model_total, naive_total = model_total + m, naive_total + n
        per_location.append(
            {
                "location": loc.code,
                "skus": len(daily),
                "model": _figures(m),
                "seasonalNaive": _figures(n),
            }
        )
    return {
        "from": window.isoformat(),
        "to": (end - timedelta(days=1)).isoformat(),
        "days": days,
        "overall": {"model": _figures(model_total), "seasonalNaive": _figures(naive_total)},
        "locations": per_location,
    }


async def _sold_products(session: AsyncSession, tenant_id: int, location_id: int) -> list[int]:
    rows = await session.execute(
        text(
            "SELECT DISTINCT product_id FROM stock_movements WHERE tenant_id = :t "
            "AND location_id = :l AND kind = 'SALE'"
        ),
        {"t": tenant_id, "l": location_id},
    )
    return [r.product_id for r in rows]
