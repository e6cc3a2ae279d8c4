"""Live stock over WebSocket against real servers: delivery, resume, isolation, close codes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from auth.permissions import Role
from tests.api.conftest import _free_port, app_token, new_client, start_server, stop_server
from tests.api.wsclient import SUBPROTOCOL, WSClient
from tests.helpers import count_rows

CHANGED = """subscription($after: BigInt, $locs: [ID!], $skus: [String!]) {
  stockChanged(afterSequence: $after, locationIds: $locs, skus: $skus) {
    sequence stockLevel { onHand location { code } product { sku } } movement { kind delta }
  }
}"""

ADJUST = """mutation($loc: ID!, $sku: String!, $d: Int!) { adjustStock(input: {locationId: $loc,
  sku: $sku, delta: $d, reason: FOUND}) { movements { sequence } userErrors { code } } }"""


async def adjust(
    http: httpx.AsyncClient, token: str, loc: str, sku: str = "A", delta: int = 1
) -> int:
    response = await http.post(
        "/graphql",
        headers={"Authorization": f"Bearer {token}"},
        json={"query": ADJUST, "variables": {"loc": loc, "sku": sku, "d": delta}},
    )
    data = response.json()["data"]["adjustStock"]
    assert data["userErrors"] == [], data
    return int(data["movements"][0]["sequence"])


@pytest.fixture(scope="module")
def second_server(server, database_url, app_database_url, signing_key, tmp_path_factory):
    """Another process behind the same public URL, as behind one load balancer."""
    srv = start_server(
        database_url,
        signing_key,
        tmp_path_factory.mktemp("second"),
        extra_env={
            "STOCKGRAPH_PUBLIC_URL": server.url,
            "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
        },
    )
    yield srv
    stop_server(srv)


async def test_change_committed_through_one_process_reaches_a_subscriber_on_another(
    server, second_server, tenant
):
    token = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    client = await WSClient.connect(second_server.url, token)
    await client.subscribe("s", CHANGED)
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient(base_url=server.url) as http:
        started = time.perf_counter()
        sequence = await adjust(http, token, tenant.loc("S1"), "B", 3)
        data = await client.next_data(timeout=5)
        elapsed = time.perf_counter() - started
    event = data["stockChanged"]
    assert int(event["sequence"]) == sequence
    assert event["stockLevel"] == {"onHand": 3, "location": {"code": "S1"}, "product": {"sku": "B"}}
    assert event["movement"] == {"kind": "ADJUSTMENT", "delta": 3}
    assert elapsed < 2.0
    await client.close()


async def test_python_gql_client_receives_events(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    transport = WebsocketsTransport(
        url=server.url.replace("http", "ws") + "/graphql",
        init_payload={"authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    received: list[int] = []
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        request = GraphQLRequest(CHANGED, variable_values={"locs": [tenant.loc("S2")]})

        async def consume() -> None:
            async for result in session.subscribe(request):
                received.append(int(result["stockChanged"]["sequence"]))
                if len(received) == 3:
                    return

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(base_url=server.url) as http:
            expected = [
                await adjust(http, token, tenant.loc(loc)) for loc in ("S1", "S2", "S1", "S2", "S2")
            ]
        await asyncio.wait_for(task, 10)
    assert received == [expected[1], expected[3], expected[4]]  # only S2, in order


async def test_resume_across_reconnects_misses_nothing_and_repeats_nothing(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    total = 1000
    produced: list[int] = []

    async def produce() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            sem = asyncio.Semaphore(8)

            async def one(i: int) -> None:
                async with sem:
                    produced.append(await adjust(http, token, tenant.loc("S1"), "ABC"[i % 3]))

            await asyncio.gather(*(one(i) for i in range(total)))

    received: list[int] = []
    last: int | None = None
    client = await WSClient.connect(server.url, token)
    await client.subscribe("r0", CHANGED, {"after": 0})
    producer = asyncio.create_task(produce())
    reconnects = 0
    while len(received) < total:
        budget = 40 + reconnects * 37  # read a while, then drop the connection
        for _ in range(budget):
            if len(received) >= total:
                break
            data = await client.next_data(timeout=20)
            last = int(data["stockChanged"]["sequence"])
            received.append(last)
        if len(received) < total and reconnects < 8:
            await client.close()
            reconnects += 1
            client = await WSClient.connect(server.url, token)
            await client.subscribe(f"r{reconnects}", CHANGED, {"after": last})
    await producer
    await client.close()
    assert reconnects >= 5
    assert received == sorted(produced)
    assert len(set(received)) == total


async def test_events_never_cross_tenants_and_respect_filters(server, tenant, other_tenant):
    mine = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    theirs = await app_token(server, await new_client(other_tenant, "stock:read stock:write"))
    watcher = await WSClient.connect(server.url, mine)
    await watcher.subscribe("all", CHANGED)
    filtered = await WSClient.connect(server.url, mine)
    await filtered.subscribe("f", CHANGED, {"locs": [tenant.loc("S2")], "skus": ["C"]})
    spy = await WSClient.connect(server.url, mine)
    # another tenant's location filters to nothing, never to their events
    await spy.subscribe("x", CHANGED, {"locs": [other_tenant.loc("S1")]})
    # and a made-up one is the caller's mistake, said so at once
    await spy.subscribe("made-up", CHANGED, {"locs": ["bm9wZQ"]})
    refused = await spy.recv()
    assert refused["id"] == "made-up" and refused["type"] == "error", refused
    assert refused["payload"][0]["extensions"]["code"] == "INVALID"
    await asyncio.sleep(0.3)
    async with httpx.AsyncClient(base_url=server.url) as http:
        foreign = [await adjust(http, theirs, other_tenant.loc("S1")) for _ in range(3)]
        own = [
            await adjust(http, mine, tenant.loc("S1"), "A"),
            await adjust(http, mine, tenant.loc("S2"), "C"),
            await adjust(http, mine, tenant.loc("S2"), "B"),
        ]
    got = [int((await watcher.next_data())["stockChanged"]["sequence"]) for _ in range(3)]
    assert got == own
    only = await filtered.next_data()
    assert int(only["stockChanged"]["sequence"]) == own[1]
    with pytest.raises(TimeoutError):
        await spy.recv(timeout=1.0)
    with pytest.raises(TimeoutError):
        await filtered.recv(timeout=0.5)
    assert foreign  # the other tenant's changes happened, and nobody here saw them
    for c in (watcher, filtered, spy):
        await c.close()


async def test_close_codes(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read"))
    bad = await WSClient.connect(server.url, init=False)
    await bad.send({"type": "connection_init", "payload": {"authorization": "Bearer nope"}})
    assert (await bad.closed_with())[0] == 4403

    missing = await WSClient.connect(server.url, init=False)
    await missing.send({"type": "connection_init", "payload": {}})
    assert (await missing.closed_with())[0] == 4403

    silent = await WSClient.connect(server.url, init=False)
    started = time.perf_counter()
    assert (await silent.closed_with(timeout=10))[0] == 4408
    assert 4.0 < time.perf_counter() - started < 8.0

    twice = await WSClient.connect(server.url, token)
    await twice.send({"type": "connection_init", "payload": {}})
    assert (await twice.closed_with())[0] == 4429

    dup = await WSClient.connect(server.url, token)
    await dup.subscribe("same", CHANGED)
    await dup.subscribe("same", CHANGED)
    assert (await dup.closed_with())[0] == 4409

    early = await WSClient.connect(server.url, init=False)
    await early.subscribe("x", CHANGED)
    assert (await early.closed_with())[0] == 4401

    garbage = await WSClient.connect(server.url, token)
    await garbage.ws.send("not json")
    assert (await garbage.closed_with())[0] == 4400


async def test_header_authentication_ping_and_queries_over_the_socket(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read"))
    client = await WSClient.connect(
        server.url, init=False, additional_headers={"Authorization": f"Bearer {token}"}
    )
    await client.send({"type": "connection_init"})
    assert await client.recv() == {"type": "connection_ack"}
    await client.send({"type": "ping"})
    assert await client.recv() == {"type": "pong"}
    await client.subscribe("q", "{ viewer { kind } }")
    answer = await client.recv()
    assert answer["payload"].pop("extensions")["cost"]["requestedQueryCost"] == 1
    assert answer == {
        "id": "q",
        "type": "next",
        "payload": {"data": {"viewer": {"kind": "APP"}}},
    }
    assert await client.recv() == {"id": "q", "type": "complete"}
    await client.subscribe("bad", "subscription { stockChanged { nope } }")
    error = await client.recv()
    assert error["type"] == "error" and error["id"] == "bad"
    await client.close()


async def test_subscriptions_need_stock_read_and_are_capped(server, tenant):
    members = await app_token(server, await new_client(tenant, "members:read"))
    client = await WSClient.connect(server.url, members)
    await client.subscribe("s", CHANGED)
    error = await client.recv()
    assert error["type"] == "error"
    assert error["payload"][0]["extensions"]["code"] == "FORBIDDEN"
    await client.close()

    token = await app_token(server, await new_client(tenant, "stock:read"))
    many = await WSClient.connect(server.url, token)
    for i in range(50):
        await many.subscribe(f"s{i}", CHANGED)
    await many.subscribe("one-too-many", CHANGED)
    error = await many.recv()
    assert error["id"] == "one-too-many" and error["type"] == "error"
    assert error["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
    await many.send({"id": "s0", "type": "complete"})
    await asyncio.sleep(0.2)
    await many.subscribe("fits-now", CHANGED)
    with pytest.raises(TimeoutError):
        await many.recv(timeout=0.5)  # accepted: nothing to say until a change happens
    await many.close()


async def test_expired_token_closes_the_socket(server, tenant):
    from auth.backend import app_claims
    from auth.permissions import parse_scopes
    from auth.tokens import TokenService

    tokens = TokenService(
        server.signing_key, server.url, "stockgraph-api", clock=lambda: time.time() - 598
    )
    short = tokens.issue(
        app_claims(tenant.tenant_id, "short", parse_scopes("stock:read"), None), 600
    )  # expires in about 2 s
    client = await WSClient.connect(server.url, short)
    await client.subscribe("s", CHANGED)
    code, reason = await client.closed_with(timeout=10)
    assert code == 4403 and "expired" in reason.lower()


LOW = """subscription($locs: [ID!]) { lowStock(locationIds: $locs) {
  sequence reorderPoint available stockLevel { onHand product { sku } } } }"""

SET_POINT = """mutation($loc: ID!, $sku: String!, $p: Int) { setReorderPoint(input: {
  locationId: $loc, sku: $sku, reorderPoint: $p}) {
  stockLevel { reorderPoint } userErrors { code } } }"""


async def test_low_stock_fires_once_per_crossing(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    client = await WSClient.connect(server.url, token)
    await client.subscribe("low", LOW, {"locs": [tenant.loc("WH")]})
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient(base_url=server.url) as http:
        await adjust(http, token, tenant.loc("WH"), "C", 10)
        r = await http.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": SET_POINT, "variables": {"loc": tenant.loc("WH"), "sku": "C", "p": 5}},
        )
        assert r.json()["data"]["setReorderPoint"] == {
            "stockLevel": {"reorderPoint": 5},
            "userErrors": [],
        }
        await adjust(http, token, tenant.loc("WH"), "C", -4)  # 6: above the point
        crossing = await adjust(http, token, tenant.loc("WH"), "C", -1)  # 5: crossing
        await adjust(http, token, tenant.loc("WH"), "C", -2)  # 3: still below, no event
        await adjust(http, token, tenant.loc("WH"), "C", 4)  # 7: back above
        second = await adjust(http, token, tenant.loc("WH"), "C", -7)  # 0: crossing again
    first_event = (await client.next_data())["lowStock"]
    assert first_event["reorderPoint"] == 5 and first_event["available"] == 5
    assert first_event["stockLevel"] == {"onHand": 5, "product": {"sku": "C"}}
    assert int(first_event["sequence"]) > crossing
    second_event = (await client.next_data())["lowStock"]
    assert second_event["available"] == 0 and int(second_event["sequence"]) > second
    with pytest.raises(TimeoutError):
        await client.recv(timeout=0.7)
    await client.close()


async def test_rolled_back_mutation_publishes_nothing(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    before = await count_rows(tenant.db, "events", tenant.tenant_id)
    client = await WSClient.connect(server.url, token)
    await client.subscribe("s", CHANGED)
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": ADJUST, "variables": {"loc": tenant.loc("S1"), "sku": "A", "d": -99}},
        )
    assert r.json()["data"]["adjustStock"]["userErrors"] == [{"code": "INSUFFICIENT_STOCK"}]
    with pytest.raises(TimeoutError):
        await client.recv(timeout=1.0)
    assert await count_rows(tenant.db, "events", tenant.tenant_id) == before
    await client.close()


async def test_staff_subscriber_of_any_rank_may_watch(server, tenant):
    from auth.backend import staff_claims
    from auth.tokens import TokenService

    token = TokenService(server.signing_key, server.url, "stockgraph-api").issue(
        staff_claims(tenant.tenant_id, 7, Role.AUDITOR.value, []), 600
    )
    client = await WSClient.connect(server.url, token)
    await client.subscribe("s", CHANGED)
    await asyncio.sleep(0.2)
    owner = await app_token(server, await new_client(tenant, "stock:write stock:read"))
    async with httpx.AsyncClient(base_url=server.url) as http:
        seq = await adjust(http, owner, tenant.loc("S1"))
    assert int((await client.next_data())["stockChanged"]["sequence"]) == seq
    await client.close()


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The npm graphql-ws client, installed once into a cache folder (needs node and npm)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the graphql-ws client test")
    folder = Path(".stockgraph-test/node").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "node_modules" / "graphql-ws").exists():
        subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(folder),
                "graphql-ws@6",
                "ws@8",
                "graphql@16",
            ],
            check=True,
            timeout=300,
        )
    script = folder / "subscribe.mjs"
    shutil.copy(Path(__file__).parent / "node" / "subscribe.mjs", script)
    return script


async def test_npm_graphql_ws_client_receives_events(server, tenant, node_modules):
    token = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    query = "subscription { stockChanged { sequence stockLevel { onHand } } }"
    process = await asyncio.create_subprocess_exec(
        "node",
        str(node_modules),
        server.url.replace("http", "ws") + "/graphql",
        token,
        "2",
        query,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 20))
    assert ready == {"ready": True}
    await asyncio.sleep(1.0)  # let the client connect and subscribe
    async with httpx.AsyncClient(base_url=server.url) as http:
        expected = [
            await adjust(http, token, tenant.loc("S2"), "B", 2),
            await adjust(http, token, tenant.loc("S2"), "B", 5),
        ]
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    events = [json.loads(line)["data"]["stockChanged"] for line in out.decode().splitlines()]
    assert [int(e["sequence"]) for e in events] == expected
    assert [e["stockLevel"]["onHand"] for e in events] == [2, 7]


async def test_legacy_graphql_ws_is_refused_unless_enabled(
    server, tenant, database_url, app_database_url, signing_key, tmp_path
):
    url = server.url.replace("http", "ws") + "/graphql"
    refused = await websockets.connect(url, subprotocols=["graphql-ws"])
    assert refused.subprotocol is None
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(refused.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406

    legacy = start_server(
        database_url,
        signing_key,
        tmp_path,
        extra_env={
            "STOCKGRAPH_LEGACY_GRAPHQL_WS": "true",
            "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
        },
    )
    try:
        token = await app_token(legacy, await new_client(tenant, "stock:read stock:write"))
        ws = await websockets.connect(
            legacy.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-ws"]
        )
        assert ws.subprotocol == "graphql-ws"
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "start", "payload": {"query": CHANGED}}))
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=legacy.url) as http:
            seq = await adjust(http, token, tenant.loc("S1"), "C", 4)
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] == "data":
                break
        assert int(message["payload"]["data"]["stockChanged"]["sequence"]) == seq
        await ws.close()
    finally:
        stop_server(legacy)


async def test_two_worker_processes_deliver_to_every_subscriber(
    database_url, app_database_url, signing_key, tmp_path, tenant
):
    """With --workers 2 the kernel spreads sockets over both processes; all see all."""
    multi = start_server(
        database_url,
        signing_key,
        tmp_path,
        workers=2,
        extra_env={"STOCKGRAPH_APP_DATABASE_URL": app_database_url},
    )
    try:
        token = await app_token(multi, await new_client(tenant, "stock:read stock:write"))
        clients = [await WSClient.connect(multi.url, token) for _ in range(8)]
        for i, c in enumerate(clients):
            await c.subscribe(f"s{i}", CHANGED)
        await asyncio.sleep(0.5)
        expected = []
        for _ in range(6):
            async with httpx.AsyncClient(base_url=multi.url) as fresh:  # a new connection each
                expected.append(await adjust(fresh, token, tenant.loc("S2"), "A"))
        for c in clients:
            got = [int((await c.next_data())["stockChanged"]["sequence"]) for _ in expected]
            assert got == expected
            await c.close()
    finally:
        stop_server(multi)


async def test_stockgraph_serve_leaves_per_message_deflate_off(
    database_url, app_database_url, signing_key, tmp_path
):
    """Compression would cost memory on every socket; `stockgraph serve` turns it off."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STOCKGRAPH_HOME": str(tmp_path),
        "STOCKGRAPH_SIGNING_KEY": signing_key.decode(),
        "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
        "STOCKGRAPH_WEBHOOKS_ENABLED": "false",
        "STOCKGRAPH_OAUTH_ADDRESS_RATE": "1000000",
        "STOCKGRAPH_OAUTH_CLIENT_RATE": "1000000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/graphql", subprotocols=[SUBPROTOCOL]
        )  # offers permessage-deflate
        assert "permessage-deflate" not in (
            ws.response.headers.get("Sec-WebSocket-Extensions") or ""
        )
        await ws.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
