"""Notification delivery from the outbox, run in every API process.

Like ``outbox.webhooks.WebhookDispatcher``: each round claims due
notifications (``FOR UPDATE SKIP LOCKED`` and a lease, in
``domain.notifications.dispatch``), sends them concurrently outside any
transaction through the adapter of their channel, and records each attempt.
Any number of processes may run a sender; their claims never overlap. It
polls every ``poll_interval``; ``wake()`` runs a round at once. The work spans
tenants, so it uses the owner session, never a tenant's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.notifications import chat, dispatch, email, sms
from domain.notifications.records import CHAT, EMAIL, SMS, Answer
from outbox.worker import OutboxWorker

log = logging.getLogger("stockgraph.notifications")

USER_AGENT = "stockgraph-notifications/1"


class NotificationSender(OutboxWorker):
    """Sends queued notifications until stopped."""

    name = "notification-sender"
    user_agent = USER_AGENT
    log = log

    async def claim(self, session: AsyncSession) -> list[dispatch.Claim]:
        return await dispatch.claim_due(
            session, limit=self.batch_size, lease_seconds=self.lease_seconds
        )

    async def record(
        self, session: AsyncSession, claim: dispatch.Claim, outcome: dispatch.Outcome
    ) -> str | None:
        return await dispatch.record_attempt(
            session, claim, outcome, backoff_base=self.backoff_base, max_attempts=self.max_attempts
        )

    def describe(self, claim: dispatch.Claim) -> str:
        return f"notification {claim.message.notification_id}"

    async def attempt(self, claim: dispatch.Claim) -> dispatch.Outcome:
        """One attempt through the channel's adapter, bounded by ``timeout``; never raises."""
        attempted_at = datetime.now(UTC)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                answer = await self._send(claim)
        except TimeoutError:
            answer = Answer(None, f"timed out after {self.timeout:g}s")
        except Exception as exc:
            # The class only: an exception's text can carry a header value or an address.
            answer = Answer(None, type(exc).__name__)
        duration_ms = int((time.monotonic() - started) * 1000)
        return dispatch.Outcome(attempted_at, answer, duration_ms)

    async def _send(self, claim: dispatch.Claim) -> Answer:
        config, message = claim.config, claim.message
        if config is None:
            return Answer(None, f"the {message.channel} channel is not configured")
        if not config.enabled:
            return Answer(None, f"the {message.channel} channel is disabled")
        assert self._client is not None
        if message.channel == EMAIL:
            return await email.send(message, config, timeout=self.timeout)
        if message.channel == SMS:
            return await sms.send(message, config, client=self._client)
        if message.channel == CHAT:
            return await chat.send(message, config, client=self._client)
        return Answer(None, f"unknown channel {message.channel!r}")
