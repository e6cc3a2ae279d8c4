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
from schema.errors import UserError
from schema.relay import Connection, Node, connection, decode_cursor
from schema.scalars import BigInt


@strawberry.enum(description="The events a webhook subscription can receive.")
class WebhookEventType(Enum):
    STOCK_CHANGED = "stock.changed"
    STOCK_LOW = "stock.low"


@strawberry.enum(description="PENDING until a 2xx answer (SUCCEEDED) or the last retry (DEAD).")
class WebhookDeliveryStatus(Enum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    DEAD = "DEAD"


@strawberry.type(description="One HTTP attempt of a delivery.")
class WebhookAttempt:
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

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
    event_sequence: BigInt
    event_type: WebhookEventType
    webhook_id: str = strawberry.field(
        description="The `webhook-id` header: the same for every retry and redelivery."
    )
    status: WebhookDeliveryStatus
    attempts: int = strawberry.field(description="Attempts since it was last (re)queued.")
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
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
    url: str
    description: str | None
    event_types: list[WebhookEventType]
    location_ids: list[strawberry.ID] | None
    skus: list[str] | None
    active: bool
    created_at: datetime = strawberry.field(description="When it was created.")
    pk: strawberry.Private[int]

    @strawberry.field(description="The delivery log, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many items to return: 0 to 250 (default 50)."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Return the items after this cursor (pageInfo.endCursor or an edge's "
                "cursor); omit for the first page."
            ),
        ] = None,
        status: WebhookDeliveryStatus | None = None,
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
    event_types: list[WebhookEventType]
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only events at these locations; omitted: every location."
    )
    skus: list[str] | None = strawberry.field(
        default=None, description="Only events of these products; omitted: every product."
    )
    description: str | None = None


@strawberry.input(description="The input of deleteWebhookSubscription.")
class DeleteWebhookSubscriptionInput:
    id: strawberry.ID


@strawberry.input(description="The input of redeliverWebhook.")
class RedeliverWebhookInput:
    delivery_id: strawberry.ID


@strawberry.type(
    description="The result of createWebhookSubscription: what changed, or userErrors."
)
class CreateWebhookSubscriptionPayload:
    webhook_subscription: WebhookEndpoint | None
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
    webhook_subscription: WebhookEndpoint | None
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
    delivery: WebhookDelivery | None
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
