"""Reading stocktakes, keyset-paged, and the monthly count record of a location."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import Stocktake, StocktakeLine, Tenant
from domain.errors import InvalidInput
from domain.pagination import Page, make_page

T = Stocktake.__table__
L = StocktakeLine.__table__


async def list_stocktakes(
    session: AsyncSession,
    caller: Caller,
    *,
    limit: int,
    after: int | None,
    location_id: int | None,
    status: str | None,
) -> Page[Row[Any]]:
    """Newest first (by id, descending)."""
    stmt = select(T).where(T.c.tenant_id == caller.tenant_id)
    if location_id is not None:
        stmt = stmt.where(T.c.location_id == location_id)
    if status is not None:
        stmt = stmt.where(T.c.status == status)
    if after is not None:
        stmt = stmt.where(T.c.id < after)
    rows = (await session.execute(stmt.order_by(T.c.id.desc()).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


def parse_month(month: str) -> date:
    """ "2026-11" -> 2026-11-01; anything else is INVALID."""
    try:
        year, _, mon = month.partition("-")
        if len(year) != 4 or len(mon) != 2:
            raise ValueError(month)
        return date(int(year), int(mon), 1)
    except ValueError:
        raise InvalidInput('month must be written "YYYY-MM"', ["month"]) from None


@dataclass(frozen=True, slots=True)
class CountTotals:
    lines_counted: int = 0
    net_variance_units: int = 0
    loss_units: int = 0
    gain_units: int = 0
    net_variance_cost: Decimal = Decimal("0")
    loss_cost: Decimal = Decimal("0")
    gain_cost: Decimal = Decimal("0")
    uncosted_lines: int = 0


@dataclass(frozen=True, slots=True)
class CountRecord:
    """The stocktakes posted at one location in one month (tenant time zone)."""

    location_id: int
    month: date
    currency: str
    stocktakes: list[Row[Any]] = field(default_factory=list)
    totals: CountTotals = field(default_factory=CountTotals)


def totals_of(lines: list[Row[Any]]) -> CountTotals:
    net = loss = gain = uncosted = 0
    net_cost = loss_cost = gain_cost = Decimal("0")
    for ln in lines:
        v = ln.variance or 0
        net += v
        loss += -v if v < 0 else 0
        gain += v if v > 0 else 0
        if ln.unit_cost is None:
            uncosted += 1 if v else 0
            continue
        cost = ln.unit_cost * v
        net_cost += cost
        loss_cost += -cost if v < 0 else 0
        gain_cost += cost if v > 0 else 0
    return CountTotals(
        lines_counted=len(lines),
        net_variance_units=net,
        loss_units=loss,
        gain_units=gain,
        net_variance_cost=net_cost,
        loss_cost=loss_cost,
        gain_cost=gain_cost,
        uncosted_lines=uncosted,
    )


async def count_record(
    session: AsyncSession, caller: Caller, location_id: int, month: str
) -> CountRecord:
    first = parse_month(month)
    tenant = (
        await session.execute(
            select(Tenant.timezone, Tenant.currency).where(Tenant.tenant_id == caller.tenant_id)
        )
    ).one()
    local_month = func.date_trunc("month", func.timezone(tenant.timezone, T.c.posted_at))
    stocktakes = (
        await session.execute(
            select(T)
            .where(
                T.c.tenant_id == caller.tenant_id,
                T.c.location_id == location_id,
                T.c.status == "POSTED",
                func.date(local_month) == first,
            )
            .order_by(T.c.posted_at, T.c.id)
        )
    ).all()
    lines = (
        (
            await session.execute(
                select(L).where(
                    and_(
                        L.c.tenant_id == caller.tenant_id,
                        L.c.stocktake_id.in_([s.id for s in stocktakes]),
                        L.c.counted_quantity.is_not(None),
                    )
                )
            )
        ).all()
        if stocktakes
        else []
    )
    return CountRecord(
        location_id=location_id,
        month=first,
        currency=tenant.currency,
        stocktakes=list(stocktakes),
        totals=totals_of(list(lines)),
    )
