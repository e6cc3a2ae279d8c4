"""Moving outbox events to webhook endpoints: fan-out, claims, attempts.

The dispatcher works for every tenant at once, so these functions run in the
schema owner's session (``Database.owner_transaction``), which row-level
security lets see all tenants; each statement still names the tenant it
touches. Every step is a short transaction that locks with ``FOR UPDATE SKIP
LOCKED``, so any number of processes may run them side by side: two never
take the same endpoint or the same delivery.

The HTTP request is made by the caller *between* ``claim_due`` and
``record_attempt``, outside any transaction. A claim pushes the delivery's
``next_attempt_at`` one lease into the future; if the process dies before
recording, the delivery simply becomes due again when the lease runs out (at
least once, same ``webhook-id``). The leased time doubles as a fencing token:
a late recorder whose lease was taken over changes nothing but the log.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from domain import vault
from domain.webhooks.payload import build_body, encode_body, webhook_id

MAX_BACKOFF_SECONDS = 3600.0
JITTER = 0.1

_ENDPOINTS_BEHIND = text(
    """
    SELECT e.tenant_id, e.id, e.event_types, e.location_ids, e.skus, e.last_sequence
    FROM webhook_endpoints e
    WHERE e.active AND EXISTS (
      SELECT 1 FROM events ev WHERE ev.tenant_id = e.tenant_id AND ev.sequence > e.last_sequence)
    ORDER BY e.tenant_id, e.id
    LIMIT :limit
    FOR UPDATE OF e SKIP LOCKED
    """
)

# One endpoint: insert a delivery for each matching event of the next batch, and
# move the endpoint past the whole batch (matching or not).
_FAN_OUT = text(
    """
    WITH batch AS (
      SELECT sequence, type, payload,
             (payload->'level'->>'location_id')::bigint AS location_id,
             (payload->'level'->>'product_id')::bigint AS product_id
      FROM events
      WHERE tenant_id = :tenant AND sequence > :after
      ORDER BY sequence
      LIMIT :batch
    ), ins AS (
      INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_sequence, event_type,
                                      order_key, status, attempts, next_attempt_at)
      SELECT :tenant, :endpoint, b.sequence, b.type,
             COALESCE(b.location_id || ':' || b.product_id, b.type),
             'PENDING', 0, now()
      FROM batch b
      WHERE b.type = ANY(CAST(:types AS text[]))
        AND (CAST(:locations AS bigint[]) IS NULL
             OR b.location_id = ANY(CAST(:locations AS bigint[])))
        AND (CAST(:skus AS text[]) IS NULL OR b.product_id IN (
             SELECT p.id FROM products p
             WHERE p.tenant_id = :tenant AND p.sku = ANY(CAST(:skus AS text[]))))
      ON CONFLICT DO NOTHING
      RETURNING 1
    ), moved AS (
      UPDATE webhook_endpoints SET last_sequence = (SELECT max(sequence) FROM batch)
      WHERE tenant_id = :tenant AND id = :endpoint AND EXISTS (SELECT 1 FROM batch)
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM moved) AS moved
    """
)

# Due, PENDING, of an active endpoint, and no earlier delivery of the same
# endpoint and (location, product) still PENDING: order per key, no
# head-of-line blocking across keys. A claimed delivery stays PENDING (with its
# lease as next_attempt_at), so it keeps later ones of its key waiting.
_CLAIM = text(
    """
    WITH due AS (
      SELECT d.tenant_id, d.id
      FROM webhook_deliveries d
      JOIN webhook_endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
      WHERE d.status = 'PENDING' AND d.next_attempt_at <= now() AND e.active
        AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries p
          WHERE p.tenant_id = d.tenant_id AND p.endpoint_id = d.endpoint_id
            AND p.order_key = d.order_key AND p.event_sequence < d.event_sequence
            AND p.status = 'PENDING')
      ORDER BY d.next_attempt_at, d.id
      LIMIT :limit
      FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries w
    SET next_attempt_at = now() + make_interval(secs => :lease)
    FROM due
    WHERE w.tenant_id = due.tenant_id AND w.id = due.id
    RETURNING w.tenant_id, w.id, w.endpoint_id, w.event_sequence, w.attempts, w.next_attempt_at
    """
)

_CLAIMED_DETAILS = text(
    """
    SELECT d.tenant_id, d.id, e.url, e.secret, ev.type, ev.created_at, ev.payload,
           l.code AS location_code, p.sku
    FROM unnest(CAST(:tenants AS bigint[]), CAST(:ids AS bigint[])) AS k(tenant_id, id)
    JOIN webhook_deliveries d ON d.tenant_id = k.tenant_id AND d.id = k.id
    JOIN webhook_endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
    JOIN events ev ON ev.tenant_id = d.tenant_id AND ev.sequence = d.event_sequence
    LEFT JOIN locations l ON l.tenant_id = d.tenant_id
         AND l.id = (ev.payload->'level'->>'location_id')::bigint
    LEFT JOIN products p ON p.tenant_id = d.tenant_id
         AND p.id = (ev.payload->'level'->>'product_id')::bigint
    """
)

_LOG_ATTEMPT = text(
    """
    INSERT INTO webhook_attempts (tenant_id, delivery_id, attempted_at, status_code, error,
                                  duration_ms)
    VALUES (:tenant, :delivery, :attempted_at, :status_code, :error, :duration_ms)
    """
)

_RECORD = text(
    """
    UPDATE webhook_deliveries
    SET attempts = attempts + 1,
        last_status_code = :status_code,
        last_error = :error,
        status = CASE WHEN :ok THEN 'SUCCEEDED'
                      WHEN attempts + 1 >= :max_attempts THEN 'DEAD'
                      ELSE 'PENDING' END,
        delivered_at = CASE WHEN :ok THEN CAST(:attempted_at AS timestamptz)
                            ELSE delivered_at END,
        next_attempt_at = CASE WHEN :ok THEN next_attempt_at
                               ELSE CAST(:retry_at AS timestamptz) END
    WHERE tenant_id = :tenant AND id = :delivery AND status = 'PENDING'
      AND next_attempt_at = :leased_until
    RETURNING status
    """
)


@dataclass(frozen=True, slots=True)
class Claim:
    """One delivery taken for sending, with everything the HTTP request needs."""

    tenant_id: int
    delivery_id: int
    endpoint_id: int
    event_sequence: int
    attempts: int
    leased_until: datetime
    url: str
    secret: str
    webhook_id: str
    body: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one HTTP attempt came to."""

    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def fan_out(
    session: AsyncSession, *, endpoints: int = 100, batch: int = 500
) -> tuple[int, int]:
    """One delivery per new matching event, per active endpoint; (endpoints moved, deliveries).

    Sequences are handed out in commit order (see ``domain.stock.ledger``), so
    once an endpoint is moved past S no event at or below S can still appear.
    """
    rows = (await session.execute(_ENDPOINTS_BEHIND, {"limit": endpoints})).all()
    moved = inserted = 0
    for e in rows:
        result = (
            await session.execute(
                _FAN_OUT,
                {
                    "tenant": e.tenant_id,
                    "endpoint": e.id,
                    "after": e.last_sequence,
                    "batch": batch,
                    "types": list(e.event_types),
                    "locations": list(e.location_ids) if e.location_ids is not None else None,
                    "skus": list(e.skus) if e.skus is not None else None,
                },
            )
        ).one()
        moved += result.moved
        inserted += result.inserted
    return moved, inserted


