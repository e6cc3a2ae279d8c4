"""The forecast recovers a known weekday profile and holiday uplift from synthetic history."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from domain.replenishment import forecast as fc
from domain.replenishment.calendar import EventKind, event_on, holidays_between, lunar_new_year

WEEKDAY = (0.8, 0.9, 0.95, 1.0, 1.1, 1.4, 1.25)
HOLIDAY = 1.5
BEFORE_LNY = 1.3
HOLIDAY_KINDS = {
    EventKind.LUNAR_NEW_YEAR,
    EventKind.STATUTORY_HOLIDAY,
    EventKind.GENERAL_HOLIDAY,
    EventKind.PUBLIC_HOLIDAY,
    EventKind.GOVERNMENT_HOLIDAY,
}
START = date(2024, 1, 1)
END = date(2026, 1, 1)


def truth(region: str, day: date) -> float:
    f = WEEKDAY[day.weekday()]
    ev = event_on(region, day)
    if ev is not None and ev.kind in HOLIDAY_KINDS:
        f *= HOLIDAY
    elif ev is not None and ev.kind is EventKind.BEFORE_LUNAR_NEW_YEAR:
        f *= BEFORE_LNY
    return f


def history(region: str, base: float, seed: int = 7) -> dict[date, float]:
    rng = random.Random(seed)
    out = {}
    day = START
    while day < END:
        out[day] = base * truth(region, day) * rng.uniform(0.95, 1.05)
        day += timedelta(days=1)
    return out


def within(value: float, expected: float, tolerance: float = 0.15) -> bool:
    return abs(value - expected) <= tolerance * expected


@pytest.mark.parametrize("region", ["HK", "MO"])
def test_weekday_profile_and_holiday_uplift_recovered(region: str) -> None:
    profile = fc.fit_profile(region, history(region, 100.0), START, END)
    mean = sum(WEEKDAY) / 7
    for w in range(7):
        assert within(profile.weekday[w], WEEKDAY[w] / mean), (w, profile.weekday)
    holiday_kinds = [k for k in profile.by_kind if EventKind(k) in HOLIDAY_KINDS]
    assert EventKind.LUNAR_NEW_YEAR.value in holiday_kinds
    assert len(holiday_kinds) >= 2
    for kind in holiday_kinds:
        assert within(profile.by_kind[kind], HOLIDAY), (kind, profile.by_kind[kind])
    assert within(profile.by_kind[EventKind.BEFORE_LUNAR_NEW_YEAR.value], BEFORE_LNY)
    # ordinary days before a holiday carry no uplift in this history
    assert within(profile.by_kind[EventKind.BEFORE_HOLIDAY.value], 1.0)


def test_forecast_of_a_sku_applies_the_profile_to_its_level() -> None:
    profile = fc.fit_profile("HK", history("HK", 100.0), START, END)
    sku = {d: v / 20 for d, v in history("HK", 100.0, seed=11).items()}  # 5 a day on average
    window = date(2025, 1, 1)
    start = window - timedelta(days=fc.LEVEL_DAYS)
    sold = sum(sku[start + timedelta(days=i)] for i in range(fc.LEVEL_DAYS))
    level = fc.level(profile, sold, start, window)
    assert within(level, 5.0 * sum(WEEKDAY) / 7, 0.1)
    lny = lunar_new_year(2025)
    days = fc.forecast(profile, level, lny - timedelta(days=3), 6)
    on_lny = next(d for d in days if d.day == lny)
    assert on_lny.event is not None and on_lny.event.name == "Lunar New Year day 1"
    assert within(on_lny.units, 5.0 * WEEKDAY[lny.weekday()] * HOLIDAY)
    before = days[0]
    assert before.event is not None and before.event.kind is EventKind.BEFORE_LUNAR_NEW_YEAR


def test_named_event_without_history_falls_back_to_its_kind() -> None:
    profile = fc.Profile("HK", by_kind={EventKind.GENERAL_HOLIDAY.value: 1.7})
    easter = next(
        d
        for d, ev in holidays_between("HK", date(2026, 3, 1), date(2026, 5, 1))
        if ev.kind is EventKind.GENERAL_HOLIDAY
    )
    assert profile.factor(easter)[1] == 1.7
    assert fc.Profile("HK").factor(easter)[1] == 1.0


def test_hong_kong_general_and_macau_government_holidays_are_known() -> None:
    hk = {ev.kind for _, ev in holidays_between("HK", date(2026, 1, 1), date(2026, 12, 31))}
    mo = {ev.kind for _, ev in holidays_between("MO", date(2026, 1, 1), date(2026, 12, 31))}
    assert {EventKind.STATUTORY_HOLIDAY, EventKind.GENERAL_HOLIDAY} <= hk
    assert {EventKind.PUBLIC_HOLIDAY, EventKind.GOVERNMENT_HOLIDAY} <= mo
    eve = lunar_new_year(2026) - timedelta(days=1)
    assert event_on("MO", eve) is not None


def test_model_beats_seasonal_naive_on_a_noisy_sku() -> None:
    rng = random.Random(3)
    profile = fc.fit_profile("HK", history("HK", 100.0), START, date(2025, 6, 1))
    sku = {
        d: float(max(0, round(rng.gauss(v / 25, (v / 25) ** 0.5))))
        for d, v in history("HK", 100.0).items()
    }
    result = fc.backtest(profile, sku, date(2025, 6, 1), 28)
    assert result.model.wape is not None and result.seasonal_naive.wape is not None
    assert result.model.wape < result.seasonal_naive.wape


def test_accuracy_figures() -> None:
    acc = fc.accuracy([10, 10], [12, 7])
    assert acc.wape == pytest.approx(0.25)
    assert acc.bias == pytest.approx(-0.05)
    assert fc.accuracy([0], [0]).wape is None
