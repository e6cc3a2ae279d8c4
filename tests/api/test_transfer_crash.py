"""100 transfers over HTTP, with sales, while the server is SIGKILLed and restarted.

Clients retry every request with the same idempotency key until they get an
answer, on whatever server is up. Afterwards every transfer is fully applied,
not applied, or consistently in transit; units are conserved; the ledger equals
the levels; and no transfer movement lacks its transfer.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from typing import Any

import httpx
from sqlalchemy import text

from domain.stock import service as stock
from tests.api.conftest import Server, app_token, new_client, start_server, stop_server
from tests.graphql.transfer_ops import MUTATIONS
from tests.helpers import assert_conserved

SCOPES = "stock:read stock:write transfers:read transfers:write transfers:approve"
SALE = """mutation($input: RecordSaleInput!) { recordSale(input: $input) {
  movements { sequence } userErrors { code } } }"""
TRANSFERS = 100
SEED = int(os.environ.get("STOCKGRAPH_CRASH_SEED", os.getpid()))  # printed on failure
KILLS = random.Random(SEED).randint(3, 5)


class Cluster:
    """The one server that is up now; replaced when it is killed."""

    def __init__(self, server: Server, start: Any) -> None:
        self.server = server
        self.start = start
        self.ops = 0
        self.kills = 0

    async def post(self, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Retry until some server answers; the same request (and key) every time."""
        deadline = time.monotonic() + 60
        while True:
            url = self.server.url
            try:
                async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                    response = await http.post(
                        "/graphql",
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables},
                    )
                if response.status_code == 200:
                    body = response.json()
                    if not body.get("errors"):
                        self.ops += 1
                        return body["data"]  # type: ignore[no-any-return]
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "no server answered for 60 s"
            await asyncio.sleep(0.05)

    async def killer(self, points: list[int]) -> None:
        for point in points:
            while self.ops < point:  # noqa: ASYNC110 - a progress counter, polled
                await asyncio.sleep(0.01)
            self.server.process.send_signal(signal.SIGKILL)
            self.server.process.wait()
            self.kills += 1
            self.server = await asyncio.to_thread(self.start)


async def test_transfers_survive_server_kills(
    database_url, app_database_url, signing_key, tmp_path, tenant
):
    rng = random.Random(SEED)
    print(f"crash test seed {SEED} (replay with STOCKGRAPH_CRASH_SEED={SEED})")
    env = {
        "STOCKGRAPH_PUBLIC_URL": "http://stockgraph.test",
        "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
    }

    def start() -> Server:
        return start_server(database_url, signing_key, tmp_path, extra_env=env)

    cluster = Cluster(await asyncio.to_thread(start), start)
    token = await app_token(cluster.server, await new_client(tenant, SCOPES))
    locations = list(tenant.locations)
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        for loc in locations:
            await stock.receive_stock(
                session,
                tenant.owner,
                stock.ReceiveStock(
                    tenant.locations[loc], tuple(stock.ReceiptLine(s, 100) for s in "ABC")
                ),
            )

    plans = []
    for i in range(TRANSFERS):
        src, dst = rng.sample(locations, 2)
        skus = rng.sample("ABC", rng.randint(1, 3))
        plans.append(
            {
                "i": i,
                "from": src,
                "to": dst,
                "lines": [{"sku": s, "quantity": rng.randint(1, 4)} for s in skus],
                # how far the client takes it: approved only, in transit, received
                "goal": rng.choice(["APPROVED", "IN_TRANSIT", "RECEIVED", "RECEIVED"]),
            }
        )
    outcome: dict[int, str] = {}
    sem = asyncio.Semaphore(6)

    async def mutate(name: str, key: str, **input: Any) -> dict[str, Any]:
        data = await cluster.post(
            token, MUTATIONS[name], {"input": {**input, "idempotencyKey": key}}
        )
        return data[name]  # type: ignore[no-any-return]

    async def drive(plan: dict[str, Any]) -> None:
        i = plan["i"]
        async with sem:
            created = await mutate(
                "createTransfer",
                f"create-{i}",
                fromLocationId=tenant.loc(plan["from"]),
                toLocationId=tenant.loc(plan["to"]),
                lines=plan["lines"],
                submit=True,
            )
            assert created["userErrors"] == [], created
            tid = created["transfer"]["id"]
            approved = await mutate("approveTransfer", f"approve-{i}", id=tid)
            assert approved["userErrors"] == [], approved
            status = approved["transfer"]["status"]
            if plan["goal"] != "APPROVED":
                shipped = await mutate("shipTransfer", f"ship-{i}", id=tid)
                if shipped["userErrors"]:  # sales emptied the shelf: not applied
                    assert shipped["userErrors"][0]["code"] == "INSUFFICIENT_STOCK", shipped
                else:
                    status = shipped["transfer"]["status"]
            if plan["goal"] == "RECEIVED" and status == "IN_TRANSIT":
                received = await mutate(
                    "receiveTransfer", f"receive-{i}", id=tid, lines=plan["lines"]
                )
                assert received["userErrors"] == [], received
                status = received["transfer"]["status"]
            outcome[i] = status

    async def sales(worker: int) -> None:
        for n in range(25):
            loc = rng.choice(locations)
            data = await cluster.post(
                token,
                SALE,
                {
                    "input": {
                        "locationId": tenant.loc(loc),
                        "receiptNumber": f"R{worker}-{n}",
                        "lines": [{"sku": rng.choice("ABC"), "quantity": rng.randint(1, 3)}],
                        "idempotencyKey": f"sale-{worker}-{n}",
                    }
                },
            )
            assert data["recordSale"]["userErrors"] == [], data

    total_ops = TRANSFERS * 3 + 50
    points = sorted(rng.sample(range(20, total_ops - 60), KILLS))
    killer = asyncio.create_task(cluster.killer(points))
    try:
        await asyncio.gather(*(drive(p) for p in plans), sales(1), sales(2))
        await asyncio.wait_for(killer, 30)
    finally:
        killer.cancel()
        stop_server(cluster.server)
    assert cluster.kills == KILLS

    # each transfer: fully applied, not applied, or consistently in transit
    async with tenant.db.owner_transaction() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT t.id, t.status, SUM(l.quantity) AS qty, SUM(l.shipped) AS shipped, "
                    "SUM(l.received) AS received FROM transfers t JOIN transfer_lines l "
                    "ON l.tenant_id = t.tenant_id AND l.transfer_id = t.id "
                    "WHERE t.tenant_id = :t GROUP BY t.id, t.status ORDER BY t.id"
                ),
                {"t": tenant.tenant_id},
            )
        ).all()
    assert len(rows) == TRANSFERS  # no transfer created twice by a retry
    assert sorted(r.status for r in rows) == sorted(outcome.values())
    for r in rows:
        if r.status == "APPROVED":
            assert (r.shipped, r.received) == (0, 0)
        elif r.status == "IN_TRANSIT":
            assert (r.shipped, r.received) == (r.qty, 0)
        else:
            assert r.status == "RECEIVED" and r.shipped == r.received == r.qty
    await assert_conserved(tenant.db, tenant.tenant_id)
