"""What the purchasing domain hands back: plain records, serialisable for replay and events."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.approvals.service import DecisionRecord


@dataclass(frozen=True, slots=True)
class POLineRecord:
    product_id: int
    position: int
    quantity: int
    received: int
    unit_cost: Decimal
    supplier_sku: str | None

    @property
    def outstanding(self) -> int:
        return self.quantity - self.received

    @classmethod
    def from_row(cls, row: Any) -> POLineRecord:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class PurchaseOrderRecord:
    id: int
    status: str
    supplier_id: int
    location_id: int
    currency: str
    note: str | None
    close_reason: str | None
    created_by: str
    submitted_by: str | None
    approval_request_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    lines: tuple[POLineRecord, ...]

    @property
    def units(self) -> int:
        return sum(ln.quantity for ln in self.lines)

    @property
    def outstanding(self) -> int:
        return sum(ln.outstanding for ln in self.lines)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("created_at", "updated_at", "sent_at"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value is not None else None
        for ln in data["lines"]:
            ln["unit_cost"] = str(ln["unit_cost"])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PurchaseOrderRecord:
        values = dict(data)
        for key in ("created_at", "updated_at", "sent_at"):
            if values[key] is not None:
                values[key] = datetime.fromisoformat(values[key])
        values["lines"] = tuple(
            POLineRecord(**{**ln, "unit_cost": Decimal(ln["unit_cost"])}) for ln in values["lines"]
        )
        return cls(**values)

    @classmethod
    def from_rows(cls, row: Any, lines: list[Any]) -> PurchaseOrderRecord:
        names = [f.name for f in fields(cls) if f.name != "lines"]
        return cls(
            **{n: getattr(row, n) for n in names},
            lines=tuple(POLineRecord.from_row(ln) for ln in lines),
        )


@dataclass(frozen=True, slots=True)
class PurchaseOrderOutcome:
    """One purchase-order mutation: the order after it, and what it did."""

    action: str
    before_status: str | None
    order: PurchaseOrderRecord
    movement_sequences: tuple[int, ...] = ()
    decision: DecisionRecord | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "beforeStatus": self.before_status,
            "order": self.order.to_json(),
            "movementSequences": list(self.movement_sequences),
            "decision": self.decision.to_json() if self.decision else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PurchaseOrderOutcome:
        return cls(
            action=data["action"],
            before_status=data["beforeStatus"],
            order=PurchaseOrderRecord.from_json(data["order"]),
            movement_sequences=tuple(data["movementSequences"]),
            decision=DecisionRecord.from_json(data["decision"]) if data["decision"] else None,
        )
