"""Notification delivery from the outbox, run in every API process.

Like ``subscriptions.webhooks.WebhookDispatcher``: each round claims due
notifications (``FOR UPDATE SKIP LOCKED`` and a lease, in
``domain.notifications.dispatch``), sends them concurrently outside any
transaction through the adapter of their channel, and records each attempt.
Any number of processes may run a sender; their claims never overlap. It
polls every ``poll_interval``; ``wake()`` runs a round at once. The work spans
tenants, so it uses the owner session, never a tenant's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

import httpx

from db.session import Database
from domain.notifications import chat, dispatch, email, sms
from domain.notifications.records import CHAT, EMAIL, SMS, Answer

log = logging.getLogger("stockgraph.notifications")

USER_AGENT = "stockgraph-notifications/1"
MAX_ERROR = 500
RECORDING_SLOTS = 2


class NotificationSender:
    """Sends queued notifications until stopped."""

    def __init__(
        self,
        db: Database,
        *,
        backoff_base: float,
        max_attempts: int,
        timeout: float,
        poll_interval: float = 1.0,
        batch_size: int = 20,
        lease_seconds: float | None = None,
    ) -> None:
        self.db = db
        self.backoff_base = backoff_base
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        # Longer than any attempt can take, so a live sender never loses its claim.
        self.lease_seconds = lease_seconds if lease_seconds is not None else timeout + 30.0
        self._wakeup = asyncio.Event()
        self._recording = asyncio.Semaphore(RECORDING_SLOTS)
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        if self._task is not None:
            return
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            headers={"user-agent": USER_AGENT},
        )
        self._task = asyncio.create_task(self._run(), name="notification-sender")

    async def stop(self) -> None:
        """Cancel the loop; a message cut off here is sent again when its lease ends."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def wake(self) -> None:
        """Something was queued: run a round now instead of at the next poll."""
        self._wakeup.set()

    async def run_once(self) -> int:
        """One claim-and-send round; how many notifications it took (0: idle)."""
        async with self.db.owner_transaction() as session:
            claims = await dispatch.claim_due(
                session, limit=self.batch_size, lease_seconds=self.lease_seconds
            )
        if claims:
            await asyncio.gather(*(self._deliver(claim) for claim in claims))
        return len(claims)

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                busy = await self.run_once()
            except Exception:
                log.exception("notification round failed")
                busy = 0
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_interval)

    async def _deliver(self, claim: dispatch.Claim) -> None:
        outcome = await self._attempt(claim)
        try:
            async with self._recording, self.db.owner_transaction() as session:
                status = await dispatch.record_attempt(
                    session,
                    claim,
                    outcome,
                    backoff_base=self.backoff_base,
                    max_attempts=self.max_attempts,
                )
        except Exception:
            log.exception("could not record notification %s", claim.message.notification_id)
            return
        if status is None:
            log.warning(
                "notification %s was taken over after its lease", claim.message.notification_id
            )

    async def _attempt(self, claim: dispatch.Claim) -> dispatch.Outcome:
        """One attempt through the channel's adapter, bounded by ``timeout``; never raises."""
        attempted_at = datetime.now(UTC)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                answer = await self._send(claim)
        except TimeoutError:
            answer = Answer(None, f"timed out after {self.timeout:g}s")
        except Exception as exc:
            answer = Answer(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
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
