"""One policy on every path: HTTP, persisted documents and WebSocket obey the same limits,
hide the same suggestions and mask the same errors, on a real production-mode server."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from domain.members import crypto
from tests.api.conftest import Server, app_token, new_client, start_server, stop_server
from tests.api.wsclient import WSClient

MAX_TOKENS = 300
MAX_DEPTH = 3
MAX_ALIASES = 3
DATA_KEY = "00" * 32

Run = Callable[[str, dict[str, Any] | None], Awaitable[list[dict[str, Any]]]]


@pytest.fixture(scope="module")
def production(
    database_url: str,
    app_database_url: str,
    signing_key: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """The API in production mode, with small limits so that documents stay short."""
    srv = start_server(
        database_url,
        signing_key,
        tmp_path_factory.mktemp("production"),
        extra_env={
            "STOCKGRAPH_ENV": "production",
            "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
            "STOCKGRAPH_DATA_KEY": DATA_KEY,
            "STOCKGRAPH_MAX_TOKENS": str(MAX_TOKENS),
            "STOCKGRAPH_MAX_DEPTH": str(MAX_DEPTH),
            "STOCKGRAPH_MAX_ALIASES": str(MAX_ALIASES),
            "STOCKGRAPH_POOL_SIZE": "2",
        },
    )
    yield srv
    stop_server(srv)


async def _http(server: Server, token: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        response = await http.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def over_http(server: Server, token: str) -> Run:
    async def run(query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body = await _http(server, token, {"query": query, "variables": variables})
        return list(body.get("errors") or [])

    return run


def as_persisted(server: Server, token: str) -> Run:
    """Registers the document with its hash, then sends the hash alone: both must agree."""

    async def run(query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        text = f"# {uuid.uuid4().hex}\n{query}"
        sha = hashlib.sha256(text.encode()).hexdigest()
        ext = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
        first = await _http(
            server, token, {"query": text, "variables": variables, "extensions": ext}
        )
        again = await _http(server, token, {"variables": variables, "extensions": ext})
        assert _messages(first.get("errors")) == _messages(again.get("errors")), (first, again)
        return list(first.get("errors") or [])

    return run


def over_websocket(server: Server, token: str) -> Run:
    async def run(query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        client = await WSClient.connect(server.url, token)
        try:
            await client.subscribe("op", query, variables)
            message = await client.recv()
        finally:
            await client.close()
        assert message["id"] == "op", message
        if message["type"] == "error":
            return list(message["payload"])
        assert message["type"] == "next", message
        return list(message["payload"].get("errors") or [])

    return run


PATHS = {"http": over_http, "persisted": as_persisted, "websocket": over_websocket}


def _messages(errors: list[dict[str, Any]] | None) -> list[str]:
    return [e["message"] for e in errors or []]


@pytest.fixture(params=sorted(PATHS))
async def run(request: pytest.FixtureRequest, production: Server, tenant: Any) -> Run:
    token = await app_token(production, await new_client(tenant, "stock:read"))
    return PATHS[request.param](production, token)


async def test_the_token_limit(run: Run) -> None:
    errors = await run("{ " + "__typename " * (MAX_TOKENS + 10) + "}", None)
    assert len(errors) == 1
    assert f"Document contains more than {MAX_TOKENS} tokens" in errors[0]["message"]


async def test_the_depth_limit(run: Run) -> None:
    fine = "{ stockLevels(first: 1) { edges { node { onHand } } } }"
    assert await run(fine, None) == []
    deep = "{ stockLevels(first: 1) { edges { node { product { sku } } } } }"
    errors = await run(deep, None)
    assert _messages(errors) == [f"'anonymous' exceeds maximum operation depth of {MAX_DEPTH}"]


async def test_the_alias_limit(run: Run) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1))
    errors = await run("{ " + aliases + " }", None)
    assert _messages(errors) == [
        f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}",
    ]


async def test_introspection_is_off(run: Run) -> None:
    errors = await run("{ __schema { queryType { name } } }", None)
    assert errors and "introspection" in errors[0]["message"]


@pytest.mark.parametrize(
    ("query", "variables", "start"),
    [
        ("{ locatoins { totalCount } }", None, "Cannot query field 'locatoins' on type 'Query'."),
        (
            "{ products(frist: 1) { totalCount } }",
            None,
            "Unknown argument 'frist' on field 'Query.products'.",
        ),
        (
            "{ locations(kind: STOR) { totalCount } }",
            None,
            "Value 'STOR' does not exist in 'LocationKind' enum.",
        ),
        (
            "query($k: LocationKind) { locations(kind: $k) { totalCount } }",
            {"k": "STOR"},
            "Variable '$k' has invalid value: Value 'STOR' does not exist",
        ),
        (
            "subscription { stockChanged { sequnce } }",
            None,
            "Cannot query field 'sequnce' on type 'StockChangeEvent'.",
        ),
    ],
)
async def test_no_suggestions_in_production(
    run: Run, query: str, variables: dict[str, Any] | None, start: str
) -> None:
    errors = await run(query, variables)
    assert errors and errors[0]["message"].startswith(start), errors
    assert not any("Did you mean" in m for m in _messages(errors)), errors


@pytest.mark.parametrize("path", sorted(PATHS))
async def test_unexpected_errors_are_masked(production: Server, tenant: Any, path: str) -> None:
    """A fault on the server's side (here: member keys that no longer unwrap) is not the
    client's business: the message says so and nothing more, on every path."""
    async with tenant.db.owner_transaction() as s:
        await s.execute(
            text(
                "INSERT INTO member_tenant_keys"
                " (tenant_id, master_key_id, wrapped_data_key, wrapped_index_key)"
                " VALUES (:t, :kid, :junk, :junk)"
            ),
            {
                "t": tenant.tenant_id,
                "kid": crypto.key_id(bytes.fromhex(DATA_KEY)),
                "junk": b"\x00" * 60,
            },
        )
    token = await app_token(production, await new_client(tenant, "members:read members:pii"))
    errors = await PATHS[path](production, token)(
        '{ members(first: 1, search: "91234567") { totalCount } }', None
    )
    assert _messages(errors) == ["Unexpected error."], errors
    assert "exception" not in errors[0].get("extensions", {})
    assert "stacktrace" not in str(errors)


