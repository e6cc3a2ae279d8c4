"""What the stocktake domain hands back: plain records, serialisable for idempotent replay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.stock.records import MovementRecord, _Record


class StocktakeKind(StrEnum):
    FULL = "FULL"
    CYCLE = "CYCLE"


class StocktakeStatus(StrEnum):
    OPEN = "OPEN"
    POSTED = "POSTED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class StocktakeRecord(_Record):
    id: int
    location_id: int
    kind: str
    status: str
    scope: str
    category: str | None
    not_counted_days: int | None
    note: str | None
    started_by: str
    started_at: datetime
    posted_by: str | None
    posted_at: datetime | None
    cancelled_at: datetime | None

    _datetimes = ("started_at", "posted_at", "cancelled_at")


@dataclass(frozen=True, slots=True)
class LineRecord(_Record):
    id: int
    stocktake_id: int
    location_id: int
    product_id: int
    counted_quantity: int | None
    counted_at: datetime | None
    counted_by: str | None
    ledger_sequence_at_count: int | None
    expected_at_count: int | None
    variance: int | None
    unit_cost: Decimal | None
    movement_sequence: int | None

    _datetimes = ("counted_at",)
    _decimals = ("unit_cost",)


@dataclass(frozen=True, slots=True)
class StocktakeResult:
    """A stocktake mutation's answer: the stocktake, the lines it touched, its movements."""

    stocktake: StocktakeRecord
    lines: list[LineRecord] = field(default_factory=list)
    movements: list[MovementRecord] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "stocktake": self.stocktake.to_json(),
            "lines": [ln.to_json() for ln in self.lines],
            "movements": [m.to_json() for m in self.movements],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StocktakeResult:
        return cls(
            stocktake=StocktakeRecord.from_json(data["stocktake"]),
            lines=[LineRecord.from_json(x) for x in data["lines"]],
            movements=[MovementRecord.from_json(x) for x in data["movements"]],
        )
