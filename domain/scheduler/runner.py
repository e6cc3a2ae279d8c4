"""The job runner inside ``stockgraph serve``: every process ticks, each period runs once.

Each tick, for every tenant and every job that is due in the tenant's time
zone, the process tries to claim the (tenant, job, period) row
(``domain.scheduler.runs``); only the claimer runs it, in one transaction
bound to the tenant. Any number of processes on any number of machines may
run the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Tenant
from db.session import Database
from domain.scheduler import runs

log = logging.getLogger("stockgraph.scheduler")

Work = Callable[[AsyncSession, int, datetime], Awaitable[dict[str, int]]]


@dataclass(frozen=True, slots=True)
class Job:
    """``every``: "hour", "day" (from ``at_hour`` local time) or a number of seconds."""

    name: str
    every: str | float
    work: Work
    at_hour: int = 0

    def period(self, now: datetime, zone: ZoneInfo) -> str | None:
        """The period ``now`` falls in, or None when the job is not due yet today."""
        local = now.astimezone(zone)
        if self.every == "hour":
            return local.strftime("%Y-%m-%dT%H")
        if self.every == "day":
            return local.strftime("%Y-%m-%d") if local.hour >= self.at_hour else None
        seconds = float(self.every)
        return f"{int(now.timestamp() // seconds)}x{int(seconds)}s"


@dataclass(frozen=True, slots=True)
class Outcome:
    tenant_id: int
    job: str
    period: str
    status: str
    counts: dict[str, int]


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


STOP_GRACE_SECONDS = 5.0  # a stopping server waits this long for the job in hand


class Scheduler:
    def __init__(self, db: Database, jobs: Sequence[Job], *, tick_seconds: float = 60.0) -> None:
        self.db = db
        self.jobs = list(jobs)
        self.tick_seconds = tick_seconds
        self.runner = runner_name()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def tick(self, now: datetime | None = None) -> list[Outcome]:
        now = now or datetime.now(UTC)
        async with self.db.owner_transaction() as session:
            tenants = (await session.execute(select(Tenant.tenant_id, Tenant.timezone))).all()
        done: list[Outcome] = []
        for tenant_id, tz in tenants:
            zone = ZoneInfo(tz)
            for job in self.jobs:
                if self._stopping.is_set():  # shutting down: start nothing new
                    return done
                period = job.period(now, zone)
                if period is None:
                    continue
                outcome = await self._run(tenant_id, job, period, now)
                if outcome is not None:
                    done.append(outcome)
        return done

    async def _run(self, tenant_id: int, job: Job, period: str, now: datetime) -> Outcome | None:
        async with self.db.tenant_transaction(tenant_id) as session:
            run_id = await runs.claim(session, tenant_id, job.name, period, self.runner, now)
        if run_id is None:
            return None
        try:
            async with self.db.tenant_transaction(tenant_id) as session:
                counts = await job.work(session, tenant_id, now)
                await runs.finish(
                    session, tenant_id, run_id, runs.SUCCEEDED, datetime.now(UTC), counts
                )
        except Exception as exc:
            log.exception("job %s failed for tenant %s (%s)", job.name, tenant_id, period)
            async with self.db.tenant_transaction(tenant_id) as session:
                await runs.finish(
                    session, tenant_id, run_id, runs.FAILED, datetime.now(UTC), error=repr(exc)
                )
            return Outcome(tenant_id, job.name, period, runs.FAILED, {})
        return Outcome(tenant_id, job.name, period, runs.SUCCEEDED, counts)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.tick_seconds)

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop())

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """Lets the job in hand finish (within ``grace_seconds``) and starts no other.

        Why: a job cancelled half-way leaves its run RUNNING until its lease runs out
        (another process then takes it over); a graceful stop should not leave work
        for the lease to clean up."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
