"""The demand forecast as the API shows it: days, the events that move them, the error."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from domain.replenishment import forecast as fc
from domain.replenishment.calendar import EventKind
from domain.replenishment.demand import DemandForecast as DomainForecast
from schema.catalog import Product
from schema.locations import Location
from schema.stock import load_location, load_product

DemandEventKind = strawberry.enum(EventKind, name="DemandEventKind")


@strawberry.type(description="A day that moves demand: a holiday, or the days before one.")
class DemandEvent:
    name: str = strawberry.field(description="As the holidays calendar names it.")
    kind: DemandEventKind  # type: ignore[valid-type]


@strawberry.type
class ForecastDay:
    date: date
    units: float = strawberry.field(description="Expected units sold that day.")
    weekday_factor: float
    event_factor: float = strawberry.field(
        description="Learnt from this location's own history of the event (or of its kind)."
    )
    event: DemandEvent | None

    @classmethod
    def from_day(cls, d: fc.ForecastDay) -> ForecastDay:
        return cls(
            date=d.day,
            units=round(d.units, 3),
            weekday_factor=round(d.weekday_factor, 4),
            event_factor=round(d.event_factor, 4),
            event=DemandEvent(name=d.event.name, kind=d.event.kind) if d.event else None,
        )


@strawberry.type(description="WAPE and bias (error over actual units) of the last days.")
class ForecastError:
    days: int
    actual_units: float
    wape: float | None
    bias: float | None
    seasonal_naive_wape: float | None = strawberry.field(
        description="The same figure for 'same weekday last week', to compare."
    )
    seasonal_naive_bias: float | None


def _r(x: float | None) -> float | None:
    return round(x, 4) if x is not None else None


@strawberry.type
class DemandForecast:
    daily_level: float = strawberry.field(description="Units on an ordinary day.")
    total_units: float
    days: list[ForecastDay]
    recent_error: ForecastError
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await load_product(info, self.product_pk)

    @classmethod
    def from_domain(cls, f: DomainForecast) -> DemandForecast:
        m, n = f.recent.model, f.recent.seasonal_naive
        return cls(
            daily_level=round(f.daily_level, 3),
            total_units=round(f.total, 3),
            days=[ForecastDay.from_day(d) for d in f.days],
            recent_error=ForecastError(
                days=28,
                actual_units=m.actual,
                wape=_r(m.wape),
                bias=_r(m.bias),
                seasonal_naive_wape=_r(n.wape),
                seasonal_naive_bias=_r(n.bias),
            ),
            location_pk=f.location_id,
            product_pk=f.product_id,
        )