async def test_a_repeated_fault_is_logged_once_with_a_count(
    production: Server, tenant: Any
) -> None:
    """Ten requests that hit the same fault write one traceback, not ten: a caller
    cannot flood the log by repeating a request that fails."""
    async with tenant.db.owner_transaction() as s:
        await s.execute(
            text(
                "INSERT INTO member_tenant_keys"
                " (tenant_id, master_key_id, wrapped_data_key, wrapped_index_key)"
                " VALUES (:t, :kid, :junk, :junk)"
            ),
            {
                "t": tenant.tenant_id,
                "kid": crypto.key_id(bytes.fromhex(DATA_KEY)),
                "junk": b"1" * 60,
            },
        )
    token = await app_token(production, await new_client(tenant, "members:read members:pii"))
    port = production.url.rsplit(":", 1)[1]
    log = Path(production.env["STOCKGRAPH_HOME"]) / f"server-{port}.log"
    before = log.read_text(errors="replace").count("Traceback")
    run = over_http(production, token)
    for _ in range(10):
        errors = await run('{ members(first: 1, search: "91234567") { totalCount } }', None)
        assert _messages(errors) == ["Unexpected error."]
    await asyncio.sleep(0.5)  # the server's log handler writes as it goes
    assert log.read_text(errors="replace").count("Traceback") - before <= 1


async def test_business_and_permission_errors_are_not_masked(run: Run) -> None:
    errors = await run('{ product(sku: "A") { costPrice { amount } } }', None)
    assert [(e["message"], e["extensions"]["code"]) for e in errors] == [
        ("costs:read is required", "FORBIDDEN")
    ]


async def test_suggestions_are_kept_in_development(server: Server, tenant: Any) -> None:
    """The same typos on a development server do get suggestions, on every path."""
    token = await app_token(server, await new_client(tenant, "stock:read"))
    for make in PATHS.values():
        errors = await make(server, token)("{ locatoins { totalCount } }", None)
        assert "Did you mean 'locations'" in errors[0]["message"], errors


@pytest.mark.parametrize("path", ["http", "persisted"])
async def test_a_subscription_over_http_is_told_where_the_websocket_is(
    production: Server, tenant: Any, path: str
) -> None:
    token = await app_token(production, await new_client(tenant, "stock:read"))
    errors = await PATHS[path](production, token)(
        "subscription { stockChanged { sequence } }", None
    )
    assert [e["extensions"] for e in errors] == [
        {"code": "WEBSOCKET_REQUIRED", "endpoint": "/graphql", "protocol": "graphql-transport-ws"}
    ]
    assert "WebSocket" in errors[0]["message"]


async def test_a_permission_reads_the_same_on_http_and_over_the_socket(
    production: Server, tenant: Any
) -> None:
    """transfers and transferUpdated declare the same permission, and say so alike."""
    token = await app_token(production, await new_client(tenant, "stock:read"))
    over_http_errors = await over_http(production, token)("{ transfers { totalCount } }", None)
    socket_errors = await over_websocket(production, token)(
        "subscription { transferUpdated { sequence } }", None
    )
    expected = {"code": "FORBIDDEN", "permission": "transfers:read"}
    assert [(e["message"], e["extensions"]) for e in over_http_errors] == [
        ("transfers:read is required", expected)
    ]
    assert [(e["message"], e["extensions"], e["path"]) for e in socket_errors] == [
        ("transfers:read is required", expected, ["transferUpdated"])
    ]

    allowed = await app_token(production, await new_client(tenant, "transfers:read"))
    client = await WSClient.connect(production.url, allowed)
    await client.subscribe("t", "subscription { transferUpdated { sequence } }")
    with pytest.raises(TimeoutError):
        await client.recv(timeout=0.5)  # accepted: nothing to say until a transfer changes
    await client.close()


@pytest.mark.parametrize("key", ["Authorization", "authorization", "AUTHORIZATION"])
async def test_connection_init_reads_the_token_under_any_case(
    production: Server, tenant: Any, key: str
) -> None:
    token = await app_token(production, await new_client(tenant, "stock:read"))
    client = await WSClient.connect(production.url, init=False)
    await client.send({"type": "connection_init", "payload": {key: f"Bearer {token}"}})
    assert await client.recv() == {"type": "connection_ack"}
    await client.close()


async def test_a_bad_token_in_the_payload_is_refused_even_with_a_good_header(
    production: Server, tenant: Any
) -> None:
    token = await app_token(production, await new_client(tenant, "stock:read"))
    client = await WSClient.connect(
        production.url, init=False, additional_headers={"Authorization": f"Bearer {token}"}
    )
    await client.send({"type": "connection_init", "payload": {"Authorization": "Bearer nope"}})
    assert (await client.closed_with())[0] == 4403

    header_only = await WSClient.connect(
        production.url, init=False, additional_headers={"Authorization": f"Bearer {token}"}
    )
    await header_only.send({"type": "connection_init", "payload": {}})
    assert await header_only.recv() == {"type": "connection_ack"}
    await header_only.close()
