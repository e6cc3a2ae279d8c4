"""replenishmentSuggestions for one store with 2,000 SKUs, over real HTTP: the bar is 1 s.

Builds a scratch database with one tenant: a store with a rule, a supplier offer and
five weeks of sales for each of 2,000 SKUs, a second store and a warehouse holding
stock (donors for transfer-first). Then times the query (every SKU is computed; the
page shows 250) with the profiles fitted on the fly, and again after the nightly job
stored them. Prints the figures and their ratio to the bar.

    .venv/bin/python -m bench.replenishment [--skus 2000] [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import insert, select, text

from auth.caller import Caller
from bench.common import scratch_database, server, signing_key
from db.models import Product
from db.session import Database
from domain import ids
from domain.replenishment import alerts, rules, suppliers
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from domain.tenancy import service as tenancy

BAR_SECONDS = 1.0
DAYS = 35
QUERY = """query($loc: ID!) { replenishmentSuggestions(locationId: $loc, first: 250) {
  totalCount edges { node { sku quantity transferQuantity purchaseQuantity need position
  forecastUnits forecastDays { date units event { name } } transfers { quantity } } } } }"""

# what a list screen asks: the quantities and the terms, without the day-by-day forecast
LIST_QUERY = """query($loc: ID!) { replenishmentSuggestions(locationId: $loc, first: 250) {
  totalCount edges { node { sku quantity transferQuantity purchaseQuantity need position
  target forecastUnits onHand inTransit openPurchaseOrders transfers { quantity } } } } }"""


async def build(db: Database, skus: int) -> tuple[int, int, tuple[str, str]]:
    rng = random.Random(7)
    async with db.owner_transaction() as s:
        tenant = await tenancy.create_tenant(s, "bench", "Bench 藥房")
        t = tenant.tenant_id
        system = Caller.system(t)
        locs = {
            code: await tenancy.create_location(
                s, system, tenancy.NewLocation(code, code, code, kind, "HK")
            )
            for code, kind in (("S1", "STORE"), ("S2", "STORE"), ("WH", "CENTRAL_WAREHOUSE"))
        }
        await s.execute(
            insert(Product),
            [
                {"tenant_id": t, "sku": f"SKU-{i:05d}", "name_zh": f"產品{i}", "name_en": f"P{i}"}
                for i in range(skus)
            ],
        )
        products = dict(
            (await s.execute(select(Product.sku, Product.id).where(Product.tenant_id == t))).all()
        )
        creds = await tenancy.create_client(s, system, "bench", "stock:read costs:read", None)
    async with db.tenant_transaction(t) as s:
        sup = await suppliers.create_supplier(
            s,
            system,
            suppliers.SupplierFields("SUP", "供應商", "Supplier", "HKD", 2, (1, 4), Decimal(0)),
        )
        await suppliers.set_supplier_products(
            s,
            system,
            suppliers.SetSupplierProducts(
                sup.id,
                tuple(
                    suppliers.SupplierProductLine(sku, Decimal("4.2"), None, 6, 6)
                    for sku in products
                ),
            ),
        )
        await rules.set_rules(
            s,
            system,
            rules.SetRules(
                tuple(rules.RuleLine(locs["S1"], sku, safety_stock=2) for sku in products)
            ),
        )
    start = datetime.now(UTC) - timedelta(days=DAYS)
    for loc, stock in (("S1", 0), ("S2", 30), ("WH", 60)):
        async with db.tenant_transaction(t) as s:
            await post(
                s,
                system,
                [
                    Posting(locs[loc], pid, MovementKind.RECEIPT, stock + 12, occurred_at=start)
                    for pid in products.values()
                ],
            )
    for loc in ("S1", "S2"):
        batch: list[Posting] = []
        for day in range(1, DAYS):
            at = start + timedelta(days=day, hours=3)
            for pid in products.values():
                if rng.random() < 0.35:
                    batch.append(
                        Posting(
                            locs[loc],
                            pid,
                            MovementKind.SALE,
                            -1,
                            occurred_at=at,
                            allow_negative=True,
                        )
                    )
            if len(batch) > 4000:
                async with db.tenant_transaction(t) as s:
                    await post(s, system, batch)
                batch = []
        if batch:
            async with db.tenant_transaction(t) as s:
                await post(s, system, batch)
    async with db.owner_transaction() as s:
        # freshly loaded tables: give the planner statistics, as autovacuum would
        await s.execute(text("ANALYZE"))
    return t, locs["S1"], (creds.client_id, creds.client_secret)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (less sensitive to a busy machine than wall time)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_queries(
    base: str, token: str, location: str, runs: int, pid: int, query: str = QUERY
) -> tuple[list[float], float]:
    """Wall seconds per query, and the server's CPU seconds per query."""
    times = []
    cpu_before = 0.0
    with httpx.Client(base_url=base, timeout=60) as http:
        for i in range(runs + 1):
            if i == 1:
                cpu_before = cpu_seconds(pid)
            began = time.perf_counter()
            r = http.post(
                "/graphql",
                json={"query": query, "variables": {"loc": location}},
                headers={"Authorization": f"Bearer {token}"},
            )
            elapsed = time.perf_counter() - began
            body = r.json()
            assert "errors" not in body, body
            times.append(elapsed)
    cpu = (cpu_seconds(pid) - cpu_before) / runs
    return times[1:], cpu  # the first warms the caches


def report(label: str, measured: tuple[list[float], float], count: int) -> dict[str, object]:
    times, cpu = measured
    median = statistics.median(times)
    return {
        "case": label,
        "suggestions": count,
        "runs": len(times),
        "medianSeconds": round(median, 3),
        "maxSeconds": round(max(times), 3),
        "serverCpuSecondsPerQuery": round(cpu, 3),
        "ratioToBar": round(median / BAR_SECONDS, 3),
        "loadAverage": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with scratch_database() as url:
        db = Database.connect(url, pool_size=4)

        async def setup() -> tuple[int, int, tuple[str, str]]:
            try:
                return await build(db, args.skus)
            finally:
                await db.dispose()

        began = time.perf_counter()
        tenant_id, store, (cid, secret) = asyncio.run(setup())
        print(f"# data built in {time.perf_counter() - began:.1f} s", flush=True)
        env = {"STOCKGRAPH_SCHEDULER_ENABLED": "false", "STOCKGRAPH_POOL_SIZE": "4"}
        with server(url, signing_key(), env=env) as (base, pid):
            token = httpx.post(
                base + "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(cid, secret),
            ).json()["access_token"]
            location = ids.encode("Location", store)
            count = httpx.post(
                base + "/graphql",
                json={"query": QUERY, "variables": {"loc": location}},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            ).json()["data"]["replenishmentSuggestions"]["totalCount"]
            results = [
                report(
                    "profiles fitted per query",
                    time_queries(base, token, location, args.runs, pid),
                    count,
                )
            ]

            async def nightly() -> None:
                db2 = Database.connect(url, pool_size=2)
                try:
                    async with db2.tenant_transaction(tenant_id) as s:
                        await alerts.refresh_forecasts(s, tenant_id, datetime.now(UTC))
                finally:
                    await db2.dispose()

            asyncio.run(nightly())
            results.append(
                report(
                    "profiles stored by the nightly job",
                    time_queries(base, token, location, args.runs, pid),
                    count,
                )
            )
            results.append(
                report(
                    "stored profiles, list fields only",
                    time_queries(base, token, location, args.runs, pid, LIST_QUERY),
                    count,
                )
            )
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
