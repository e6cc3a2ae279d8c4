"""Closed periods: the type, the inputs and the payload."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from schema.describe import enum_values
from schema.errors import UserError
from schema.locations import Location
from schema.relay import Node


@enum_values(
    CLOSED="Closed: stock changes dated on or before through are refused "
    "(PERIOD_CLOSED) or posted to the first open day.",
    REOPENED="Reopened: the close no longer holds.",
)
@strawberry.enum(description="Whether a close holds.")
class PeriodStatus(Enum):
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"


@visible_with(Permission.STOCK_READ)
@strawberry.type(description="A close: one location (or every one) closed through a day.")
class Period(Node):
    through: date = strawberry.field(description="The last closed day, in the tenant's time zone.")
    status: PeriodStatus = strawberry.field(description="Closed, or reopened.")
    closed_at: datetime = strawberry.field(description="When it was closed.")
    closed_by: str = strawberry.field(description="Who closed it, as a stored subject.")
    reopened_at: datetime | None = strawberry.field(
        description="When it was reopened; null while closed."
    )
    reopened_by: str | None = strawberry.field(
        description="Who reopened it, as a stored subject; null while closed."
    )
    reopen_reason: str | None = strawberry.field(description="Why it was reopened.")
    location_pk: strawberry.Private[int | None]

    @strawberry.field(description="The location closed; null when the close covers every one.")
    async def location(self, info: strawberry.Info) -> Location | None:
        if self.location_pk is None:
            return None
        return Location.from_row(await info.context.loaders.location_by_id.load(self.location_pk))

    @classmethod
    def from_row(cls, row: Any) -> Period:
        return cls(
            id=strawberry.ID(ids.encode("Period", row.id)),
            through=row.through,
            status=PeriodStatus.REOPENED if row.reopened_at is not None else PeriodStatus.CLOSED,
            closed_at=row.closed_at,
            closed_by=row.closed_by,
            reopened_at=row.reopened_at,
            reopened_by=row.reopened_by,
            reopen_reason=row.reopen_reason,
            location_pk=row.location_id,
        )


@strawberry.input(description="The input of closePeriod.")
class ClosePeriodInput:
    through: date = strawberry.field(description="The last day to close (before today).")
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="The location to close; omitted: every location."
    )


@strawberry.input(description="The input of reopenPeriod.")
class ReopenPeriodInput:
    id: strawberry.ID = strawberry.field(
        description="The period's global ID. Only the owner, with a staff token, may reopen."
    )
    reason: str = strawberry.field(description="Why, kept on the period and in the audit trail.")


@strawberry.type(
    description="The result of closePeriod and reopenPeriod: what changed, or userErrors."
)
class PeriodPayload:
    period: Period | None = strawberry.field(
        description="The period after the change; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> PeriodPayload:
        return cls(period=None, user_errors=errors)
