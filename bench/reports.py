"""A 12-month stock movement report of the demo chain: how long it takes to build.

Run: ``.venv/bin/python -m bench.reports [--days 365]``. Loads the demo chain
with that much history into a scratch database, then builds the report over the
whole history as XLSX and as PDF, the way a report job does (reading the ledger
one location at a time, also timed as one query), and prints the seconds of
each step. The bar: a report job must finish within 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import date, timedelta

from auth.caller import Caller
from auth.permissions import Role
from bench.common import scratch_database
from db.session import Database
from domain.demo import load_demo
from domain.reports import movements, pdf, xlsx
from domain.reports.movements import MovementReportQuery, movement_report

BAR_SECONDS = 60.0


async def run(url: str, days: int) -> None:
    db = Database.connect(url, pool_size=2)
    try:
        started = time.perf_counter()
        async with db.owner_transaction() as session:
            demo = await load_demo(session, days=days, master=os.urandom(32))
        loaded = time.perf_counter() - started
        print(f"demo chain with {days} days of history loaded in {loaded:.0f} s")
        owner = Caller.for_staff(demo.tenant_id, 1, Role.OWNER, frozenset())
        end = date.today()
        query = MovementReportQuery(start=end - timedelta(days=days - 1), end=end)
        started = time.perf_counter()
        async with db.tenant_transaction(demo.tenant_id) as session:
            report = await movement_report(session, owner, query)
        figures = time.perf_counter() - started
        # as a report job reads it: one location per transaction, at one cut of the ledger
        started = time.perf_counter()
        async with db.tenant_transaction(demo.tenant_id) as session:
            cut = await movements.sections(session, owner, query)
        parts = []
        for index in range(len(cut.location_ids)):
            async with db.tenant_transaction(demo.tenant_id) as session:
                parts.append(await movement_report(session, owner, cut.part(query, index)))
        by_location = time.perf_counter() - started
        assert movements.joined(query, report.currency, parts).data_bytes() == report.data_bytes()
        started = time.perf_counter()
        workbook = xlsx.render(report)
        as_xlsx = time.perf_counter() - started
        started = time.perf_counter()
        document = pdf.render(report, demo.tenant)
        as_pdf = time.perf_counter() - started
        print(f"{len(report.lines):,} SKU × location lines over {days} days")
        print(
            f"figures from the ledger: {figures:.2f} s in one query, "
            f"{by_location:.2f} s by location"
        )
        print(f"XLSX: {as_xlsx:.2f} s, {len(workbook) / 1024:.0f} KiB")
        print(f"PDF: {as_pdf:.2f} s, {len(document) / 1024:.0f} KiB")
        total = by_location + max(as_xlsx, as_pdf)
        ratio = total / BAR_SECONDS
        print(f"slowest job {total:.1f} s; ratio to the {BAR_SECONDS:.0f} s bar: {ratio:.2f}")
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    with scratch_database() as url:
        asyncio.run(run(url, args.days))


if __name__ == "__main__":
    main()