async def claim_due(
    session: AsyncSession, *, limit: int, lease_seconds: float, data_key: bytes | None = None
) -> list[Claim]:
    """Take up to ``limit`` due deliveries for one lease; build their signed-to-be bodies
    (the signing secrets are opened with ``data_key``: see ``domain.vault``)."""
    claimed = (await session.execute(_CLAIM, {"limit": limit, "lease": lease_seconds})).all()
    if not claimed:
        return []
    details = {
        (r.tenant_id, r.id): r
        for r in await session.execute(
            _CLAIMED_DETAILS,
            {"tenants": [c.tenant_id for c in claimed], "ids": [c.id for c in claimed]},
        )
    }
    claims = []
    for c in sorted(claimed, key=lambda r: (r.tenant_id, r.event_sequence)):
        d = details[(c.tenant_id, c.id)]
        body = build_body(d.type, c.event_sequence, d.created_at, d.payload, d.location_code, d.sku)
        claims.append(
            Claim(
                tenant_id=c.tenant_id,
                delivery_id=c.id,
                endpoint_id=c.endpoint_id,
                event_sequence=c.event_sequence,
                attempts=c.attempts,
                leased_until=c.next_attempt_at,
                url=d.url,
                secret=vault.unseal(
                    data_key,
                    d.secret,
                    tenant_id=c.tenant_id,
                    table="webhook_endpoints",
                    column="secret",
                )
                or "",
                webhook_id=webhook_id(c.tenant_id, c.event_sequence),
                body=encode_body(body),
            )
        )
    return claims


def signed_headers(claim: Claim, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers; the timestamp is the attempt's, the id the event's."""
    at = now.astimezone(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": claim.webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(claim.secret).sign(claim.webhook_id, at, claim.body),
    }


def retry_delay(attempts: int, base: float, *, cap: float = MAX_BACKOFF_SECONDS) -> float:
    """Seconds before attempt ``attempts + 1``: base × 2^(attempts-1), capped, plus ≤10% jitter."""
    delay = min(base * 2 ** max(attempts - 1, 0), cap)
    return delay * (1 + random.uniform(0, JITTER))


async def record_attempt(
    session: AsyncSession,
    claim: Claim,
    outcome: Outcome,
    *,
    backoff_base: float,
    max_attempts: int,
) -> str | None:
    """Log the attempt and settle the delivery; the new status, or None if the lease was lost."""
    await session.execute(
        _LOG_ATTEMPT,
        {
            "tenant": claim.tenant_id,
            "delivery": claim.delivery_id,
            "attempted_at": outcome.attempted_at,
            "status_code": outcome.status_code,
            "error": outcome.error,
            "duration_ms": outcome.duration_ms,
        },
    )
    attempts = claim.attempts + 1
    retry_at = outcome.attempted_at + timedelta(seconds=retry_delay(attempts, backoff_base))
    params: dict[str, Any] = {
        "tenant": claim.tenant_id,
        "delivery": claim.delivery_id,
        "leased_until": claim.leased_until,
        "ok": outcome.ok,
        "status_code": outcome.status_code,
        "error": outcome.error,
        "attempted_at": outcome.attempted_at,
        "retry_at": max(retry_at, datetime.now(UTC)),
        "max_attempts": max_attempts,
    }
    status = (await session.execute(_RECORD, params)).scalar_one_or_none()
    return str(status) if status is not None else None
