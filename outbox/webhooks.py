"""Signed webhook delivery from the outbox, run in every API process.

Each process may run one ``WebhookDispatcher``; correctness comes from the
``FOR UPDATE SKIP LOCKED`` claims in ``domain.webhooks.dispatch``, not from
there being only one. A round fans new events out to endpoints, then claims
due deliveries, sends them concurrently *outside* any transaction (claim,
send, record), and records each attempt. The broker calls ``wake()`` when a
NOTIFY arrives; without one the dispatcher polls every ``poll_interval``.
The work spans tenants, so it uses the owner session
(``Database.owner_transaction``), never a tenant's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.webhooks import dispatch
from outbox.worker import MAX_ERROR, OutboxWorker

log = logging.getLogger("stockgraph.webhooks")

USER_AGENT = "stockgraph-webhooks/1"


class WebhookDispatcher(OutboxWorker):
    """Fans out and sends webhook deliveries until stopped."""

    name = "webhook-dispatcher"
    user_agent = USER_AGENT
    log = log

    async def run_once(self) -> int:
        """One fan-out and one send round; how much work was found (0: idle).

        A failing fan-out does not stop sending what is already queued.
        """
        moved = 0
        try:
            async with self.db.owner_transaction() as session:
                moved, _ = await dispatch.fan_out(session)
        except Exception:
            log.exception("webhook fan-out failed")
        return moved + await self.send_round()

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
        return f"webhook delivery {claim.delivery_id}"

    async def attempt(self, claim: dispatch.Claim) -> dispatch.Outcome:
        """One HTTP attempt, bounded by ``timeout`` in total; never raises."""
        assert self._client is not None
        attempted_at = datetime.now(UTC)
        headers = dispatch.signed_headers(claim, attempted_at)
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self.timeout):
                request = self._client.stream(
                    "POST", claim.url, content=claim.body.encode(), headers=headers
                )
                async with request as response:  # the body is never read
                    status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except TimeoutError:
            error = f"timed out after {self.timeout:g}s"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        duration_ms = int((time.monotonic() - started) * 1000)
        return dispatch.Outcome(attempted_at, status_code, error, duration_ms)
