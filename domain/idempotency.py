"""Idempotency keys, kept in the same transaction as the effect they guard.

``claim`` inserts the key before the work starts. A concurrent duplicate blocks
on the key's unique index until the first transaction ends: if it committed,
the duplicate reads the stored response; if it rolled back, the duplicate
proceeds as the first. A refusal (say, INSUFFICIENT_STOCK) is stored too, right
after its rollback (``remember``): the same key then answers the same refusal,
as the contract says, and a new attempt needs a new key. Keys are kept at
least 24 hours (``purge`` removes older ones).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from domain.errors import IdempotencyKeyReused, InvalidInput

RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 200

_CLAIM = text(
    """
    INSERT INTO idempotency_keys (tenant_id, actor, key, operation, request_hash)
    VALUES (:tenant, :actor, :key, :operation, :hash)
    ON CONFLICT (tenant_id, actor, key) DO NOTHING
    RETURNING 1
    """
)
_READ = text(
    """
    SELECT operation, request_hash, response FROM idempotency_keys
    WHERE tenant_id = :tenant AND actor = :actor AND key = :key
    """
)
_STORE = text(
    """
    UPDATE idempotency_keys SET response = CAST(:response AS jsonb)
    WHERE tenant_id = :tenant AND actor = :actor AND key = :key
    """
)


def request_hash(operation: str, payload: Any) -> str:
    body = json.dumps([operation, payload], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


async def claim(
    session: AsyncSession, caller: Caller, key: str, operation: str, digest: str
) -> dict[str, Any] | None:
    """Reserve ``key``; return the stored response when it was already used."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"idempotencyKey must be 1 to {MAX_KEY_LENGTH} characters", ["idempotencyKey"]
        )
    args = {"tenant": caller.tenant_id, "actor": caller.actor_key, "key": key}
    inserted = await session.execute(_CLAIM, {**args, "operation": operation, "hash": digest})
    if inserted.first() is not None:
        return None
    row = (await session.execute(_READ, args)).one()
    if row.operation != operation or row.request_hash != digest:
        raise IdempotencyKeyReused(
            "this idempotencyKey was used with a different request", ["idempotencyKey"]
        )
    return dict(row.response)


async def store(session: AsyncSession, caller: Caller, key: str, response: dict[str, Any]) -> None:
    await session.execute(
        _STORE,
        {
            "tenant": caller.tenant_id,
            "actor": caller.actor_key,
            "key": key,
            "response": json.dumps(response, default=str),
        },
    )


_REMEMBER = text(
    """
    INSERT INTO idempotency_keys (tenant_id, actor, key, operation, request_hash, response)
    VALUES (:tenant, :actor, :key, :operation, :hash, CAST(:response AS jsonb))
    ON CONFLICT (tenant_id, actor, key) DO NOTHING
    """
)


async def remember(
    session: AsyncSession,
    caller: Caller,
    key: str,
    operation: str,
    digest: str,
    response: dict[str, Any],
) -> None:
    """Store a refusal under its key (unless a concurrent duplicate got there first)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return
    await session.execute(
        _REMEMBER,
        {
            "tenant": caller.tenant_id,
            "actor": caller.actor_key,
            "key": key,
            "operation": operation,
            "hash": digest,
            "response": json.dumps(response, default=str),
        },
    )


async def purge_all(session: AsyncSession) -> int:
    """Delete expired keys of every tenant (owner session; run periodically)."""
    result = await session.execute(
        text("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :h)"),
        {"h": int(RETENTION.total_seconds() // 3600)},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge(session: AsyncSession, tenant_id: int) -> int:
    """Delete keys older than the retention period; returns how many."""
    result = await session.execute(
        text(
            "DELETE FROM idempotency_keys WHERE tenant_id = :t "
            "AND created_at < now() - make_interval(hours => :h)"
        ),
        {"t": tenant_id, "h": int(RETENTION.total_seconds() // 3600)},
    )
    return int(getattr(result, "rowcount", 0) or 0)
