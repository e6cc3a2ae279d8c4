"""Job runs: a leased row per (tenant, job, period) makes each job run once per period.

``claim`` inserts the row as RUNNING with a lease, in a transaction of its own
that commits before the work starts. A second process claiming the same
period meets the unique key and gets nothing; PostgreSQL makes it wait for
the first insert to commit or roll back, so two claims never both succeed.
A FAILED run is taken again after ``RETRY_AFTER`` (up to ``MAX_ATTEMPTS``),
and a RUNNING one whose lease ran out (its process died) is taken over. The
work and the SUCCEEDED mark commit together, so a run either happened
completely or not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import JobRun
from domain.pagination import Page, make_page

RUNS = cast(Table, JobRun.__table__)
LEASE = timedelta(minutes=15)
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RUNNING, SUCCEEDED, FAILED = "RUNNING", "SUCCEEDED", "FAILED"

_CLAIM = text(
    """
    INSERT INTO job_runs (tenant_id, job, period, status, attempts, runner, started_at,
                          lease_until, counts)
    VALUES (:tenant, :job, :period, 'RUNNING', 1, :runner, :now, :lease, '{}')
    ON CONFLICT (tenant_id, job, period) DO UPDATE
    SET status = 'RUNNING', attempts = job_runs.attempts + 1, runner = EXCLUDED.runner,
        started_at = EXCLUDED.started_at, lease_until = EXCLUDED.lease_until,
        finished_at = NULL, error = NULL
    WHERE (job_runs.status = 'FAILED' AND job_runs.finished_at < CAST(:retry AS timestamptz)
           AND job_runs.attempts < :max_attempts)
       OR (job_runs.status = 'RUNNING' AND job_runs.lease_until < CAST(:now AS timestamptz))
    RETURNING id
    """
)


async def claim(
    session: AsyncSession, tenant_id: int, job: str, period: str, runner: str, now: datetime
) -> int | None:
    """The run's id when this process may run it now; None when another has or had it."""
    row = (
        await session.execute(
            _CLAIM,
            {
                "tenant": tenant_id,
                "job": job,
                "period": period,
                "runner": runner[:100],
                "now": now,
                "lease": now + LEASE,
                "retry": now - RETRY_AFTER,
                "max_attempts": MAX_ATTEMPTS,
            },
        )
    ).first()
    return int(row.id) if row is not None else None


async def finish(
    session: AsyncSession,
    tenant_id: int,
    run_id: int,
    status: str,
    now: datetime,
    counts: dict[str, int] | None = None,
    error: str | None = None,
) -> None:
    await session.execute(
        update(RUNS)
        .where(RUNS.c.tenant_id == tenant_id, RUNS.c.id == run_id)
        .values(
            status=status,
            finished_at=now,
            counts=counts or {},
            error=(error or None) and error[:2000],
        )
    )


async def list_runs(
    session: AsyncSession, caller: Caller, *, limit: int, after: int | None, job: str | None
) -> Page[Row[Any]]:
    """Newest first; keyset on id."""
    stmt = select(RUNS).where(RUNS.c.tenant_id == caller.tenant_id)
    if job is not None:
        stmt = stmt.where(RUNS.c.job == job)
    if after is not None:
        stmt = stmt.where(RUNS.c.id < after)
    rows = (await session.execute(stmt.order_by(RUNS.c.id.desc()).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)
