"""Moving notifications out of the outbox: claims with a lease, attempts, back-off.

The same design as ``domain.webhooks.dispatch``. The sender works for every
tenant, so these run in the schema owner's session; each statement still
names the tenant it touches. ``claim_due`` takes due PENDING rows with ``FOR
UPDATE SKIP LOCKED`` and pushes their ``next_attempt_at`` one lease ahead, in
one short transaction; the message is sent *outside* any transaction; then
``record_attempt`` logs the attempt and settles the row, but only while the
lease is still the one taken (the leased time is the fencing token). A sender
that dies mid-way leaves the row to become due again when its lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.notifications.records import Answer, ChannelConfig, Message
from domain.webhooks.dispatch import retry_delay

_CLAIM = text(
    """
    WITH due AS (
      SELECT n.tenant_id, n.id
      FROM notifications n
      WHERE n.status = 'PENDING' AND n.next_attempt_at <= now()
      ORDER BY n.next_attempt_at, n.id
      LIMIT :limit
      FOR UPDATE OF n SKIP LOCKED
    )
    UPDATE notifications x
    SET next_attempt_at = now() + make_interval(secs => :lease)
    FROM due
    WHERE x.tenant_id = due.tenant_id AND x.id = due.id
    RETURNING x.tenant_id, x.id, x.channel, x.recipient, x.subject, x.body, x.reference,
              x.attempts, x.next_attempt_at
    """
)

# A message to a member goes only while the member exists, is not erased, and the
# latest consent entry for the channel grants it; otherwise it is given up unsent.
_WITHHELD = text(
    """
    UPDATE notifications n
    SET status = 'DEAD', last_error = 'consent withdrawn or member erased'
    WHERE n.status = 'PENDING' AND n.member_id IS NOT NULL AND n.next_attempt_at <= now()
      AND NOT EXISTS (
        SELECT 1 FROM members m
        WHERE m.tenant_id = n.tenant_id AND m.id = n.member_id AND m.erased_at IS NULL
          AND (SELECT c.granted FROM member_consents c
               WHERE c.tenant_id = n.tenant_id AND c.member_id = n.member_id
                 AND c.channel = n.channel
               ORDER BY c.id DESC LIMIT 1) IS TRUE)
    """
)

_CONFIGS = text(
    """
    SELECT c.*
    FROM notification_channels c
    JOIN unnest(CAST(:tenants AS bigint[]), CAST(:channels AS text[])) AS k(tenant_id, channel)
      ON c.tenant_id = k.tenant_id AND c.channel = k.channel
    """
)

_LOG_ATTEMPT = text(
    """
    INSERT INTO notification_attempts (tenant_id, notification_id, attempted_at, succeeded,
                                       status_code, error, duration_ms)
    VALUES (:tenant, :notification, :attempted_at, :ok, :status_code, :error, :duration_ms)
    """
)

_RECORD = text(
    """
    UPDATE notifications
    SET attempts = attempts + 1,
        last_error = :error,
        status = CASE WHEN :ok THEN 'SENT'
                      WHEN attempts + 1 >= :max_attempts THEN 'DEAD'
                      ELSE 'PENDING' END,
        sent_at = CASE WHEN :ok THEN CAST(:attempted_at AS timestamptz) ELSE sent_at END,
        next_attempt_at = CASE WHEN :ok THEN next_attempt_at
                               ELSE CAST(:retry_at AS timestamptz) END
    WHERE tenant_id = :tenant AND id = :notification AND status = 'PENDING'
      AND next_attempt_at = :leased_until
    RETURNING status
    """
)


@dataclass(frozen=True, slots=True)
class Claim:
    """One notification taken for one lease, with its channel's settings at claim time."""

    message: Message
    attempts: int
    leased_until: datetime
    config: ChannelConfig | None


@dataclass(frozen=True, slots=True)
class Outcome:
    attempted_at: datetime
    answer: Answer
    duration_ms: int


async def claim_due(
    session: AsyncSession, *, limit: int, lease_seconds: float, data_key: bytes | None = None
) -> list[Claim]:
    await session.execute(_WITHHELD)
    claimed = (await session.execute(_CLAIM, {"limit": limit, "lease": lease_seconds})).all()
    if not claimed:
        return []
    rows = await session.execute(
        _CONFIGS,
        {"tenants": [c.tenant_id for c in claimed], "channels": [c.channel for c in claimed]},
    )
    configs = {
        (r.tenant_id, r.channel): ChannelConfig.from_row(r).opened(data_key, r.tenant_id)
        for r in rows
    }
    return [
        Claim(
            message=Message(
                tenant_id=c.tenant_id,
                notification_id=c.id,
                channel=c.channel,
                recipient=c.recipient,
                subject=c.subject,
                body=c.body,
                reference=c.reference,
            ),
            attempts=c.attempts,
            leased_until=c.next_attempt_at,
            config=configs.get((c.tenant_id, c.channel)),
        )
        for c in sorted(claimed, key=lambda r: (r.tenant_id, r.id))
    ]


async def record_attempt(
    session: AsyncSession,
    claim: Claim,
    outcome: Outcome,
    *,
    backoff_base: float,
    max_attempts: int,
) -> str | None:
    """Log the attempt and settle the notification: its new status, None if the lease was lost."""
    message = claim.message
    answer = outcome.answer
    await session.execute(
        _LOG_ATTEMPT,
        {
            "tenant": message.tenant_id,
            "notification": message.notification_id,
            "attempted_at": outcome.attempted_at,
            "ok": answer.ok,
            "status_code": answer.status_code,
            "error": answer.error,
            "duration_ms": outcome.duration_ms,
        },
    )
    attempts = claim.attempts + 1
    retry_at = outcome.attempted_at + timedelta(seconds=retry_delay(attempts, backoff_base))
    params: dict[str, Any] = {
        "tenant": message.tenant_id,
        "notification": message.notification_id,
        "leased_until": claim.leased_until,
        "ok": answer.ok,
        "error": answer.error,
        "attempted_at": outcome.attempted_at,
        "retry_at": max(retry_at, datetime.now(UTC)),
        "max_attempts": max_attempts,
    }
    status = (await session.execute(_RECORD, params)).scalar_one_or_none()
    return str(status) if status is not None else None
