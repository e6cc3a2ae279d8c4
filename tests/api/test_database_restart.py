"""PostgreSQL restarts under a live stream: the subscriber sees a delay, not a loss."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from db.embedded import ensure_embedded_postgres, restart_embedded_postgres, stop_embedded_postgres
from db.migrate import upgrade
from db.session import Database
from tests.api.conftest import app_token, new_client, start_server, stop_server
from tests.api.test_subscriptions import CHANGED
from tests.api.wsclient import WSClient
from tests.conftest import make_tenant

MUTATION = """mutation($loc: ID!, $key: String!) { adjustStock(input: {locationId: $loc,
  sku: "A", delta: 1, reason: FOUND, idempotencyKey: $key}) {
  movements { sequence } userErrors { code } } }"""


@pytest.fixture
def own_cluster():
    home = Path(tempfile.mkdtemp(prefix="sg-restart-", dir="/tmp"))
    home.chmod(0o755)
    url = ensure_embedded_postgres(home, "stockgraph")
    yield home, url
    stop_embedded_postgres(home)
    shutil.rmtree(home, ignore_errors=True)


async def test_stream_survives_a_postgres_restart(own_cluster, signing_key, tmp_path):
    home, url = own_cluster
    await upgrade(url)
    db = Database.connect(url, pool_size=4)
    try:
        tenant = await make_tenant(db)
        server = start_server(url, signing_key, tmp_path)
        try:
            await _run(server, tenant, home, db)
        finally:
            stop_server(server)
        log = "".join(p.read_text() for p in tmp_path.glob("server-*.log"))
        assert "LISTEN connection lost" in log  # the broker really lost and regained it
    finally:
        await db.dispose()


async def _run(server, tenant, home: Path, db: Database) -> None:
    token = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    client = await WSClient.connect(server.url, token)
    await client.subscribe("s", CHANGED, {"after": 0})
    received: list[int] = []

    async def mutate(http: httpx.AsyncClient, key: str) -> None:
        """Retry with the same idempotency key until the answer arrives."""
        for _ in range(100):
            try:
                response = await http.post(
                    "/graphql",
                    json={"query": MUTATION, "variables": {"loc": tenant.loc("S1"), "key": key}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body = response.json()
                if body.get("data") and body["data"]["adjustStock"]["userErrors"] == []:
                    return
            except (httpx.HTTPError, ValueError):
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"mutation {key} never went through")

    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for i in range(20):
            await mutate(http, f"before-{i}")
        for _ in range(20):
            received.append(int((await client.next_data())["stockChanged"]["sequence"]))
        restarting = asyncio.create_task(asyncio.to_thread(restart_embedded_postgres, home))
        for i in range(30):
            await mutate(http, f"during-{i}")
        await restarting
        for i in range(20):
            await mutate(http, f"after-{i}")
        while len(received) < 70:
            received.append(int((await client.next_data(timeout=20))["stockChanged"]["sequence"]))
    await client.close()
    await db.owner_engine.dispose()  # this test's own pool still holds pre-restart connections
    async with db.owner_transaction() as session:
        committed = list(
            (
                await session.execute(
                    text(
                        "SELECT sequence FROM stock_movements WHERE tenant_id = :t "
                        "ORDER BY sequence"
                    ),
                    {"t": tenant.tenant_id},
                )
            ).scalars()
        )
    assert len(committed) == 70  # idempotency keys: every retried change applied once
    assert received == committed
