"""Webhook subscriptions, their deliveries and attempts: types, inputs, payloads."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from domain import ids
from domain.errors import DomainError
from domain.pagination import page_size
from domain.webhooks import service
from domain.webhooks.payload import webhook_id
from schema.describe import enum_values
from schema.errors import UserError
from schema.relay import After, Connection, First, Node, connection, decode_cursor
from schema.scalars import BigInt


@enum_values(
    STOCK_CHANGED="stock.changed: a stock level changed (one event per movement); needs "
    "stock:read.",
    STOCK_LOW="stock.low: available fell to or below the reorder point; needs stock:read.",
)
@strawberry.enum(description="The events a webhook subscription can receive.")
class WebhookEventType(Enum):
    STOCK_CHANGED = "stock.changed"
    STOCK_LOW = "stock.low"


@enum_values(
    PENDING="Not delivered yet; retried with backoff.",
    SUCCEEDED="Answered with a 2xx.",
    DEAD="Every retry failed; redeliverWebhook queues it again.",
)
@strawberry.enum(description="PENDING until a 2xx answer (SUCCEEDED) or the last retry (DEAD).")
class WebhookDeliveryStatus(Enum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    DEAD = "DEAD"


@strawberry.type(description="One HTTP attempt of a delivery.")
class WebhookAttempt:
    attempted_at: datetime = strawberry.field(description="When it was made.")
    status_code: int | None = strawberry.field(
        description="The HTTP status answered; null when none came (timeout, refused)."
    )
    error: str | None = strawberry.field(description="Why it failed, if it did.")
    duration_ms: int = strawberry.field(description="How long it took, in milliseconds.")

    @classmethod
    def from_row(cls, row: Any) -> WebhookAttempt:
        return cls(
            attempted_at=row.attempted_at,
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
        )


@strawberry.type(description="One event for one webhook subscription, retried with backoff.")
class WebhookDelivery(Node):
    event_sequence: BigInt = strawberry.field(
        description="The event's sequence in the tenant's event stream."
    )
    event_type: WebhookEventType = strawberry.field(description="The event's type.")
    webhook_id: str = strawberry.field(
        description="The `webhook-id` header: the same for every retry and redelivery."
    )
    status: WebhookDeliveryStatus = strawberry.field(description="Pending, succeeded or dead.")
    attempts: int = strawberry.field(description="Attempts since it was last (re)queued.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next retry is due; null unless PENDING."
    )
    last_status_code: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null when no answer came."
    )
    last_error: str | None = strawberry.field(description="Why the last attempt failed, if it did.")
    delivered_at: datetime | None = strawberry.field(
        description="When a 2xx answer came; null until then."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    pk: strawberry.Private[int]

    @strawberry.field(description="Every attempt, oldest first.")
    async def attempt_log(self, info: Info) -> list[WebhookAttempt]:
        rows = await info.context.loaders.attempts_by_delivery.load(self.pk)
        return [WebhookAttempt.from_row(r) for r in rows or ()]

    @classmethod
    def from_row(cls, row: Any) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(ids.encode("WebhookDelivery", row.id)),
            event_sequence=row.event_sequence,
            event_type=WebhookEventType(row.event_type),
            webhook_id=webhook_id(row.tenant_id, row.event_sequence),
            status=WebhookDeliveryStatus(row.status),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status == "PENDING" else None,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
            pk=row.id,
        )


async def deliveries_connection(
    info: Info,
    endpoint_id: int | None,
    first: int | None,
    after: str | None,
    status: WebhookDeliveryStatus | None,
) -> Connection[WebhookDelivery]:
    """An endpoint's delivery log, newest first; NOT_FOUND unless the caller may see it."""
    caller = info.context.viewer
    db = info.context.db
    cursor = decode_cursor(after)
    cmd = service.ListDeliveries(
        endpoint_id=endpoint_id,
        limit=page_size(first),
        after=int(cursor) if cursor is not None else None,
        status=status.value if status is not None else None,
    )
    async with db.tenant_transaction(caller.tenant_id) as session:
        page = await service.list_deliveries(session, caller, cmd)

    async def count() -> int:
        async with db.tenant_transaction(caller.tenant_id) as s:
            return await service.count_deliveries(s, caller, cmd.endpoint_id or 0, cmd.status)

    return connection(page, WebhookDelivery.from_row, lambda r: r.id, count)


