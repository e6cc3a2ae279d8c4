"""Replenishment alerts, who gets them and when, and the scheduled job runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from schema.catalog import Product
from schema.errors import UserError
from schema.locations import Location
from schema.relay import Node
from schema.stock import load_location, load_product


@strawberry.type(description="A named counter of a job run.")
class JobCount:
    name: str = strawberry.field(description="What was counted.")
    value: int = strawberry.field(description="How many.")


@visible_with(Permission.ADMIN)
@strawberry.type(description="One run of a scheduled job for this tenant.")
class JobRun(Node):
    job: str = strawberry.field(description="The job's name.")
    period: str = strawberry.field(description="The period it ran for; each runs once per period.")
    status: str = strawberry.field(description="RUNNING, SUCCEEDED or FAILED.")
    attempts: int = strawberry.field(description="How many times this period's run was tried.")
    started_at: datetime = strawberry.field(description="When the last attempt started.")
    finished_at: datetime | None = strawberry.field(
        description="When it finished; null while running."
    )
    counts: list[JobCount] = strawberry.field(description="What it did, as named counters.")
    error: str | None = strawberry.field(description="Why it failed; null unless FAILED.")

    @classmethod
    def from_row(cls, row: Any) -> JobRun:
        return cls(
            id=strawberry.ID(ids.encode("JobRun", row.id)),
            job=row.job,
            period=row.period,
            status=row.status,
            attempts=row.attempts,
            started_at=row.started_at,
            finished_at=row.finished_at,
            counts=[JobCount(name=k, value=int(v)) for k, v in sorted((row.counts or {}).items())],
            error=row.error,
        )


@visible_with(Permission.STOCK_READ)
@strawberry.type(description="Raised at most once per SKU and location per day.")
class ReplenishmentAlert(Node):
    day: date = strawberry.field(
        description="The business day it was raised for (tenant time zone)."
    )
    kind: str = strawberry.field(description="LOW_STOCK, FORECAST_STOCKOUT or HOLIDAY.")
    event: str | None = strawberry.field(description="The holiday, for HOLIDAY alerts.")
    available: int = strawberry.field(description="Units available when it was raised.")
    forecast_units: float = strawberry.field(
        description="Units forecast to sell over the cover days."
    )
    suggested_quantity: int = strawberry.field(
        description="Units the suggestion said to move or buy."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]

    @strawberry.field(description="The location.")
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field(description="The product.")
    async def product(self, info: Info) -> Product:
        return await load_product(info, self.product_pk)

    @classmethod
    def from_row(cls, row: Any) -> ReplenishmentAlert:
        return cls(
            id=strawberry.ID(ids.encode("ReplenishmentAlert", row.id)),
            day=row.day,
            kind=row.kind,
            event=row.event,
            available=row.available,
            forecast_units=float(row.forecast_units),
            suggested_quantity=row.suggested_quantity,
            created_at=row.created_at,
            location_pk=row.location_id,
            product_pk=row.product_id,
        )


@strawberry.input(description="The input of setAlertContact.")
class SetAlertContactInput:
    staff_id: strawberry.ID = strawberry.field(
        description="The staff member who gets the alerts (a Staff ID). Needs admin (as "
        "setAlertQuietHours)."
    )
    channel: str = strawberry.field(description="EMAIL, SMS or CHAT.")
    recipient: str = strawberry.field(
        description="An email address, an E.164 number, or for CHAT 'group', '@all' or a number."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(
    description="The input of setAlertQuietHours: when alerts wait, sent only after the "
    "quiet hours. Omit start and end to clear them."
)
class SetAlertQuietHoursInput:
    start: str | None = strawberry.field(default=None, description="HH:MM, tenant time.")
    end: str | None = strawberry.field(default=None, description="HH:MM; may be after midnight.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.type(
    description="The result of setAlertContact and setAlertQuietHours: what changed, or userErrors."
)
class AlertSettingsPayload:
    ok: bool = strawberry.field(description="True when the setting was saved.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> AlertSettingsPayload:
        return cls(ok=False, user_errors=errors)
