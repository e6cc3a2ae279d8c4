"""How far a long job has got, recorded on its row where every process can read it.

A report or import runs in one process; whoever follows it (``reportJob``,
``importJob``, the ``jobProgress`` subscription) may be served by another. So the
job writes its phase and done/total to its own row in short transactions of its
own (never in the import's all-or-nothing transaction, which commits only at the
end) and sends a NOTIFY on ``JOB_CHANNEL`` naming the job: a wake-up, not the data.
Writes are throttled to one per ``min_interval`` seconds within a phase; a new
phase and the end are always written, so a follower sees every phase and the
final state, and a lost notification costs at most a poll interval.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.session import Database

log = logging.getLogger("stockgraph.progress")

JOB_CHANNEL = "stockgraph_jobs"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


class JobKind(StrEnum):
    REPORT = "REPORT"
    IMPORT = "IMPORT"


def notify_payload(tenant_id: int, kind: JobKind, job_id: int) -> str:
    return f"{tenant_id}:{kind.value}:{job_id}"


def parse_payload(payload: str) -> tuple[int, JobKind, int] | None:
    tenant, _, rest = payload.partition(":")
    kind, _, job = rest.partition(":")
    try:
        return int(tenant), JobKind(kind), int(job)
    except ValueError:
        return None


def percent_of(start: int, end: int, done: int, total: int | None) -> int:
    """A phase's share of the whole: ``start`` to ``end`` percent as done goes 0 → total."""
    if not total:
        return start
    return start + (end - start) * min(done, total) // total


@dataclass(slots=True)
class Tracker:
    """Writes one job's progress to its row (``table``: report_jobs or import_jobs)."""

    db: Database
    table: Table
    kind: JobKind
    tenant_id: int
    job_id: int
    min_interval: float = 0.25
    _last_write: float = field(default=0.0, init=False)
    _last_phase: str | None = field(default=None, init=False)

    async def progress(self, phase: str, done: int, total: int | None, percent: int) -> None:
        """Record progress on the way, best effort: a failed write is logged, never raised.

        The work matters more than its progress bar; the final state goes through
        ``update``, which raises.
        """
        try:
            await self.update(phase, done, total, percent)
        except Exception as error:
            log.warning("progress of %s job %s not recorded: %s", self.kind, self.job_id, error)

    async def update(
        self,
        phase: str,
        done: int,
        total: int | None,
        percent: int,
        *,
        force: bool = False,
        **values: Any,
    ) -> None:
        """Record progress (and any other ``values`` of the row, e.g. the final status)."""
        now = time.monotonic()
        if not force and phase == self._last_phase and now - self._last_write < self.min_interval:
            return
        self._last_write, self._last_phase = now, phase
        t = self.table
        async with self.db.tenant_transaction(self.tenant_id) as session:
            await session.execute(
                update(t)
                .where(t.c.tenant_id == self.tenant_id, t.c.id == self.job_id)
                .values(phase=phase, done=done, total=total, progress=percent, **values)
            )
            await session.execute(
                _NOTIFY,
                {
                    "channel": JOB_CHANNEL,
                    "payload": notify_payload(self.tenant_id, self.kind, self.job_id),
                },
            )


async def job_state(session: AsyncSession, table: Table, tenant_id: int, job_id: int) -> Any | None:
    """The job's row without its file (``content``), or None when the tenant has no such job."""
    columns = [c for c in table.c if c.name != "content"]
    stmt = select(*columns).where(table.c.tenant_id == tenant_id, table.c.id == job_id)
    return (await session.execute(stmt)).first()
