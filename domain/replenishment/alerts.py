"""Alerts and the scheduled replenishment jobs: the nightly forecast refresh, the hourly
holiday and low-stock check.

An alert is at most one per SKU × location × day (the table's unique key), so a
retried run, or two kinds of trouble on the same day, never alert twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, Table, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import ReplenishmentAlert
from domain.pagination import Page, make_page
from domain.replenishment import history, notify
from domain.replenishment.calendar import holidays_between
from domain.replenishment.suggestions import Suggestion, suggest

ALERTS = cast(Table, ReplenishmentAlert.__table__)
HOLIDAY_NOTICE = timedelta(hours=48)
LOW_STOCK, STOCKOUT, HOLIDAY = "LOW_STOCK", "FORECAST_STOCKOUT", "HOLIDAY"

_RULE_LOCATIONS = text(
    "SELECT DISTINCT location_id FROM replenishment_rules WHERE tenant_id = :t ORDER BY 1"
)
_REORDER_POINTS = text(
    """
    SELECT r.product_id, COALESCE(r.reorder_point, s.reorder_point) AS reorder_point
    FROM replenishment_rules r
    LEFT JOIN stock_levels s ON s.tenant_id = r.tenant_id AND s.location_id = r.location_id
                            AND s.product_id = r.product_id
    WHERE r.tenant_id = :t AND r.location_id = :l
    """
)


@dataclass(frozen=True, slots=True)
class NewAlert:
    location_id: int
    product_id: int
    kind: str
    available: int
    forecast_units: float
    suggested_quantity: int
    event: str | None = None


async def raise_alerts(
    session: AsyncSession, tenant_id: int, day: date, alerts: list[NewAlert]
) -> int:
    """Records the alerts not yet raised today; returns how many are new."""
    if not alerts:
        return 0
    stmt = (
        pg_insert(ALERTS)
        .values(
            [
                {
                    "tenant_id": tenant_id,
                    "location_id": a.location_id,
                    "product_id": a.product_id,
                    "day": day,
                    "kind": a.kind,
                    "event": a.event,
                    "available": a.available,
                    "forecast_units": Decimal(str(round(a.forecast_units, 2))),
                    "suggested_quantity": a.suggested_quantity,
                    "notified": False,
                }
                for a in sorted(alerts, key=lambda a: (a.location_id, a.product_id))
            ]
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "location_id", "product_id", "day"])
        .returning(ALERTS.c.id)
    )
    return len((await session.execute(stmt)).all())


def _available(s: Suggestion) -> int:
    return s.on_hand - s.reserved


async def refresh_forecasts(session: AsyncSession, tenant_id: int, now: datetime) -> dict[str, int]:
    """Nightly: refit every location's profile; alert SKUs that run out before goods can come."""
    zone = await history.tenant_zone(session, tenant_id)
    today = now.astimezone(zone).date()
    locations = sorted(await history.regions(session, tenant_id))
    fitted = await history.fit_profiles(session, tenant_id, zone, locations, today)
    stored = await history.store_profiles(session, tenant_id, fitted, today)
    caller = Caller.system(tenant_id)
    alerts: list[NewAlert] = []
    for (loc,) in (await session.execute(_RULE_LOCATIONS, {"t": tenant_id})).all():
        for s in await suggest(session, caller, loc, today=today):
            during_lead = sum(d.units for d in s.forecast_days[: s.lead_time_days])
            if s.quantity > 0 and _available(s) < during_lead:
                alerts.append(
                    NewAlert(loc, s.product_id, STOCKOUT, _available(s), during_lead, s.quantity)
                )
    raised = await raise_alerts(session, tenant_id, today, alerts)
    sent = await notify.notify_alerts(session, tenant_id, now)
    return {"profiles": stored, "alerts": raised, **sent}


async def holiday_check(session: AsyncSession, tenant_id: int, now: datetime) -> dict[str, int]:
    """Hourly: low stock, and for holidays starting within 48 hours, every SKU whose
    forecast over the holiday exceeds what is available."""
    zone = await history.tenant_zone(session, tenant_id)
    today = now.astimezone(zone).date()
    region = await history.regions(session, tenant_id)
    caller = Caller.system(tenant_id)
    alerts: list[NewAlert] = []
    checked = 0
    for (loc,) in (await session.execute(_RULE_LOCATIONS, {"t": tenant_id})).all():
        coming = [
            (day, ev)
            for day, ev in holidays_between(region.get(loc, "HK"), today, today + timedelta(days=2))
            if timedelta(0) < history.local_midnight(day, zone) - now <= HOLIDAY_NOTICE
        ]
        points = {
            r.product_id: r.reorder_point
            for r in await session.execute(_REORDER_POINTS, {"t": tenant_id, "l": loc})
        }
        found = await suggest(session, caller, loc, include_zero=True, today=today)
        profile = (await history.profiles(session, tenant_id, zone, [loc], today))[loc]
        for s in found:
            checked += 1
            for day, ev in coming:
                weekday, effect, _ = profile.factor(day)
                over = s.daily_level * weekday * effect
                if over > _available(s):
                    alerts.append(
                        NewAlert(
                            loc, s.product_id, HOLIDAY, _available(s), over, s.quantity, ev.name
                        )
                    )
                    break
            else:
                point = points.get(s.product_id)
                if point is not None and _available(s) <= point:
                    alerts.append(
                        NewAlert(
                            loc,
                            s.product_id,
                            LOW_STOCK,
                            _available(s),
                            s.forecast_units,
                            s.quantity,
                        )
                    )
    raised = await raise_alerts(session, tenant_id, today, alerts)
    sent = await notify.notify_alerts(session, tenant_id, now)
    return {"checked": checked, "alerts": raised, **sent}


async def list_alerts(
    session: AsyncSession,
    caller: Caller,
    *,
    location_id: int | None,
    limit: int,
    after: int | None,
) -> Page[Row[Any]]:
    stmt = select(ALERTS).where(ALERTS.c.tenant_id == caller.tenant_id)
    if location_id is not None:
        stmt = stmt.where(ALERTS.c.location_id == location_id)
    if after is not None:
        stmt = stmt.where(ALERTS.c.id < after)
    rows = (await session.execute(stmt.order_by(ALERTS.c.id.desc()).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)
