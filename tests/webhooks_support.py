"""Shared by the webhook tests: operations, settings in the context, fan-out, waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text

from api.settings import Settings
from db.session import Database
from domain.webhooks import dispatch
from schema.context import Context

CREATE = """
mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) {
    webhookSubscription { id url description eventTypes locationIds skus active createdAt }
    secret
    userErrors { code field message }
  }
}"""

DELETE = """
mutation($id: ID!) {
  deleteWebhookSubscription(input: {id: $id}) {
    webhookSubscription { id active }
    userErrors { code field message }
  }
}"""

REDELIVER = """
mutation($id: ID!) {
  redeliverWebhook(input: {deliveryId: $id}) {
    delivery { id status attempts webhookId eventSequence nextAttemptAt }
    userErrors { code field message }
  }
}"""

DELIVERIES = """
query($id: ID!, $first: Int, $after: String, $status: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $id, first: $first, after: $after, status: $status) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id eventSequence eventType webhookId status attempts lastStatusCode lastError deliveredAt
      attemptLog { statusCode error durationMs attemptedAt }
    } }
  }
}"""


async def execute_with_settings(
    gql: Any, query: str, caller: Any, variables: dict[str, Any] | None = None, **settings: Any
) -> Any:
    """Run an operation as if served by an app with these settings (http:// rules)."""
    request = SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(settings=Settings(**settings)))
    )
    ctx = Context(db=gql.db, caller=caller, request_id="test", request=request)
    return await gql.schema.execute(query, variable_values=variables, context_value=ctx)


async def subscribe(gql: Any, caller: Any, **fields: Any) -> dict[str, Any]:
    """createWebhookSubscription in development (http allowed); asserts success."""
    result = await execute_with_settings(gql, CREATE, caller, {"input": fields}, env="development")
    assert result.errors is None, result.errors
    payload = result.data["createWebhookSubscription"]
    assert payload["userErrors"] == [], payload
    return payload


async def fan_out(db: Database) -> None:
    async with db.owner_transaction() as session:
        while (await dispatch.fan_out(session))[0]:
            pass


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.owner_transaction() as session:
        return list((await session.execute(text(sql), params)).all())


async def wait_for(
    check: Callable[[], Awaitable[bool]], timeout: float = 30.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def deactivate(db: Database, tenant_id: int) -> None:
    """Retire a test's endpoints, so later dispatchers leave them alone."""
    async with db.owner_transaction() as session:
        await session.execute(
            text("UPDATE webhook_endpoints SET active = false WHERE tenant_id = :t"),
            {"t": tenant_id},
        )
