"""userErrors: business failures as data, with stable codes."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from domain.errors import DomainError
from schema.describe import enum_values


@enum_values(
    NOT_FOUND="The ID or code names nothing in your tenant (another tenant's IDs answer this too).",
    INVALID="The input breaks a rule (range, length, format); the message says which.",
    INSUFFICIENT_STOCK="A decrease other than a sale would take on hand below zero.",
    VERSION_CONFLICT="Changed since you read it (expectedOnHand or version did not match); "
    "read again and retry.",
    IDEMPOTENCY_KEY_REUSED="This idempotencyKey was used before with a different input.",
    INVALID_TRANSITION="Not allowed in the object's current status (e.g. shipping a cancelled "
    "transfer).",
    FORBIDDEN="You lack the permission, or hold it but not at this location.",
    ALREADY_EXISTS="Something with this unique code or number exists already.",
    PERIOD_CLOSED="The date falls in a closed accounting period.",
)
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
    field: list[str] | None = strawberry.field(
        description='The path to the input field at fault (e.g. ["lines", "0", '
        '"quantity"]); null when no one field is.'
    )
    code: UserErrorCode = strawberry.field(description="A stable code to act on.")
    message: str = strawberry.field(
        description="A human-readable explanation in English; may change, do not parse it."
    )
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
