"""Two real server processes run the scheduled jobs: each job once per period, per tenant,
and the work of a run (alerts) happens once however many periods and processes."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import defaultdict
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from auth.caller import Caller
from db.migrate import upgrade_sync
from db.session import Database, plain_url
from domain.replenishment import rules
from domain.scheduler.jobs import FORECAST_REFRESH, HOLIDAY_CHECK, MEMBER_RETAG, OFFER_TRIGGERS
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from tests.api.conftest import start_server, stop_server
from tests.conftest import BASE_URL, _with_database, make_tenant

PERIOD = 2.0
RUN_FOR = 7.0
JOBS = {FORECAST_REFRESH, HOLIDAY_CHECK, OFFER_TRIGGERS, MEMBER_RETAG}


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(plain_url(BASE_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def own_database() -> object:
    """A database of its own: the servers' jobs act on every tenant they find."""
    name = f"sg_sched_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = _with_database(BASE_URL, name)
    upgrade_sync(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_two_processes_run_each_job_once_per_period(own_database, signing_key, tmp_path):
    db = Database.connect(own_database, pool_size=2)
    try:
        tenant = await make_tenant(db, "sched")
        caller = Caller.system(tenant.tenant_id)
        async with db.tenant_transaction(tenant.tenant_id) as s:
            await post(
                s,
                caller,
                [Posting(tenant.locations["S1"], tenant.products["A"], MovementKind.RECEIPT, 2)],
            )
            # 2 on hand, reorder point 5: low stock, to be alerted once today
            await rules.set_rules(
                s,
                caller,
                rules.SetRules((rules.RuleLine(tenant.locations["S1"], "A", reorder_point=5),)),
            )
        env = {
            "STOCKGRAPH_SCHEDULER_ENABLED": "true",
            "STOCKGRAPH_SCHEDULER_TICK_SECONDS": "0.2",
            "STOCKGRAPH_SCHEDULER_PERIOD_SECONDS": str(PERIOD),
            "STOCKGRAPH_POOL_SIZE": "3",
            "STOCKGRAPH_DATA_KEY": "00" * 32,
        }
        servers = []
        started = time.time()
        for i in range(2):
            home = tmp_path / f"s{i}"
            home.mkdir()
            servers.append(start_server(own_database, signing_key, Path(home), extra_env=env))
        try:
            await asyncio.sleep(RUN_FOR)
        finally:
            for srv in servers:
                stop_server(srv)
        stopped = time.time()
        async with db.owner_transaction() as s:
            runs = (
                await s.execute(
                    text(
                        "SELECT job, period, status, attempts, runner, counts FROM job_runs "
                        "WHERE tenant_id = :t"
                    ),
                    {"t": tenant.tenant_id},
                )
            ).all()
            alerts = (
                (
                    await s.execute(
                        text("SELECT kind FROM replenishment_alerts WHERE tenant_id = :t"),
                        {"t": tenant.tenant_id},
                    )
                )
                .scalars()
                .all()
            )
            profiles = (
                await s.execute(
                    text("SELECT count(*) FROM demand_profiles WHERE tenant_id = :t"),
                    {"t": tenant.tenant_id},
                )
            ).scalar_one()
    finally:
        await db.dispose()

    per_job: dict[str, list[str]] = defaultdict(list)
    for r in runs:
        per_job[r.job].append(r.period)
        assert (r.status, r.attempts) == ("SUCCEEDED", 1), r
    assert set(per_job) == JOBS
    periods_seen = int((stopped - started) // PERIOD)
    for job, periods in per_job.items():
        assert len(periods) == len(set(periods)), job  # never twice in a period
        # one run per period while a server was up (none before the first one started)
        assert 3 <= len(periods) <= periods_seen + 1, (job, periods)
    runners = {r.runner.rsplit(":", 1)[1] for r in runs}
    assert runners <= {str(srv.process.pid) for srv in servers}
    # the low-stock alert was raised by exactly one run, once
    assert alerts == ["LOW_STOCK"]
    assert sum(r.counts.get("alerts", 0) for r in runs if r.job == HOLIDAY_CHECK) == 1
    assert profiles == 3
