"""The attack suite: a production-mode server attacked black-box, one class per test.

Each class of the hardening issue is sent at a real uvicorn process in production
mode and must get its 4xx or coded error within a time bound; at the end the
server's log holds no traceback and its RSS grew by less than 100 MB over the
whole run. The figures each test measures are printed (``pytest -s``) and are the
"after" column of docs/security.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import websockets

from auth.backend import staff_claims
from auth.tokens import TokenService
from tests.api.conftest import Server, app_token, new_client, start_server, stop_server
from tests.api.wsclient import WSClient
from tests.conftest import TenantFixture

DATA_KEY = "11" * 32
BUCKET = 1000
RESTORE = 10
WS_PER_CLIENT = 3
RSS_BOUND = 100 * 1024 * 1024
FIGURES: dict[str, str] = {}
ADJUST = """mutation($input: AdjustStockInput!) {
  adjustStock(input: $input) { userErrors { code field message } } }"""


@pytest.fixture(scope="module")
def attacked(
    database_url: str,
    app_database_url: str,
    signing_key: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """Production mode, default limits, a small cost bucket, the token endpoint's limits."""
    srv = start_server(
        database_url,
        signing_key,
        tmp_path_factory.mktemp("attacked"),
        extra_env={
            "STOCKGRAPH_ENV": "production",
            "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
            "STOCKGRAPH_DATA_KEY": DATA_KEY,
            "STOCKGRAPH_POOL_SIZE": "3",
            "STOCKGRAPH_COST_BUCKET_SIZE": str(BUCKET),
            "STOCKGRAPH_COST_RESTORE_RATE": str(RESTORE),
            "STOCKGRAPH_MAX_WEBSOCKETS_PER_CLIENT": str(WS_PER_CLIENT),
            "STOCKGRAPH_OAUTH_CLIENT_RATE": "30",
            "STOCKGRAPH_OAUTH_ADDRESS_RATE": "100000",  # this suite's own token requests
        },
    )
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def rss_at_start(attacked: Server) -> int:
    httpx.get(attacked.url + "/healthz")
    return int(psutil.Process(attacked.process.pid).memory_info().rss)


@pytest.fixture
async def http(attacked: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=attacked.url, timeout=30) as client:
        yield client


async def location_id(http: httpx.AsyncClient, token: str, code: str) -> str:
    """A location's ID as the server gives it (the production ID key is the server's)."""
    response, _ = await post(http, token, "{ locations { edges { node { id code } } } }")
    edges = response.json()["data"]["locations"]["edges"]
    return next(e["node"]["id"] for e in edges if e["node"]["code"] == code)


async def token_for(server: Server, tenant: TenantFixture, scopes: str = "stock:read") -> str:
    return await app_token(server, await new_client(tenant, scopes))


def staff_token(server: Server, tenant: TenantFixture, role: str, locations: list[str]) -> str:
    claims = {
        **staff_claims(tenant.tenant_id, 90_000, role, [tenant.locations[c] for c in locations]),
        "rev": 0,
    }
    return TokenService(server.signing_key, server.url, "stockgraph-api").issue(claims, 600)


