"""Sales history for the forecast: SALE movements by day in the tenant's time zone.

A sale counts on the day it happened (``occurred_at``), not the day it was
synced; returns are not subtracted (demand is what customers took).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DemandProfile, Location, Tenant
from domain.replenishment import forecast as fc

PROFILE_DAYS = 400

_DAILY_TOTALS = text(
    """
    SELECT location_id, CAST(occurred_at AT TIME ZONE :tz AS date) AS day, -SUM(delta) AS units
    FROM stock_movements
    WHERE tenant_id = :tenant AND kind = 'SALE' AND location_id = ANY(CAST(:locations AS bigint[]))
      AND occurred_at >= :start AND occurred_at < :end
    GROUP BY 1, 2
    """
)

_SKU_TOTALS = text(
    """
    SELECT location_id, product_id, -SUM(delta) AS units
    FROM stock_movements
    WHERE tenant_id = :tenant AND kind = 'SALE' AND location_id = ANY(CAST(:locations AS bigint[]))
      AND (CAST(:products AS bigint[]) IS NULL OR product_id = ANY(CAST(:products AS bigint[])))
      AND occurred_at >= :start AND occurred_at < :end
    GROUP BY 1, 2
    """
)

_SKU_DAILY = text(
    """
    SELECT product_id, CAST(occurred_at AT TIME ZONE :tz AS date) AS day, -SUM(delta) AS units
    FROM stock_movements
    WHERE tenant_id = :tenant AND kind = 'SALE' AND location_id = :location
      AND product_id = ANY(CAST(:products AS bigint[]))
      AND occurred_at >= :start AND occurred_at < :end
    GROUP BY 1, 2
    """
)


async def tenant_zone(session: AsyncSession, tenant_id: int) -> ZoneInfo:
    tz = (
        await session.execute(select(Tenant.timezone).where(Tenant.tenant_id == tenant_id))
    ).scalar_one()
    return ZoneInfo(tz)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


async def today(session: AsyncSession, zone: ZoneInfo) -> date:
    now = (await session.execute(select(func.now()))).scalar_one()
    return cast(datetime, now).astimezone(zone).date()


async def regions(session: AsyncSession, tenant_id: int) -> dict[int, str]:
    """Each location's region (HK or MO; HK when unset)."""
    rows = await session.execute(
        select(Location.id, Location.region).where(Location.tenant_id == tenant_id)
    )
    return {r.id: (r.region if r.region in ("HK", "MO") else "HK") for r in rows}


async def daily_totals(
    session: AsyncSession,
    tenant_id: int,
    zone: ZoneInfo,
    locations: Sequence[int],
    start: date,
    end: date,
) -> dict[int, dict[date, float]]:
    rows = await session.execute(
        _DAILY_TOTALS,
        {
            "tenant": tenant_id,
            "tz": zone.key,
            "locations": list(locations),
            "start": local_midnight(start, zone),
            "end": local_midnight(end, zone),
        },
    )
    out: dict[int, dict[date, float]] = defaultdict(dict)
    for r in rows:
        out[r.location_id][r.day] = float(r.units)
    return out


async def sku_totals(
    session: AsyncSession,
    tenant_id: int,
    zone: ZoneInfo,
    locations: Sequence[int],
    start: date,
    end: date,
    products: Sequence[int] | None = None,
) -> dict[tuple[int, int], float]:
    """Units sold per (location, product) over [start, end); ``products``: only those."""
    rows = await session.execute(
        _SKU_TOTALS,
        {
            "tenant": tenant_id,
            "locations": list(locations),
            "products": list(products) if products is not None else None,
            "start": local_midnight(start, zone),
            "end": local_midnight(end, zone),
        },
    )
    return {(r.location_id, r.product_id): float(r.units) for r in rows}


async def sku_daily(
    session: AsyncSession,
    tenant_id: int,
    zone: ZoneInfo,
    location_id: int,
    products: Sequence[int],
    start: date,
    end: date,
) -> dict[int, dict[date, float]]:
    rows = await session.execute(
        _SKU_DAILY,
        {
            "tenant": tenant_id,
            "tz": zone.key,
            "location": location_id,
            "products": list(products),
            "start": local_midnight(start, zone),
            "end": local_midnight(end, zone),
        },
    )
    out: dict[int, dict[date, float]] = defaultdict(dict)
    for r in rows:
        out[r.product_id][r.day] = float(r.units)
    return out


def profile_to_json(p: fc.Profile) -> dict[str, Any]:
    return {
        "region": p.region,
        "weekday": list(p.weekday),
        "byName": dict(p.by_name),
        "byKind": dict(p.by_kind),
    }


def profile_from_json(data: dict[str, Any]) -> fc.Profile:
    return fc.Profile(
        data["region"], tuple(data["weekday"]), dict(data["byName"]), dict(data["byKind"])
    )


async def fit_profiles(
    session: AsyncSession,
    tenant_id: int,
    zone: ZoneInfo,
    locations: Sequence[int],
    end: date,
    days: int = PROFILE_DAYS,
) -> dict[int, fc.Profile]:
    """Each location's profile from its sales over the ``days`` before ``end``."""
    region = await regions(session, tenant_id)
    start = end - timedelta(days=days)
    totals = await daily_totals(session, tenant_id, zone, locations, start, end)
    out = {}
    for loc in locations:
        series = totals.get(loc, {})
        first = min(series) if series else end
        out[loc] = fc.fit_profile(region.get(loc, "HK"), series, max(first, start), end)
    return out


# Profiles fitted by the nightly job, per location, so reads need not refit.
_STORED = text(
    """
    SELECT location_id, fitted_on, profile FROM demand_profiles
    WHERE tenant_id = :tenant AND location_id = ANY(CAST(:locations AS bigint[]))
    """
)


async def profiles(
    session: AsyncSession,
    tenant_id: int,
    zone: ZoneInfo,
    locations: Sequence[int],
    on: date,
) -> dict[int, fc.Profile]:
    """Stored profiles fitted within the last week; the others fitted now."""
    stored = {
        r.location_id: profile_from_json(r.profile)
        for r in await session.execute(_STORED, {"tenant": tenant_id, "locations": list(locations)})
        if (on - r.fitted_on).days <= 7
    }
    missing = [loc for loc in locations if loc not in stored]
    if missing:
        stored.update(await fit_profiles(session, tenant_id, zone, missing, on))
    return stored


async def store_profiles(
    session: AsyncSession, tenant_id: int, fitted: dict[int, fc.Profile], on: date
) -> int:
    if not fitted:
        return 0
    table = cast(Table, DemandProfile.__table__)
    stmt = pg_insert(table).values(
        [
            {
                "tenant_id": tenant_id,
                "location_id": loc,
                "fitted_on": on,
                "profile": profile_to_json(p),
            }
            for loc, p in sorted(fitted.items())
        ]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "location_id"],
        set_={"fitted_on": stmt.excluded.fitted_on, "profile": stmt.excluded.profile},
    )
    await session.execute(stmt)
    return len(fitted)
