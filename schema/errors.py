"""userErrors: business failures as data, with stable codes."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from domain.errors import DomainError


@strawberry.enum(description="Stable codes of business failures.")
class UserErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    FORBIDDEN = "FORBIDDEN"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    PERIOD_CLOSED = "PERIOD_CLOSED"


@strawberry.type(
    description="Why a mutation was refused. `field` is the path to the input at fault."
)
class UserError:
    field: list[str] | None
    code: UserErrorCode
    message: str
    current_on_hand: int | None = strawberry.field(
        default=None,
        description="For VERSION_CONFLICT and INSUFFICIENT_STOCK: the quantity on hand now.",
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "code": self.code.value,
            "message": self.message,
            "currentOnHand": self.current_on_hand,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserError:
        return cls(
            field=data["field"],
            code=UserErrorCode(data["code"]),
            message=data["message"],
            current_on_hand=data.get("currentOnHand"),
        )

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(
            field=error.field,
            code=UserErrorCode(error.code),
            message=error.message,
            current_on_hand=error.details.get("currentOnHand"),
        )