async def post(
    http: httpx.AsyncClient, token: str | None, query: str, variables: Any = None
) -> tuple[httpx.Response, float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers["Content-Type"] = "application/json"
    # ASCII JSON: a lone surrogate travels as its escape, as a hostile client sends it
    body = json.dumps({"query": query, "variables": variables})
    start = time.perf_counter()
    response = await http.post("/graphql", content=body, headers=headers)
    return response, time.perf_counter() - start


def codes(response: httpx.Response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors") or []]


def note(name: str, figure: str) -> None:
    FIGURES[name] = figure
    print(f"\n[attack] {name}: {figure}")


# ------------------------------------------------------------- memory without a token


async def test_anonymous_documents_are_refused_unparsed(
    attacked: Server, http: httpx.AsyncClient, rss_at_start: int
) -> None:
    """100 distinct 900 KB documents without a token: 401 each, none parsed or kept."""
    rss = psutil.Process(attacked.process.pid)
    before = rss.memory_info().rss
    slowest = 0.0
    for i in range(100):
        document = f"{{ f{i} " + "x " * 450_000 + "}"
        response, took = await post(http, None, document)
        assert response.status_code == 401, response.text[:200]
        assert codes(response) == ["UNAUTHENTICATED"]
        slowest = max(slowest, took)
    grown = rss.memory_info().rss - before
    assert slowest < 1.0
    assert grown < 30 * 1024 * 1024
    note(
        "anonymous 900 KB documents ×100",
        f"401 each, slowest {slowest * 1000:.0f} ms, RSS +{grown / 2**20:.1f} MB",
    )


async def test_distinct_documents_with_a_token_stay_within_the_caches(
    attacked: Server, http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """300 distinct documents near the token limit: the caches keep their byte bound."""
    token = await token_for(attacked, tenant)
    rss = psutil.Process(attacked.process.pid)
    before = rss.memory_info().rss
    fields = " ".join(f"a{i}: __typename" for i in range(28))
    for i in range(300):
        document = "{ " + fields + " __typename" * 4500 + f" }} # {i}"
        response, _ = await post(http, token, document)
        assert response.status_code == 200
    grown = rss.memory_info().rss - before
    assert grown < 40 * 1024 * 1024
    note("distinct 4,500-token documents ×300, with a token", f"RSS +{grown / 2**20:.1f} MB")


# ------------------------------------------------------------- strings and the audit


async def test_nul_and_lone_surrogates_are_invalid_never_unexpected(
    attacked: Server, http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    token = await token_for(attacked, tenant, "stock:read stock:write")
    adjust = {"locationId": tenant.loc("S1"), "sku": "A", "delta": 1, "reason": "FOUND"}
    cases = [
        ("query($s: String!) { product(sku: $s) { sku } }", {"s": "a\u0000b"}),
        ("query($s: String!) { product(sku: $s) { sku } }", {"s": "\ud800"}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "\u0000"}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "x\udfff"}),
        (ADJUST, {"input": {**adjust, "note": "a\u0000b"}}),
        (ADJUST, {"input": {**adjust, "note": "\ud83d"}}),
        (ADJUST, {"input": {**adjust, "sku": "A\u0000"}}),
        ('{ product(sku: "a\\u0000b") { sku } }', None),
    ]
    slowest = 0.0
    for query, variables in cases:
        response, took = await post(http, token, query, variables)
        slowest = max(slowest, took)
        assert response.status_code in (200, 400), response.text
        assert codes(response) == ["INVALID"], response.text
        assert "Unexpected error" not in response.text
    assert slowest < 1.0
    note("NUL and lone surrogates in String/ID", f"INVALID, slowest {slowest * 1000:.0f} ms")


async def test_a_clerks_denied_mutation_is_audited_and_nul_is_invalid(
    attacked: Server, http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    from sqlalchemy import text

    clerk = staff_token(attacked, tenant, "CLERK", ["S2"])
    s1 = await location_id(http, clerk, "S1")
    base = {"locationId": s1, "sku": "A", "delta": -1, "reason": "DAMAGE"}
    refused, _ = await post(http, clerk, ADJUST, {"input": {**base, "note": "x\u0000y"}})
    assert codes(refused) == ["INVALID"] and "note" in refused.text
    denied, _ = await post(http, clerk, ADJUST, {"input": {**base, "note": "\u0001\u001b[31m"}})
    assert denied.json()["data"]["adjustStock"]["userErrors"][0]["code"] == "FORBIDDEN"
    async with tenant.db.owner_transaction() as s:
        outcomes = (
            await s.execute(
                text(
                    "SELECT outcome FROM audit_events WHERE tenant_id = :t "
                    "AND action = 'stock.adjust'"
                ),
                {"t": tenant.tenant_id},
            )
        ).scalars()
        assert list(outcomes) == ["denied"]
    note("CLERK's denied adjustStock with odd note", "NUL: INVALID; control chars: audited")


async def test_numbers_out_of_range_are_invalid(
    attacked: Server, http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    token = await token_for(attacked, tenant, "stock:read stock:write")
    receive = """mutation($input: ReceiveStockInput!) {
      receiveStock(input: $input) { userErrors { code } } }"""
    cases = [
        ("{ stockMovements(first: 1, afterSequence: 9223372036854775808) { totalCount } }", None),
        (
            "query($s: BigInt) { stockMovements(first: 1, afterSequence: $s) { totalCount } }",
            {"s": "1" * 1000},
        ),
    ] + [
        (
            receive,
            {
                "input": {
                    "locationId": tenant.loc("S1"),
                    "lines": [{"sku": "A", "quantity": 1, "unitCost": value}],
                }
            },
        )
        for value in ("1e-1000000", "1e400")
    ]
    for query, variables in cases:
        response, took = await post(http, token, query, variables)
        assert codes(response) == ["INVALID"], response.text
        assert took < 1.0
    note("BigInt and Decimal out of range", "INVALID")


# ------------------------------------------------------------- the token endpoint


async def test_a_token_endpoint_flood_is_limited_and_does_not_stall_queries(
    attacked: Server, http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    creds = await new_client(tenant, "stock:read")
    token = await app_token(attacked, creds)
    statuses: list[int] = []

    async def flood() -> None:
        async with httpx.AsyncClient(base_url=attacked.url, timeout=30) as flooder:
            for _ in range(200):
                response = await flooder.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(creds.client_id, "wrong"),
                )
                statuses.append(response.status_code)
                if response.status_code == 429:
                    assert int(response.headers["Retry-After"]) > 0

    async def probe() -> float:
        slowest = 0.0
        for _ in range(20):
            response, took = await post(http, token, "{ viewer { kind } }")
            assert response.status_code == 200
            slowest = max(slowest, took)
        return slowest

    _, slowest = await asyncio.gather(flood(), probe())
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    assert slowest < 1.0
    note(
        "wrong secrets ×200 for one client",
        f"5 × 401 then 429 (lockout); slowest concurrent query {slowest * 1000:.0f} ms",
    )


# ------------------------------------------------------------- suggestions


async def test_no_suggestions_over_http_or_websocket(
    attacked: Server, http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    token = await token_for(attacked, tenant)
    typos = [
        "{ prodcts { totalCount } }",
        "{ products(frist: 1) { totalCount } }",
        "{ locations(kind: STOR) { totalCount } }",
        "{ node(id: 1) { ... on Prodct { sku } } }",
        '{ product(sku: "A") { skuu } }',
    ]
    for typo in typos:
        response, _ = await post(http, token, typo)
        assert response.json()["errors"] and "Did you mean" not in response.text
    client = await WSClient.connect(attacked.url, token)
    for n, typo in enumerate(typos):
        await client.subscribe(str(n), typo)
        message = await client.recv()
        assert message["type"] == "error" and "Did you mean" not in json.dumps(message)
    await client.close()
    note("typos in field, argument, enum, fragment type", "no 'Did you mean' (HTTP, WS)")


# ------------------------------------------------------------- WebSocket limits


async def test_websocket_frames_depth_and_documents_are_limited(
    attacked: Server, tenant: TenantFixture
) -> None:
    token = await token_for(attacked, tenant)
    url = attacked.url.replace("http://", "ws://") + "/graphql"

    async def closed_by(frame: str | bytes) -> tuple[int | None, float]:
        client = await WSClient.connect(attacked.url, token, max_size=None)
        start = time.perf_counter()
        try:
            await client.ws.send(frame)
        except websockets.ConnectionClosed as closed:  # refused before it was all sent
            return (closed.rcvd.code if closed.rcvd else None), time.perf_counter() - start
        code, _ = await client.closed_with()
        return code, time.perf_counter() - start

    big = json.dumps({"type": "ping", "payload": {"x": "y" * 1_500_000}})
    assert (await closed_by(big))[0] == 4400
    # the cap counts bytes on the wire: 400,000 characters of 3 bytes each are 1.2 MB
    wide = json.dumps({"type": "ping", "payload": {"x": "香" * 400_000}}, ensure_ascii=False)
    assert (await closed_by(wide))[0] == 4400
    fits = await WSClient.connect(attacked.url, token, max_size=None)
    await fits.ws.send(  # 0.9 MB
        json.dumps({"type": "ping", "payload": {"x": "香" * 300_000}}, ensure_ascii=False)
    )
    assert (await fits.recv())["type"] == "pong"
    await fits.close()
    huge_code, huge_took = await closed_by(
        json.dumps({"type": "ping", "payload": {"x": "y" * 10_000_000}})
    )
    assert huge_code in (1009, 4400)
    deep = '{"type": "ping", "payload": ' + "[" * 10_000 + "]" * 10_000 + "}"
    assert (await closed_by(deep))[0] == 4400
    assert (await closed_by(b"\xff\xfe{"))[0] == 4400
    # a 100,000-token document: refused by the token limit, in little time
    client = await WSClient.connect(attacked.url, token)
    start = time.perf_counter()
    await client.subscribe("big", "subscription { " + "a " * 100_000 + "}")
    message = await client.recv()
    took = time.perf_counter() - start
    assert message["type"] == "error" and "tokens" in message["payload"][0]["message"]
    assert took < 1.0
    # the same cost limit as on HTTP
    costly = (
        "{ "
        + " ".join(
            f"a{i}: stockMovements(first: 250) {{ edges {{ node {{ id }} }} }}" for i in range(5)
        )
        + " }"
    )
    await client.subscribe("cost", costly)
    answer = await client.recv()
    assert answer["payload"]["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    await client.close()
    # and at most WS_PER_CLIENT sockets per client
    held = [await WSClient.connect(attacked.url, token) for _ in range(WS_PER_CLIENT)]
    extra = await WSClient.connect(attacked.url, init=False)
    await extra.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert await extra.closed_with() == (4429, "Too many connections")
    await held[0].close()
    await asyncio.sleep(0.2)
    again = await WSClient.connect(attacked.url, token)  # a slot is free again
    for socket in [*held[1:], again]:
        await socket.close()
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as raw:
        await raw.send("not json")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await raw.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    note(
        "WebSocket",
        f"1.5 MB frame 4400, 10 MB frame {huge_code} ({huge_took * 1000:.0f} ms), "
        f"10,000-deep 4400, bad UTF-8 4400, 100,000 tokens refused in {took * 1000:.0f} ms, "
        f"socket {WS_PER_CLIENT + 1} of a client 4429",
    )


# ------------------------------------------------------------- validation cost


async def test_wide_documents_are_refused_before_validation(
    attacked: Server, http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    token = await token_for(attacked, tenant)
    timings = []
    for copies in (300, 90):
        document = "{ " + " ".join(["products { edges { node { sku } } }"] * copies) + " }"
        response, took = await post(http, token, document)
        assert codes(response) == ["SELECTION_TOO_WIDE"], response.text
        assert took < 0.5
        timings.append(took)
    note(
        "300 / 90 copies of products { edges { node { sku } } }",
        f"SELECTION_TOO_WIDE in {timings[0] * 1000:.0f} / {timings[1] * 1000:.0f} ms",
    )


# ------------------------------------------------------------- cost and throttling


async def test_aliases_times_connections_exceed_the_maximum_cost(
    attacked: Server, http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    token = await token_for(attacked, tenant)
    document = (
        "{ "
        + " ".join(
            f"a{i}: stockMovements(first: 250) {{ edges {{ node {{ id sequence }} }} }}"
            for i in range(30)
        )
        + " }"
    )
    response, took = await post(http, token, document)
    assert codes(response) == ["MAX_COST_EXCEEDED"]
    error = response.json()["errors"][0]
    assert error["extensions"]["requestedQueryCost"] == 30 * 252
    assert "data" not in response.json() and took < 0.5  # a request error: nothing ran
    cheap, _ = await post(http, token, "{ stockMovements(first: 10) { edges { node { id } } } }")
    cost = cheap.json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 12 and cost["actualQueryCost"] == 2
    assert cost["throttleStatus"]["maximumAvailable"] == BUCKET
    note(
        "30 aliases × stockMovements(first: 250)",
        f"MAX_COST_EXCEEDED (7,560) in {took * 1000:.0f} ms",
    )


async def test_an_empty_bucket_is_throttled_on_http_and_websocket(
    attacked: Server, http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    token = await token_for(attacked, tenant, "stock:read stock:write")
    s1 = await location_id(http, token, "S1")
    adjust = {"locationId": s1, "sku": "A", "delta": 1, "reason": "FOUND"}
    aliases = " ".join(
        f"a{i}: adjustStock(input: $input) {{ userErrors {{ code }} }}" for i in range(25)
    )
    drain = f"mutation($input: AdjustStockInput!) {{ {aliases} }}"
    spent = []
    for _ in range(3):
        response, _ = await post(http, token, drain, {"input": adjust})
        assert response.status_code == 200, response.text
        spent.append(response.json()["extensions"]["cost"]["actualQueryCost"])
    assert spent == [275, 275, 275]
    response, _ = await post(http, token, "{ products(first: 250) { edges { node { sku } } } }")
    assert response.status_code == 429
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "THROTTLED"
    assert int(response.headers["Retry-After"]) == error["extensions"]["retryAfter"] > 0
    client = await WSClient.connect(attacked.url, token)
    await client.subscribe("q", "{ products(first: 250) { edges { node { sku } } } }")
    answer = await client.recv()
    assert answer["payload"]["errors"][0]["extensions"]["code"] == "THROTTLED"
    await client.close()
    note("an emptied bucket", f"429 + THROTTLED, retryAfter {error['extensions']['retryAfter']} s")


# ------------------------------------------------------------- ids and counts


async def test_total_count_and_ids_across_tenants(
    attacked: Server, http: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    clerk = staff_token(attacked, tenant, "CLERK", ["S2"])
    s1 = await location_id(http, clerk, "S1")
    base = {"locationId": s1, "sku": "A", "delta": -1, "reason": "DAMAGE"}
    for _ in range(3):
        await post(http, clerk, ADJUST, {"input": base})
    owner = staff_token(attacked, tenant, "OWNER", [])
    page, _ = await post(
        http, owner, "{ auditEvents(first: 1) { totalCount edges { node { id } } } }"
    )
    assert page.json()["data"]["auditEvents"]["totalCount"] >= 3
    ours, _ = await post(http, owner, '{ a: product(sku: "A") { id } b: product(sku: "B") { id } }')
    theirs_token = staff_token(attacked, other_tenant, "OWNER", [])
    theirs, _ = await post(http, theirs_token, '{ product(sku: "A") { id } }')
    a, b = ours.json()["data"]["a"]["id"], ours.json()["data"]["b"]["id"]
    other = theirs.json()["data"]["product"]["id"]
    shared = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    assert shared < len(a) // 2  # consecutive rows: unrelated IDs
    lookup, _ = await post(http, owner, "query($id: ID!) { node(id: $id) { id } }", {"id": other})
    assert lookup.json()["data"]["node"] is None
    note(
        "totalCount, IDs", "totalCount counts all; consecutive IDs unrelated; other tenant's: null"
    )


# ------------------------------------------------------------- the whole run


async def test_the_log_holds_no_traceback_and_memory_stayed_bounded(
    attacked: Server, rss_at_start: int
) -> None:
    grown = psutil.Process(attacked.process.pid).memory_info().rss - rss_at_start
    port = attacked.url.rsplit(":", 1)[1]
    log = (Path(attacked.env["STOCKGRAPH_HOME"]) / f"server-{port}.log").read_text()
    assert "Traceback" not in log, log[-3000:]
    assert " 500 " not in log
    assert grown < RSS_BOUND
    note("whole run", f"RSS +{grown / 2**20:.1f} MB, no traceback in the log")
