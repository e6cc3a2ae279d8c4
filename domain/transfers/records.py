"""What the transfer domain hands back: plain records, serialisable for idempotent replay."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from domain.approvals.service import DecisionRecord


@dataclass(frozen=True, slots=True)
class LineRecord:
    product_id: int
    position: int
    quantity: int
    shipped: int
    received: int
    rejected: int
    rejection_reason: str | None
    missing_resolved: int
    resolution_reason: str | None

    @property
    def outstanding(self) -> int:
        """Shipped and not yet accounted for: still in transit (missing, until resolved)."""
        return self.shipped - self.received - self.rejected - self.missing_resolved

    @classmethod
    def from_row(cls, row: Any) -> LineRecord:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class TransferRecord:
    id: int
    status: str
    from_location_id: int
    to_location_id: int
    note: str | None
    created_by: str
    requested_by: str | None
    approval_request_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    lines: tuple[LineRecord, ...]

    @property
    def outstanding(self) -> int:
        return sum(ln.outstanding for ln in self.lines)

    @property
    def units(self) -> int:
        return sum(ln.quantity for ln in self.lines)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TransferRecord:
        values = dict(data)
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        values["updated_at"] = datetime.fromisoformat(values["updated_at"])
        values["lines"] = tuple(LineRecord(**ln) for ln in values["lines"])
        return cls(**values)

    @classmethod
    def from_rows(cls, row: Any, lines: list[Any]) -> TransferRecord:
        names = [f.name for f in fields(cls) if f.name != "lines"]
        return cls(
            **{n: getattr(row, n) for n in names},
            lines=tuple(LineRecord.from_row(ln) for ln in lines),
        )


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    """One transfer mutation: the transfer after it, and what it did."""

    action: str
    before_status: str | None
    transfer: TransferRecord
    movement_sequences: tuple[int, ...] = ()
    decision: DecisionRecord | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "beforeStatus": self.before_status,
            "transfer": self.transfer.to_json(),
            "movementSequences": list(self.movement_sequences),
            "decision": self.decision.to_json() if self.decision else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TransferOutcome:
        return cls(
            action=data["action"],
            before_status=data["beforeStatus"],
            transfer=TransferRecord.from_json(data["transfer"]),
            movement_sequences=tuple(data["movementSequences"]),
            decision=DecisionRecord.from_json(data["decision"]) if data["decision"] else None,
        )
