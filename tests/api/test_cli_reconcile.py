"""``stockgraph reconcile``: a JSON summary on stdout, once per file, clear refusals."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from tests.api.test_cli import as_json, cli
from tests.graphql.pos_ops import register, sale, sync
from tests.helpers import count_rows

HK = ZoneInfo("Asia/Hong_Kong")
HEADER = "reader_id,transaction_time,amount,octopus_reference,type,settlement_date,fee\n"


async def test_reconcile_octopus_from_the_command_line(database_url, gql, db, tenant, tmp_path):
    device, till = await register(gql, tenant)
    when = datetime(2026, 12, 5, 10, 0, tzinfo=HK)
    sales = [
        sale("A", 1, "10.00", method="OCTOPUS", reference="OCT-1", terminal="R01", when=when),
        sale("B", 1, "20.00", method="OCTOPUS", terminal="R01", when=when.replace(minute=5)),
        sale("C", 1, "5.50", method="OCTOPUS", terminal="R02", when=when.replace(minute=9)),
    ]
    assert (await sync(gql, till, device["id"], sales))["accepted"] == 3
    settlement = tmp_path / "octopus-20261205.csv"
    settlement.write_text(
        HEADER
        + "R01,2026-12-05 10:00:00,10.00,OCT-1,PAYMENT,2026-12-06,0.08\n"
        + "R01,2026-12-05 10:06:00,20.00,,PAYMENT,2026-12-06,0.16\n"
        + "R03,2026-12-05 11:00:00,7.00,,PAYMENT,2026-12-06,0.05\n"
    )
    out = tmp_path / "run.xlsx"
    args = ("reconcile", "octopus", str(settlement), "--tenant", tenant.code, "--xlsx", str(out))
    first = as_json(await asyncio.to_thread(cli, database_url, *args))
    assert first["created"] is True and first["period"] == ["2026-12-05", "2026-12-05"]
    assert first["counts"]["MATCHED"] == 2
    assert first["counts"]["MISSING_IN_POS"] == 1 and first["counts"]["MISSING_IN_SETTLEMENT"] == 1
    by_location = {t["location_id"]: t for t in first["totals"]}
    assert by_location[tenant.locations["S1"]]["net"] == "29.76"
    assert load_workbook(out)["Lines 明細"]["A1"].value == "狀態 Status"
    again = as_json(await asyncio.to_thread(cli, database_url, *args))
    assert again["created"] is False and again["run"] == first["run"]
    assert await count_rows(db, "reconciliation_runs", tenant.tenant_id) == 1

    broken = tmp_path / "broken.csv"
    broken.write_text(HEADER + "R01,05/12/2026 10:00,10.00,OCT-9,PAYMENT,2026-12-06,0.08\n")
    refused = await asyncio.to_thread(
        cli, database_url, "reconcile", "octopus", str(broken), "--tenant", tenant.code
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert "line 2, column transaction_time" in refused.stderr
    assert await count_rows(db, "reconciliation_runs", tenant.tenant_id) == 1
