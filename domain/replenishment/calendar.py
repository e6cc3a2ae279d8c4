"""The days that move demand in Hong Kong and Macau, from the ``holidays`` package.

Every day gets at most one event, the most specific one: a Lunar New Year day,
then a holiday (Hong Kong statutory or general; Macau public or government),
then Lunar New Year's eve, the week before Lunar New Year, the day before a
holiday. Each event has a ``name`` (its effect is estimated per name) and a
``kind`` (the fallback when a name has no history yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import holidays


class EventKind(StrEnum):
    LUNAR_NEW_YEAR = "LUNAR_NEW_YEAR"
    LUNAR_NEW_YEAR_EVE = "LUNAR_NEW_YEAR_EVE"
    BEFORE_LUNAR_NEW_YEAR = "BEFORE_LUNAR_NEW_YEAR"
    STATUTORY_HOLIDAY = "STATUTORY_HOLIDAY"
    GENERAL_HOLIDAY = "GENERAL_HOLIDAY"
    PUBLIC_HOLIDAY = "PUBLIC_HOLIDAY"
    GOVERNMENT_HOLIDAY = "GOVERNMENT_HOLIDAY"
    BEFORE_HOLIDAY = "BEFORE_HOLIDAY"


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    kind: EventKind


REGIONS = ("HK", "MO")
LNY_DAYS = 3
BEFORE_LNY_DAYS = 7
# (category in the holidays package, our kind), most binding first
_CATEGORIES: dict[str, tuple[tuple[str, EventKind], ...]] = {
    # Hong Kong: statutory holidays (Employment Ordinance) are in both "public" and
    # the general holidays ("optional" in the package); the rest are general only.
    "HK": (("public", EventKind.STATUTORY_HOLIDAY), ("optional", EventKind.GENERAL_HOLIDAY)),
    "MO": (("public", EventKind.PUBLIC_HOLIDAY), ("government", EventKind.GOVERNMENT_HOLIDAY)),
}


@lru_cache(maxsize=64)
def lunar_new_year(year: int) -> date:
    """The first day of Lunar New Year in ``year`` (Macau lists it every year)."""
    for day, name in holidays.country_holidays("MO", years=year).items():
        if "New Year" in name and ("Chinese" in name or "Lunar" in name) and day.month <= 2:
            if "Eve" not in name and "second" not in name.lower() and "third" not in name.lower():
                return day
    raise LookupError(f"no Lunar New Year found for {year}")


@lru_cache(maxsize=128)
def _holidays(region: str, year: int) -> dict[date, Event]:
    found: dict[date, Event] = {}
    for category, kind in _CATEGORIES[region]:
        try:
            days = holidays.country_holidays(region, years=year, categories=(category,))
        except NotImplementedError:  # pragma: no cover - category missing in this version
            continue
        for day, name in sorted(days.items()):
            found.setdefault(day, Event(name.split(";")[0].strip(), kind))
    return found


@lru_cache(maxsize=128)
def year_events(region: str, year: int) -> dict[date, Event]:
    """Every event day of ``year`` in ``region``."""
    if region not in _CATEGORIES:
        region = "HK"
    events: dict[date, Event] = {}
    hols = {**_holidays(region, year), **_holidays(region, year + 1)}
    for day, ev in hols.items():
        before = day - timedelta(days=1)
        if before.year == year and before not in hols:
            events.setdefault(before, Event(f"Before {ev.name}", EventKind.BEFORE_HOLIDAY))
    for lny in {lunar_new_year(year), lunar_new_year(year + 1)}:
        for offset in range(2, BEFORE_LNY_DAYS + 1):
            day = lny - timedelta(days=offset)
            if day.year == year and day not in hols:
                events[day] = Event("Before Lunar New Year", EventKind.BEFORE_LUNAR_NEW_YEAR)
    for day, ev in _holidays(region, year).items():
        events[day] = ev
    for lny in {lunar_new_year(year), lunar_new_year(year + 1)}:
        eve = lny - timedelta(days=1)
        if eve.year == year:
            events[eve] = Event("Lunar New Year's Eve", EventKind.LUNAR_NEW_YEAR_EVE)
    lny = lunar_new_year(year)
    for i in range(LNY_DAYS):
        events[lny + timedelta(days=i)] = Event(
            f"Lunar New Year day {i + 1}", EventKind.LUNAR_NEW_YEAR
        )
    return events


def event_on(region: str, day: date) -> Event | None:
    return year_events(region, day.year).get(day)


def holidays_between(region: str, start: date, end: date) -> list[tuple[date, Event]]:
    """Holidays proper (not the days before them) from ``start`` to ``end`` inclusive."""
    wanted = {
        EventKind.LUNAR_NEW_YEAR,
        EventKind.STATUTORY_HOLIDAY,
        EventKind.GENERAL_HOLIDAY,
        EventKind.PUBLIC_HOLIDAY,
        EventKind.GOVERNMENT_HOLIDAY,
    }
    out = []
    day = start
    while day <= end:
        ev = event_on(region, day)
        if ev is not None and ev.kind in wanted:
            out.append((day, ev))
        day += timedelta(days=1)
    return out
