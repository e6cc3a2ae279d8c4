"""The pure parts of job progress: the NOTIFY payload, percent of a phase, the broker's wake-ups."""

from __future__ import annotations

import asyncio

from domain.progress import JobKind, notify_payload, parse_payload, percent_of
from subscriptions.broker import Broker


def test_the_payload_names_tenant_kind_and_job_and_nothing_else_parses():
    assert notify_payload(7, JobKind.IMPORT, 42) == "7:IMPORT:42"
    assert parse_payload("7:IMPORT:42") == (7, JobKind.IMPORT, 42)
    assert parse_payload("7:REPORT:1") == (7, JobKind.REPORT, 1)
    for bad in ("", "7", "7:IMPORT", "x:IMPORT:1", "7:OTHER:1", "7:IMPORT:x"):
        assert parse_payload(bad) is None, bad


def test_percent_of_a_phase_never_leaves_its_share():
    assert percent_of(20, 95, 0, 1000) == 20
    assert percent_of(20, 95, 500, 1000) == 57
    assert percent_of(20, 95, 1000, 1000) == 95
    assert percent_of(20, 95, 5000, 1000) == 95  # more done than announced: capped
    assert percent_of(20, 95, 10, None) == 20  # no total known yet
    assert percent_of(20, 95, 10, 0) == 20


async def test_the_broker_wakes_exactly_the_followers_of_the_job_named():
    broker = Broker(None, "postgresql://unused/db")  # type: ignore[arg-type]
    first = broker.watch_job(1, JobKind.REPORT, 5)
    second = broker.watch_job(1, JobKind.REPORT, 5)
    other_kind = broker.watch_job(1, JobKind.IMPORT, 5)
    other_tenant = broker.watch_job(2, JobKind.REPORT, 5)
    broker._job_notified(None, 0, "stockgraph_jobs", "1:REPORT:5")
    broker._job_notified(None, 0, "stockgraph_jobs", "garbage")
    assert first.is_set() and second.is_set()
    assert not other_kind.is_set() and not other_tenant.is_set()

    broker.unwatch_job(1, JobKind.REPORT, 5, first)
    broker.unwatch_job(1, JobKind.REPORT, 5, second)
    assert (1, JobKind.REPORT, 5) not in broker.job_watchers
    await asyncio.sleep(0)
