"""Daily demand forecast, pure: a weekday profile and event effects, learnt from history.

Top-down, because one SKU sells too few units a day to show a holiday by
itself: the *profile* (weekday factors and one factor per event name and per
event kind) is fitted on a location's total daily sales; each SKU then gets
only a *level* (units per ordinary day), its recent sales divided by the
profile's exposure over the same days. A day's forecast is
``level × weekday factor × event factor``.

Fitting: each day's ratio to the centred 7-day mean gives the weekday factors
(ordinary days only); an event's factor is the mean, over its past
occurrences, of sales divided by the local ordinary-day level (the
deseasonalised mean of ordinary days within two weeks) times the weekday
factor. An event name never seen falls back to its kind's mean, a kind never
seen to 1. Nothing is hard-coded but the shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.replenishment.calendar import Event, event_on

LEVEL_DAYS = 28
LOCAL_WINDOW = 14
MIN_OCCURRENCES_FOR_WEEKDAY = 2


@dataclass(frozen=True, slots=True)
class Profile:
    """What a location's history says about days: weekday and event multipliers."""

    region: str
    weekday: tuple[float, ...] = (1.0,) * 7
    by_name: Mapping[str, float] = field(default_factory=dict)
    by_kind: Mapping[str, float] = field(default_factory=dict)

    def event_factor(self, event: Event | None) -> float:
        if event is None:
            return 1.0
        if event.name in self.by_name:
            return self.by_name[event.name]
        return self.by_kind.get(event.kind.value, 1.0)

    def factor(self, day: date) -> tuple[float, float, Event | None]:
        """(weekday factor, event factor, event) of ``day``."""
        ev = event_on(self.region, day)
        return self.weekday[day.weekday()], self.event_factor(ev), ev


@dataclass(frozen=True, slots=True)
class ForecastDay:
    day: date
    units: float
    weekday_factor: float
    event_factor: float
    event: Event | None


def _days(start: date, end: date) -> list[date]:
    """``start`` to ``end`` exclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days)]


def fit_profile(region: str, daily: Mapping[date, float], start: date, end: date) -> Profile:
    """The profile of sales ``daily`` (missing days = 0) over [start, end)."""
    days = _days(start, end)
    if len(days) < 14:
        return Profile(region)
    y = [float(daily.get(d, 0.0)) for d in days]
    events = [event_on(region, d) for d in days]
    # weekday factors: ratio to the centred 7-day mean, ordinary days only
    ratios: dict[int, list[float]] = defaultdict(list)
    for i in range(3, len(days) - 3):
        if events[i] is not None:
            continue
        window = sum(y[i - 3 : i + 4]) / 7
        if window > 0:
            ratios[days[i].weekday()].append(y[i] / window)
    if all(len(ratios[w]) >= MIN_OCCURRENCES_FOR_WEEKDAY for w in range(7)):
        raw = [sum(ratios[w]) / len(ratios[w]) for w in range(7)]
        mean = sum(raw) / 7
        weekday = tuple(r / mean for r in raw) if mean > 0 else (1.0,) * 7
    else:
        weekday = (1.0,) * 7
    deseason = [
        y[i] / weekday[d.weekday()] if events[i] is None and weekday[d.weekday()] > 0 else None
        for i, d in enumerate(days)
    ]
    # prefix sums of ordinary days for the local level
    sums = [0.0]
    counts = [0]
    for v in deseason:
        sums.append(sums[-1] + (v or 0.0))
        counts.append(counts[-1] + (v is not None))
    by_name: dict[str, list[float]] = defaultdict(list)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for i, ev in enumerate(events):
        if ev is None:
            continue
        lo, hi = max(0, i - LOCAL_WINDOW), min(len(days), i + LOCAL_WINDOW + 1)
        n = counts[hi] - counts[lo]
        if n < 5:
            continue
        local = (sums[hi] - sums[lo]) / n
        expected = local * weekday[days[i].weekday()]
        if expected <= 0:
            continue
        ratio = y[i] / expected
        by_name[ev.name].append(ratio)
        by_kind[ev.kind.value].append(ratio)
    return Profile(
        region,
        weekday,
        {k: sum(v) / len(v) for k, v in by_name.items()},
        {k: sum(v) / len(v) for k, v in by_kind.items()},
    )


def exposure(profile: Profile, days: Sequence[date]) -> float:
    """How many ordinary days' worth of demand ``days`` hold."""
    total = 0.0
    for d in days:
        wf, ef, _ = profile.factor(d)
        total += wf * ef
    return total


def level(profile: Profile, units_sold: float, start: date, end: date) -> float:
    """Units per ordinary day of a SKU that sold ``units_sold`` over [start, end)."""
    weight = exposure(profile, _days(start, end))
    return units_sold / weight if weight > 0 else 0.0


def forecast(profile: Profile, daily_level: float, start: date, days: int) -> list[ForecastDay]:
    out = []
    for d in _days(start, start + timedelta(days=days)):
        wf, ef, ev = profile.factor(d)
        out.append(ForecastDay(d, daily_level * wf * ef, wf, ef, ev))
    return out


@dataclass(frozen=True, slots=True)
class Accuracy:
    """WAPE (sum |error| / sum actual) and bias (sum error / sum actual); error = f - a."""

    actual: float
    absolute_error: float
    error: float

    @property
    def wape(self) -> float | None:
        return self.absolute_error / self.actual if self.actual > 0 else None

    @property
    def bias(self) -> float | None:
        return self.error / self.actual if self.actual > 0 else None

    def __add__(self, other: Accuracy) -> Accuracy:
        return Accuracy(
            self.actual + other.actual,
            self.absolute_error + other.absolute_error,
            self.error + other.error,
        )


NO_ERROR = Accuracy(0.0, 0.0, 0.0)


def accuracy(actual: Sequence[float], predicted: Sequence[float]) -> Accuracy:
    return Accuracy(
        sum(actual),
        sum(abs(f - a) for a, f in zip(actual, predicted, strict=True)),
        sum(f - a for a, f in zip(actual, predicted, strict=True)),
    )


@dataclass(frozen=True, slots=True)
class Backtest:
    model: Accuracy
    seasonal_naive: Accuracy


def backtest(
    profile: Profile, sku_daily: Mapping[date, float], window_start: date, days: int
) -> Backtest:
    """Forecast [window_start, +days) from what was known before it, against the actuals.

    ``profile`` must have been fitted on history before ``window_start``. The
    baseline is seasonal-naive: the same weekday one week earlier (it sees the
    window's own actuals a week late, which favours it).
    """
    before = window_start - timedelta(days=LEVEL_DAYS)
    sold = sum(sku_daily.get(d, 0.0) for d in _days(before, window_start))
    lvl = level(profile, sold, before, window_start)
    predicted = forecast(profile, lvl, window_start, days)
    actual = [float(sku_daily.get(p.day, 0.0)) for p in predicted]
    naive = [float(sku_daily.get(p.day - timedelta(days=7), 0.0)) for p in predicted]
    return Backtest(
        accuracy(actual, [p.units for p in predicted]),
        accuracy(actual, naive),
    )
