"""What the stock domain hands back: plain records, serialisable for idempotent replay."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Self

from domain import ids
from domain.audit.service import AuditEntry


class MovementKind(StrEnum):
    RECEIPT = "RECEIPT"
    SALE = "SALE"
    RETURN = "RETURN"
    ADJUSTMENT = "ADJUSTMENT"
    DAMAGE = "DAMAGE"
    TRANSFER_OUT = "TRANSFER_OUT"
    TRANSFER_IN = "TRANSFER_IN"
    STOCKTAKE = "STOCKTAKE"
    OPENING = "OPENING"  # opening stock, imported when moving onto stockgraph


class AdjustmentReason(StrEnum):
    COUNT_CORRECTION = "COUNT_CORRECTION"
    DAMAGE = "DAMAGE"
    THEFT = "THEFT"
    FOUND = "FOUND"
    OTHER = "OTHER"


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class _Record:
    """JSON round trip for the records below (datetimes and decimals as strings)."""

    _datetimes: tuple[str, ...] = ()
    _decimals: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        # fields() and getattr, not asdict(): asdict deep-copies, and this runs per line
        return {f.name: _encode(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        values = dict(data)
        for name in cls._datetimes:
            if values.get(name) is not None:
                values[name] = datetime.fromisoformat(values[name])
        for name in cls._decimals:
            if values.get(name) is not None:
                values[name] = Decimal(values[name])
        return cls(**values)

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class LevelRecord(_Record):
    id: int
    location_id: int
    product_id: int
    on_hand: int
    reserved: int
    in_transit: int
    incoming: int
    reorder_point: int | None
    version: int
    updated_at: datetime

    _datetimes = ("updated_at",)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class MovementRecord(_Record):
    id: int
    sequence: int
    location_id: int
    product_id: int
    kind: str
    delta: int
    on_hand_after: int
    oversell: bool
    reason: str | None
    note: str | None
    reference: str | None
    unit_cost: Decimal | None
    unit_price: Decimal | None
    sale_id: int | None
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    client_id: str | None
    request_id: str | None

    _datetimes = ("occurred_at", "recorded_at")
    _decimals = ("unit_cost", "unit_price")


@dataclass(frozen=True, slots=True)
class StockChange:
    """The result of one posting: levels after it, and the movements it wrote."""

    levels: list[LevelRecord]
    movements: list[MovementRecord]

    def to_json(self) -> dict[str, Any]:
        return {
            "levels": [lv.to_json() for lv in self.levels],
            "movements": [mv.to_json() for mv in self.movements],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StockChange:
        return cls(
            levels=[LevelRecord.from_json(x) for x in data["levels"]],
            movements=[MovementRecord.from_json(x) for x in data["movements"]],
        )

    def audit_entry(self, action: str, reason: str | None = None) -> AuditEntry:
        """The audit view of the posting: quantities before and after, per level.

        Movements are named by their global IDs, which exist before COMMIT (their
        sequences may be numbered only by the COMMIT that also chains this event).
        """
        level_of = {(lv.location_id, lv.product_id): lv.id for lv in self.levels}
        first_seen: dict[int, MovementRecord] = {}
        for m in self.movements:
            first_seen.setdefault(level_of[(m.location_id, m.product_id)], m)
        before = [
            {"stockLevel": ids.encode("StockLevel", lv), "onHand": m.on_hand_after - m.delta}
            for lv, m in first_seen.items()
        ]
        after = [
            {
                "stockLevel": ids.encode("StockLevel", lv.id),
                "onHand": lv.on_hand,
                "version": lv.version,
            }
            for lv in self.levels
        ]
        single = len(self.levels) == 1
        return AuditEntry(
            action=action,
            target_type="StockLevel" if single else "Location",
            target_id=ids.encode("StockLevel", self.levels[0].id)
            if single
            else ids.encode("Location", self.levels[0].location_id),
            before=before,
            after={
                "levels": after,
                "movements": [ids.encode("StockMovement", m.id) for m in self.movements],
            },
            reason=reason,
        )
