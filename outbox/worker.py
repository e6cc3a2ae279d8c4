"""The loop shared by the outbox senders (webhooks, notifications).

Each round claims due rows (``FOR UPDATE SKIP LOCKED`` with a lease, in the
domain), sends them outside any transaction, and records each attempt; any
number of processes may run one. ``wake()`` runs a round at once; otherwise a
round runs every ``poll_interval``. Subclasses say what one round does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from db.session import Database

# The owner pool is small and shared (token endpoint, operators): record at most this many at once.
RECORDING_SLOTS = 2
MAX_ERROR = 500


class OutboxWorker:
    name = "outbox-worker"
    user_agent = "stockgraph/1"
    log = logging.getLogger("stockgraph.outbox")

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
            headers={"user-agent": self.user_agent},
        )
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop; a send cut off here is retried when its lease ends."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def wake(self) -> None:
        """New work was committed: run a round now instead of at the next poll."""
        self._wakeup.set()

    async def run_once(self) -> int:
        """One round; how much work it found (0: idle)."""
        return await self.send_round()

    async def send_round(self) -> int:
        """Claim what is due, send it concurrently outside any transaction, record each."""
        async with self.db.owner_transaction() as session:
            claims = await self.claim(session)
        if claims:
            await asyncio.gather(*(self._deliver(claim) for claim in claims))
        return len(claims)

    async def _deliver(self, claim: Any) -> None:
        outcome = await self.attempt(claim)
        try:
            async with self._recording, self.db.owner_transaction() as session:
                status = await self.record(session, claim, outcome)
        except Exception:
            # Unrecorded: the lease runs out and the item is sent again, with the same id.
            self.log.exception("could not record %s", self.describe(claim))
            return
        if status is None:
            self.log.warning("%s was taken over after its lease", self.describe(claim))

    # What a subclass says: how to claim, attempt and record one item.
    async def claim(self, session: AsyncSession) -> list[Any]:
        raise NotImplementedError

    async def attempt(self, claim: Any) -> Any:
        """One bounded attempt; never raises."""
        raise NotImplementedError

    async def record(self, session: AsyncSession, claim: Any, outcome: Any) -> str | None:
        """Log the attempt and settle the item; its new status, or None if the lease was lost."""
        raise NotImplementedError

    def describe(self, claim: Any) -> str:
        return repr(claim)

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                busy = await self.run_once()
            except Exception:
                self.log.exception("%s round failed", self.name)
                busy = 0
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_interval)
