"""The demand forecast as the API shows it: days, the events that move them, the error."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from domain.replenishment import forecast as fc
from domain.replenishment.calendar import EventKind
from domain.replenishment.demand import DemandForecast as DomainForecast
from schema.catalog import Product
from schema.describe import enum_values
from schema.locations import Location
from schema.stock import load_location, load_product

DemandEventKind = enum_values(
    LUNAR_NEW_YEAR="A Lunar New Year holiday.",
    LUNAR_NEW_YEAR_EVE="Lunar New Year's eve.",
    BEFORE_LUNAR_NEW_YEAR="The week before Lunar New Year.",
    STATUTORY_HOLIDAY="A Hong Kong statutory holiday.",
    GENERAL_HOLIDAY="A Hong Kong general holiday.",
    PUBLIC_HOLIDAY="A Macau public holiday.",
    GOVERNMENT_HOLIDAY="A Macau government holiday.",
    BEFORE_HOLIDAY="The day before a holiday.",
)(
    strawberry.enum(
        EventKind,
        name="DemandEventKind",
        description="Kinds of days that move demand in Hong Kong and Macau.",
    )
)


@strawberry.type(description="A day that moves demand: a holiday, or the days before one.")
class DemandEvent:
    name: str = strawberry.field(description="As the holidays calendar names it.")
    kind: DemandEventKind = strawberry.field(  # type: ignore[valid-type]
        description="The kind of event; its effect is used when the name has no history."
    )


@strawberry.type(
    description="One day of a forecast: units = dailyLevel × weekdayFactor × eventFactor."
)
class ForecastDay:
    date: date = strawberry.field(description="The day (tenant time zone).")
    units: float = strawberry.field(description="Expected units sold that day.")
    weekday_factor: float = strawberry.field(
        description="How this weekday sells against an ordinary day (1 = average)."
    )
    event_factor: float = strawberry.field(
        description="Learnt from this location's own history of the event (or of its kind)."
    )
    event: DemandEvent | None = strawberry.field(
        description="The holiday that moves this day, if any."
    )

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
    days: int = strawberry.field(description="The days measured (28).")
    actual_units: float = strawberry.field(description="Units actually sold in them.")
    wape: float | None = strawberry.field(
        description="Weighted absolute percentage error: sum |forecast − actual| / sum "
        "actual (0 is perfect); null without sales."
    )
    bias: float | None = strawberry.field(
        description="Sum (forecast − actual) / sum actual: above 0 over-forecasts; null "
        "without sales."
    )
    seasonal_naive_wape: float | None = strawberry.field(
        description="The same figure for 'same weekday last week', to compare."
    )
    seasonal_naive_bias: float | None = strawberry.field(
        description="The bias of 'same weekday last week', to compare."
    )


def _r(x: float | None) -> float | None:
    return round(x, 4) if x is not None else None


@strawberry.type(
    description="Expected daily sales of one SKU at one location, with the factors that "
    "shape each day and how accurate the forecast has been."
)
class DemandForecast:
    daily_level: float = strawberry.field(description="Units on an ordinary day.")
    total_units: float = strawberry.field(description="The sum of the days' units.")
    days: list[ForecastDay] = strawberry.field(description="One entry per day from today.")
    recent_error: ForecastError = strawberry.field(
        description="How the model did over the last 28 days."
    )
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]

    @strawberry.field(description="The location.")
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field(description="The product.")
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
