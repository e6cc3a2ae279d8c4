"""Offline sale batches: sales per second through ``syncSales`` (batches of 100) on one
server process, beside the rate of single ``recordSale`` calls, one client each.

Prints both rates and their ratio; the bar is a batch sale costing no more than a
single one (ratio ≥ 1.0).

    python -m bench.pos [--batches 20] [--singles 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from auth.caller import Caller
from bench.common import scratch_database, server, signing_key
from db.session import Database
from domain import ids
from domain.tenancy import service as tenancy

BATCH = 100
BAR_RATIO = 1.0
SYNC = """mutation($input: SyncSalesInput!) { syncSales(input: $input) {
  accepted rejected userErrors { code } } }"""
SALE = """mutation($input: RecordSaleInput!) { recordSale(input: $input) {
  userErrors { code } } }"""
REGISTER = """mutation($input: RegisterDeviceInput!) { registerDevice(input: $input) {
  clientId clientSecret device { id } userErrors { code } } }"""


async def setup(url: str) -> tuple[str, dict[str, str]]:
    db = Database.connect(url, pool_size=2)
    try:
        async with db.owner_transaction() as s:
            tenant = await tenancy.create_tenant(s, "bench", "Bench")
            system = Caller.system(tenant.tenant_id)
            loc = await tenancy.create_location(s, system, tenancy.NewLocation("S1", "店", "S1"))
            for sku in ("A", "B", "C"):
                await tenancy.create_product(s, system, tenancy.NewProduct(sku, sku, sku))
            creds = await tenancy.create_client(
                s, system, "bench", "admin stock:read stock:write", None
            )
    finally:
        await db.dispose()
    return ids.encode("Location", loc), {"id": creds.client_id, "secret": creds.client_secret}


async def token(http: httpx.AsyncClient, client_id: str, secret: str) -> str:
    response = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    return str(response.json()["access_token"])


def sale(n: int) -> dict[str, Any]:
    return {
        "clientSaleId": str(uuid.uuid4()),
        "occurredAt": (datetime.now(UTC) - timedelta(seconds=n)).isoformat(),
        "lines": [{"sku": "A", "quantity": 1, "unitPrice": "10.00"}],
        "tenders": [{"method": "OCTOPUS", "amount": "10.00", "providerReference": f"O-{n}"}],
    }


async def post(http: httpx.AsyncClient, bearer: str, query: str, variables: Any) -> Any:
    response = await http.post(
        "/graphql",
        headers={"Authorization": f"Bearer {bearer}"},
        json={"query": query, "variables": variables},
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


async def run(base: str, location: str, creds: dict[str, str], batches: int, singles: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        admin = await token(http, creds["id"], creds["secret"])
        reg = (
            await post(http, admin, REGISTER, {"input": {"locationId": location, "name": "T1"}})
        )["registerDevice"]
        till = await token(http, reg["clientId"], reg["clientSecret"])
        device = reg["device"]["id"]
        for i in range(3):  # warm-up
            await post(http, till, SYNC, {"input": {"deviceId": device, "sales": [sale(-i - 1)]}})
        started = time.perf_counter()
        for i in range(singles):
            data = await post(
                http,
                till,
                SALE,
                {
                    "input": {
                        "locationId": location,
                        "receiptNumber": f"R{i}",
                        "lines": [{"sku": "A", "quantity": 1, "unitPrice": "10.00"}],
                    }
                },
            )
            assert data["recordSale"]["userErrors"] == []
        single_rate = singles / (time.perf_counter() - started)
        started = time.perf_counter()
        for b in range(batches):
            batch = [sale(b * BATCH + k) for k in range(BATCH)]
            data = await post(http, till, SYNC, {"input": {"deviceId": device, "sales": batch}})
            assert data["syncSales"]["accepted"] == BATCH, data
        batch_rate = batches * BATCH / (time.perf_counter() - started)
    ratio = batch_rate / single_rate
    print(
        json.dumps(
            {
                "recordSale_sales_per_s": round(single_rate, 1),
                "syncSales_batch100_sales_per_s": round(batch_rate, 1),
                "ratio": round(ratio, 2),
                "bar_ratio": BAR_RATIO,
                "ratio_to_bar": round(ratio / BAR_RATIO, 2),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--singles", type=int, default=300)
    args = parser.parse_args()
    with scratch_database() as url:
        location, creds = asyncio.run(setup(url))
        with server(url, signing_key(), env={"STOCKGRAPH_POOL_SIZE": "4"}) as (base, _):
            asyncio.run(run(base, location, creds, args.batches, args.singles))


if __name__ == "__main__":
    main()