@strawberry.type(description="A partner URL that receives signed events (Standard Webhooks).")
class WebhookEndpoint(Node):
    url: str = strawberry.field(description="Where events are POSTed.")
    description: str | None = strawberry.field(description="What it is for, if given.")
    event_types: list[WebhookEventType] = strawberry.field(description="The events it receives.")
    location_ids: list[strawberry.ID] | None = strawberry.field(
        description="Only events at these locations (Location IDs); null: every location."
    )
    skus: list[str] | None = strawberry.field(
        description="Only events of these SKUs; null: every product."
    )
    active: bool = strawberry.field(description="False once deleted: nothing more is sent.")
    created_at: datetime = strawberry.field(description="When it was created.")
    pk: strawberry.Private[int]

    @strawberry.field(description="The delivery log, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        status: Annotated[
            WebhookDeliveryStatus | None,
            strawberry.argument(description="Only deliveries in this status."),
        ] = None,
    ) -> Connection[WebhookDelivery]:
        try:
            return await deliveries_connection(info, self.pk, first, after, status)
        except DomainError as error:
            raise GraphQLError(
                error.message, extensions={"code": error.code, "field": error.field}
            ) from None

    @classmethod
    def from_row(cls, row: Any) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(ids.encode("WebhookEndpoint", row.id)),
            url=row.url,
            description=row.description,
            event_types=[WebhookEventType(t) for t in row.event_types],
            location_ids=[strawberry.ID(ids.encode("Location", pk)) for pk in row.location_ids]
            if row.location_ids is not None
            else None,
            skus=list(row.skus) if row.skus is not None else None,
            active=row.active,
            created_at=row.created_at,
            pk=row.id,
        )


@strawberry.input(description="The input of createWebhookSubscription.")
class CreateWebhookSubscriptionInput:
    url: str = strawberry.field(description="https:// (http:// only where the server allows it).")
    event_types: list[WebhookEventType] = strawberry.field(
        description="The events to receive, at least one; each needs its permission (stock:read)."
    )
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only events at these locations; omitted: every location."
    )
    skus: list[str] | None = strawberry.field(
        default=None, description="Only events of these products; omitted: every product."
    )
    description: str | None = strawberry.field(default=None, description="What it is for.")


@strawberry.input(description="The input of deleteWebhookSubscription.")
class DeleteWebhookSubscriptionInput:
    id: strawberry.ID = strawberry.field(
        description="The webhook subscription's global ID (yours, or any with admin)."
    )


@strawberry.input(description="The input of redeliverWebhook.")
class RedeliverWebhookInput:
    delivery_id: strawberry.ID = strawberry.field(description="The delivery's global ID.")


@strawberry.type(
    description="The result of createWebhookSubscription: what changed, or userErrors."
)
class CreateWebhookSubscriptionPayload:
    webhook_subscription: WebhookEndpoint | None = strawberry.field(
        description="The subscription created; null when refused."
    )
    secret: str | None = strawberry.field(
        description="The signing secret (`whsec_…`). Shown in this response only; keep it."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def from_created(cls, created: service.CreatedEndpoint) -> CreateWebhookSubscriptionPayload:
        return cls(
            webhook_subscription=WebhookEndpoint.from_row(created.endpoint),
            secret=created.secret,
            user_errors=[],
        )

    @classmethod
    def failed(cls, errors: list[UserError]) -> CreateWebhookSubscriptionPayload:
        return cls(webhook_subscription=None, secret=None, user_errors=errors)


@strawberry.type(
    description="The result of deleteWebhookSubscription: what changed, or userErrors."
)
class DeleteWebhookSubscriptionPayload:
    webhook_subscription: WebhookEndpoint | None = strawberry.field(
        description="The subscription, now inactive; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def from_row(cls, row: Any) -> DeleteWebhookSubscriptionPayload:
        return cls(webhook_subscription=WebhookEndpoint.from_row(row), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> DeleteWebhookSubscriptionPayload:
        return cls(webhook_subscription=None, user_errors=errors)


@strawberry.type(description="The result of redeliverWebhook: what changed, or userErrors.")
class RedeliverWebhookPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        description="The delivery, queued again; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def from_row(cls, row: Any) -> RedeliverWebhookPayload:
        return cls(delivery=WebhookDelivery.from_row(row), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> RedeliverWebhookPayload:
        return cls(delivery=None, user_errors=errors)
