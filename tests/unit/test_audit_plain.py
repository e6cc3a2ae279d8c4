"""The audit trail keeps only JSON-native values: ``_plain`` gives what a JSON round
trip and ``sanitise`` gave, so rows written before and after re-hash alike."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from uuid import UUID

from domain.audit.service import MAX_TEXT, _plain, sanitise


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


class Shape(Enum):
    ROUND = "round"


def round_trip(value: object) -> object:
    return sanitise(json.loads(json.dumps(value, default=str, ensure_ascii=False)))


CASES: list[object] = [
    None,
    True,
    0,
    -7,
    2**70,
    1.5,
    "plain",
    "nul\x00and\ud800lone",
    "x" * (MAX_TEXT + 5),
    Decimal("12.50"),
    datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
    date(2026, 12, 7),
    UUID("12345678-1234-5678-1234-567812345678"),
    Colour.RED,
    Level.HIGH,
    Shape.ROUND,
    {1, 2},
    ("a", 1, None),
    [{"k": [Decimal("1"), ("t",)], 5: "int key", 2.5: "float key"}],
    {None: 1, True: 2, "ü\x00": {"nested": [Colour.RED, Level.HIGH]}},
    {"stockLevel": "U3RvY2tMZXZlbDox", "onHand": 4, "version": 2},
]


def test_plain_is_the_json_round_trip() -> None:
    for value in CASES:
        assert _plain(value) == round_trip(value), value
        assert json.dumps(_plain(value)) == json.dumps(round_trip(value)), value


def test_not_a_number_stays_one() -> None:
    assert math.isnan(_plain(float("nan")))  # type: ignore[arg-type]
