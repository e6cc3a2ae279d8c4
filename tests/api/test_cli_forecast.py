"""``stockgraph forecast backtest``: one JSON object with the model's and the baseline's
WAPE and bias, per location and overall."""

from __future__ import annotations

import asyncio

from tests.api.test_cli import as_json, cli
from tests.domain.test_replenishment import sell_history


async def test_backtest_prints_both_figures_per_location_and_overall(database_url, tenant):
    await sell_history(tenant, "S1", "A", 4, days=90)
    await sell_history(tenant, "S2", "B", 2, days=90)
    out = as_json(
        await asyncio.to_thread(
            cli, database_url, "forecast", "backtest", "--tenant", tenant.code, "--days", "28"
        )
    )
    assert out["tenant"] == tenant.code and out["days"] == 28
    assert {loc["location"] for loc in out["locations"]} == {"S1", "S2"}
    overall = out["overall"]
    assert overall["model"]["actualUnits"] == 28 * 6 == overall["seasonalNaive"]["actualUnits"]
    # a steady seller: the model is close and unbiased
    assert overall["model"]["wape"] < 0.2 and abs(overall["model"]["bias"]) < 0.2
    assert overall["seasonalNaive"]["wape"] is not None


async def test_backtest_refuses_an_unknown_tenant_or_a_long_window(database_url, tenant):
    unknown = await asyncio.to_thread(
        cli, database_url, "forecast", "backtest", "--tenant", "nope-x", "--days", "28"
    )
    assert unknown.returncode != 0 and unknown.stdout == "" and "NOT_FOUND" in unknown.stderr
    long = await asyncio.to_thread(
        cli, database_url, "forecast", "backtest", "--tenant", tenant.code, "--days", "90"
    )
    assert long.returncode != 0 and "INVALID" in long.stderr
