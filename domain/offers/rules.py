"""The trigger rules as pure functions of dates: when each fires, and its once-only key.

- BIRTHDAY: fires from ``days_before`` days before the member's next birthday up to
  the day itself; occasion ``birthday:<year of that birthday>`` (once a year).
  A 29 February birthday falls on 28 February in other years.
- REPLENISHMENT_DUE: per member and SKU, with at least two purchases; the usual
  interval is the median gap between consecutive purchases; due when
  ``now - last purchase > interval + grace``; occasion
  ``replenish:<product id>:<last sale id>`` (once per last purchase).
- CROSS_STORE: the home store is out (available <= 0) of a SKU the member bought in
  the last ``lookback_days`` and another store has it; occasion
  ``cross:<product id>:<local date>`` (once per member, SKU and day).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from statistics import median

from domain.errors import InvalidInput


class RuleKind(StrEnum):
    BIRTHDAY = "BIRTHDAY"
    REPLENISHMENT_DUE = "REPLENISHMENT_DUE"
    CROSS_STORE = "CROSS_STORE"


PLACEHOLDERS = frozenset({"name", "coupon", "store", "value", "valid_until", "product"})


def _on(year: int, month: int, day: int) -> date:
    if month == 2 and day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return date(year, month, day)


def birthday_occasion(birthday: str, today: date, days_before: int) -> str | None:
    """``birthday`` as stored (``MM-DD`` or ``YYYY-MM-DD``)."""
    month, day = int(birthday[-5:-3]), int(birthday[-2:])
    for year in (today.year, today.year + 1):
        when = _on(year, month, day)
        if when >= today:
            return f"birthday:{year}" if (when - today).days <= days_before else None
    return None  # pragma: no cover


def replenishment_due(
    purchases: Sequence[tuple[int, datetime]], now: datetime, grace: timedelta
) -> int | None:
    """``purchases``: (sale id, when) of one member and one SKU, any order. The id of
    the last sale when a repurchase is due (the occasion names it, so a new purchase
    starts a new cycle), else None."""
    if len(purchases) < 2:
        return None
    ordered = sorted(purchases, key=lambda p: (p[1], p[0]))
    gaps = [(b[1] - a[1]).total_seconds() for a, b in pairwise(ordered)]
    interval = timedelta(seconds=median(gaps))
    last_id, last_at = ordered[-1]
    if interval <= timedelta(0) or now - last_at <= interval + grace:
        return None
    return last_id


def check_template(text: str, field: list[str]) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        raise InvalidInput("the template has an unbalanced brace", field) from None
    unknown = names - PLACEHOLDERS
    if unknown:
        known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
        raise InvalidInput(f"unknown placeholder {sorted(unknown)[0]!r}; use {known}", field)


def render(text: str, values: Mapping[str, str]) -> str:
    return text.format_map({k: values.get(k, "") for k in PLACEHOLDERS})
