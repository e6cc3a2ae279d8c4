"""Business failures with stable codes; ``run_mutation`` turns them into userErrors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """A refused operation. ``code`` is a public, stable UserErrorCode name."""

    code = "INVALID"
    outcome = "failed"

    def __init__(
        self,
        message: str,
        field: Sequence[str] | None = None,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = list(field) if field else None
        self.details = details or {}


class InvalidInput(DomainError):
    code = "INVALID"


class NotFound(DomainError):
    code = "NOT_FOUND"


class InsufficientStock(DomainError):
    code = "INSUFFICIENT_STOCK"


class VersionConflict(DomainError):
    code = "VERSION_CONFLICT"


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"


class AlreadyExists(DomainError):
    code = "ALREADY_EXISTS"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    outcome = "denied"


class PeriodClosed(DomainError):
    """A movement dated on or before the close of its location's period."""

    code = "PERIOD_CLOSED"
