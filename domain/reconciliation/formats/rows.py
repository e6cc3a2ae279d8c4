"""What every settlement format parses into, and the error that names line and column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One settled transaction. ``amount`` is signed: payments positive, refunds and
    cancellations negative; ``net`` is what reaches the merchant's account."""

    line: int
    kind: str  # PAYMENT | REFUND | CANCEL
    amount: Decimal
    fee: Decimal
    net: Decimal
    occurred_at: datetime
    settled_on: date
    reference: str | None = None
    original_reference: str | None = None
    provider_id: str | None = None
    terminal_id: str | None = None
    currency: str | None = None


class ParseError(ValueError):
    """A file that cannot be read as its format says; nothing of it is imported."""

    def __init__(self, line: int, column: str, message: str) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column
        self.message = message
