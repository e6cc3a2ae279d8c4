"""The job runner on a real database: one claim per period, retries after a failure
without duplicating the work, take-over of a run whose process died."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from domain.replenishment.alerts import LOW_STOCK, NewAlert, raise_alerts
from domain.scheduler import runs
from domain.scheduler.runner import Job, Scheduler

LONG = 10**8  # seconds: the test never crosses a period boundary


async def _alerts(tenant) -> int:
    async with tenant.db.owner_transaction() as s:
        return int(
            (
                await s.execute(
                    text("SELECT count(*) FROM replenishment_alerts WHERE tenant_id = :t"),
                    {"t": tenant.tenant_id},
                )
            ).scalar_one()
        )


async def test_a_failed_run_is_retried_later_without_duplicating_alerts(tenant):
    attempts = []

    async def flaky(session, tenant_id, now):
        alert = NewAlert(tenant.locations["S1"], tenant.products["A"], LOW_STOCK, 0, 1.0, 6)
        new = await raise_alerts(session, tenant_id, date(2026, 12, 7), [alert])
        attempts.append(new)
        if len(attempts) == 1:
            raise RuntimeError("the channel timed out")
        return {"alerts": new}

    now = datetime.now(UTC)
    job = Job("flaky", LONG, flaky)
    scheduler = Scheduler(tenant.db, [job])
    first = [o for o in await scheduler.tick(now) if o.tenant_id == tenant.tenant_id]
    assert [o.status for o in first] == ["FAILED"]
    assert await _alerts(tenant) == 0  # rolled back with the failure
    soon = [
        o
        for o in await scheduler.tick(now + timedelta(minutes=1))
        if o.tenant_id == tenant.tenant_id
    ]
    assert soon == []  # not before RETRY_AFTER
    later = now + runs.RETRY_AFTER + timedelta(seconds=30)
    retried = [o for o in await scheduler.tick(later) if o.tenant_id == tenant.tenant_id]
    assert [(o.status, o.counts) for o in retried] == [("SUCCEEDED", {"alerts": 1})]
    assert await _alerts(tenant) == 1
    again = [o for o in await scheduler.tick(later) if o.tenant_id == tenant.tenant_id]
    assert again == []  # done for this period
    async with tenant.db.owner_transaction() as s:
        row = (
            await s.execute(
                text(
                    "SELECT status, attempts FROM job_runs WHERE tenant_id = :t AND job = 'flaky'"
                ),
                {"t": tenant.tenant_id},
            )
        ).one()
    assert tuple(row) == ("SUCCEEDED", 2)


async def test_claims_are_exclusive_and_expired_leases_are_taken_over(tenant):
    t = tenant.tenant_id
    now = datetime.now(UTC)
    async with tenant.db.tenant_transaction(t) as s:
        first = await runs.claim(s, t, "job", "p1", "a:1", now)
    async with tenant.db.tenant_transaction(t) as s:
        second = await runs.claim(s, t, "job", "p1", "b:2", now)
    assert first is not None and second is None
    # process a died mid-run: after its lease, b takes over
    async with tenant.db.tenant_transaction(t) as s:
        taken = await runs.claim(s, t, "job", "p1", "b:2", now + runs.LEASE + timedelta(seconds=1))
    assert taken == first


async def test_a_stopping_scheduler_finishes_the_job_in_hand_and_starts_no_other(tenant):
    """A graceful stop (a server shutting down) lets the running job finish: its run is
    SUCCEEDED, not left RUNNING for its lease to run out; the jobs after it wait."""
    started = asyncio.Event()

    async def slow(session, tenant_id, now):
        if tenant_id != tenant.tenant_id:
            return {}
        started.set()
        await asyncio.sleep(0.5)
        return {"done": 1}

    async def after(session, tenant_id, now):
        return {"done": 1}

    job_names = (f"slow-{tenant.tenant_id}", f"after-{tenant.tenant_id}")
    scheduler = Scheduler(
        tenant.db, [Job(job_names[0], LONG, slow), Job(job_names[1], LONG, after)]
    )
    scheduler.start()
    await asyncio.wait_for(started.wait(), 10)
    await scheduler.stop()
    async with tenant.db.owner_transaction() as s:
        rows = (
            await s.execute(
                text("SELECT job, status, counts FROM job_runs WHERE tenant_id = :t"),
                {"t": tenant.tenant_id},
            )
        ).all()
    by_job = {r.job: (r.status, r.counts) for r in rows}
    assert by_job.get(job_names[0]) == ("SUCCEEDED", {"done": 1})
    assert job_names[1] not in by_job  # not started once the stop was asked for
