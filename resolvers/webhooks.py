"""Webhook subscriptions: arguments → one domain call → schema types."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import strawberry
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from auth.permissions import Permission
from domain.pagination import page_size
from domain.webhooks import service
from resolvers._app import allow_http, master_key
from resolvers._mutation import MutationSpec, input_dict, not_replayed, run_mutation
from schema.relay import After, Connection, First, connection, decode_cursor, decode_id, decode_ids
from schema.webhooks import (
    CreateWebhookSubscriptionInput,
    CreateWebhookSubscriptionPayload,
    DeleteWebhookSubscriptionInput,
    DeleteWebhookSubscriptionPayload,
    RedeliverWebhookInput,
    RedeliverWebhookPayload,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    deliveries_connection,
)


def _spec(action: str, audit: Any) -> MutationSpec:
    return MutationSpec(action=action, audit=audit, snapshot=not_replayed, restore=not_replayed)


CREATE = _spec("webhook.create", service.audit_created)
DELETE = _spec("webhook.delete", service.audit_deleted)
REDELIVER = _spec("webhook.redeliver", service.audit_redelivered)


def _without_credentials(url: str) -> str:
    """What a refused create leaves in the audit trail: never user:password@."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    except ValueError:
        return "(unparseable url)"


async def create_webhook_subscription(
    info: Info,
    input: Annotated[
        CreateWebhookSubscriptionInput,
        strawberry.argument(description="What to do; see CreateWebhookSubscriptionInput."),
    ],
) -> CreateWebhookSubscriptionPayload:
    http_allowed = allow_http(info)

    async def execute(
        session: AsyncSession, caller: Caller, request_id: str
    ) -> service.CreatedEndpoint:
        cmd = service.CreateEndpoint(
            url=input.url,
            event_types=tuple(t.value for t in input.event_types),
            location_ids=tuple(decode_ids(input.location_ids, "Location", "locationIds") or ())
            if input.location_ids is not None
            else None,
            skus=tuple(input.skus) if input.skus is not None else None,
            description=input.description,
            allow_http=http_allowed,
            data_key=master_key(info),
        )
        return await service.create_endpoint(session, caller, cmd)

    audited = input_dict(input)
    audited["url"] = _without_credentials(input.url)
    return await run_mutation(
        info,
        CREATE,
        CreateWebhookSubscriptionPayload,
        audited,
        execute,
        CreateWebhookSubscriptionPayload.from_created,
    )


async def delete_webhook_subscription(
    info: Info,
    input: Annotated[
        DeleteWebhookSubscriptionInput,
        strawberry.argument(description="What to do; see DeleteWebhookSubscriptionInput."),
    ],
) -> DeleteWebhookSubscriptionPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Row[Any]:
        cmd = service.DeleteEndpoint(endpoint_id=decode_id(input.id, "WebhookEndpoint", ["id"]))
        return await service.delete_endpoint(session, caller, cmd)

    return await run_mutation(
        info,
        DELETE,
        DeleteWebhookSubscriptionPayload,
        input,
        execute,
        DeleteWebhookSubscriptionPayload.from_row,
    )


async def redeliver_webhook(
    info: Info,
    input: Annotated[
        RedeliverWebhookInput,
        strawberry.argument(description="What to do; see RedeliverWebhookInput."),
    ],
) -> RedeliverWebhookPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Row[Any]:
        delivery_id = decode_id(input.delivery_id, "WebhookDelivery", ["deliveryId"])
        return await service.redeliver(session, caller, service.Redeliver(delivery_id))

    return await run_mutation(
        info, REDELIVER, RedeliverWebhookPayload, input, execute, RedeliverWebhookPayload.from_row
    )


async def webhook_subscriptions(
    info: Info,
    first: First = None,
    after: After = None,
) -> Connection[WebhookEndpoint]:
    """The caller's active subscriptions (every one of the tenant for `admin`)."""
    caller = info.context.viewer
    cursor = decode_cursor(after)
    cmd = service.ListEndpoints(
        limit=page_size(first), after=int(cursor) if cursor is not None else None
    )
    db = info.context.db
    async with db.tenant_transaction(caller.tenant_id) as session:
        page = await service.list_endpoints(session, caller, cmd)

    async def count() -> int:
        async with db.tenant_transaction(caller.tenant_id) as s:
            return await service.count_endpoints(s, caller)

    return connection(page, WebhookEndpoint.from_row, lambda r: r.id, count)


async def webhook_deliveries(
    info: Info,
    endpoint_id: Annotated[
        strawberry.ID, strawberry.argument(description="The webhook subscription's global ID.")
    ],
    first: First = None,
    after: After = None,
    status: Annotated[
        WebhookDeliveryStatus | None,
        strawberry.argument(description="Only deliveries in this status."),
    ] = None,
) -> Connection[WebhookDelivery]:
    """One subscription's delivery log, newest first, with every attempt."""
    pk = decode_id(endpoint_id, "WebhookEndpoint", ["endpointId"])
    return await deliveries_connection(info, pk, first, after, status)


def _may_see(caller: Caller, owner: str) -> bool:
    return owner == caller.subject or caller.has(Permission.ADMIN)


async def endpoint_visible(info: Info, row: Any) -> bool:
    """For node(id:): only the owner (or admin) sees a subscription."""
    return _may_see(info.context.viewer, row.owner)


async def delivery_visible(info: Info, row: Any) -> bool:
    endpoint = await info.context.loaders.webhook_endpoint_by_id.load(row.endpoint_id)
    return endpoint is not None and _may_see(info.context.viewer, endpoint.owner)
