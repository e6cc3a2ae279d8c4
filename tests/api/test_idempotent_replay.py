"""Idempotency keys over the wire (docs/idempotency.md): a key names one attempt and
keeps its outcome, refusals included; a replay says that it is one, by the
``Idempotent-Replayed`` header and ``extensions.idempotentReplayed``, on HTTP and on
the WebSocket."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Server, app_token, new_client
from tests.api.wsclient import WSClient
from tests.conftest import TenantFixture

ADJUST = """mutation($input: AdjustStockInput!) { adjustStock(input: $input) {
  stockLevels { onHand } userErrors { code field message } } }"""
RECEIVE = """mutation($input: ReceiveStockInput!) { receiveStock(input: $input) {
  stockLevels { onHand } userErrors { code } } }"""


def _take(tenant: TenantFixture, key: str | None, delta: int = -5) -> dict[str, Any]:
    data: dict[str, Any] = {
        "locationId": tenant.loc("S1"),
        "sku": "A",
        "delta": delta,
        "reason": "DAMAGE",
    }
    if key is not None:
        data["idempotencyKey"] = key
    return {"input": data}


@pytest.fixture
async def http(server: Server, tenant: TenantFixture) -> Any:
    token = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    async with httpx.AsyncClient(
        base_url=server.url, headers={"authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        client.token = token  # type: ignore[attr-defined]
        yield client


async def _adjust(http: httpx.AsyncClient, variables: dict[str, Any]) -> httpx.Response:
    response = await http.post("/graphql", json={"query": ADJUST, "variables": variables})
    assert response.status_code == 200, response.text
    return response


async def test_a_refusal_is_kept_under_its_key(
    http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    first = await _adjust(http, _take(tenant, "take-1"))
    refusal = first.json()["data"]["adjustStock"]
    assert [e["code"] for e in refusal["userErrors"]] == ["INSUFFICIENT_STOCK"]
    assert "idempotent-replayed" not in first.headers
    assert "idempotentReplayed" not in first.json().get("extensions", {})

    # the cause goes away: stock arrives
    receive = {"input": {"locationId": tenant.loc("S1"), "lines": [{"sku": "A", "quantity": 20}]}}
    received = await http.post("/graphql", json={"query": RECEIVE, "variables": receive})
    assert received.json()["data"]["receiveStock"]["stockLevels"] == [{"onHand": 20}]

    # the same key is the same attempt: the same refusal, marked as a replay
    again = await _adjust(http, _take(tenant, "take-1"))
    assert again.json()["data"]["adjustStock"] == refusal
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["extensions"]["idempotentReplayed"] is True

    # a new attempt takes a new key, and succeeds
    fresh = await _adjust(http, _take(tenant, "take-2"))
    assert fresh.json()["data"]["adjustStock"] == {
        "stockLevels": [{"onHand": 15}],
        "userErrors": [],
    }
    assert "idempotent-replayed" not in fresh.headers
    assert "idempotentReplayed" not in fresh.json().get("extensions", {})

    # a success replayed: the first response, stock untouched
    replayed = await _adjust(http, _take(tenant, "take-2"))
    assert replayed.json()["data"] == fresh.json()["data"]
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json()["extensions"]["idempotentReplayed"] is True

    # the same key with another input is no replay: IDEMPOTENCY_KEY_REUSED
    reused = await _adjust(http, _take(tenant, "take-2", delta=-1))
    errors = reused.json()["data"]["adjustStock"]["userErrors"]
    assert [e["code"] for e in errors] == ["IDEMPOTENCY_KEY_REUSED"]
    assert "idempotent-replayed" not in reused.headers
    level = await _adjust(http, _take(tenant, None, delta=1))
    assert level.json()["data"]["adjustStock"]["stockLevels"] == [{"onHand": 16}]


async def test_a_replay_over_the_websocket_says_so(
    server: Server, http: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    client = await WSClient.connect(server.url, http.token)  # type: ignore[attr-defined]
    try:
        payloads = []
        for op in ("one", "two"):
            await client.subscribe(op, ADJUST, _take(tenant, "ws-key"))
            message = await client.recv()
            assert message["type"] == "next" and message["id"] == op, message
            payloads.append(message["payload"])
            assert await client.recv() == {"id": op, "type": "complete"}
    finally:
        await client.close()
    first, again = payloads
    assert "idempotentReplayed" not in first.get("extensions", {})
    assert again["data"] == first["data"]
    assert again["extensions"]["idempotentReplayed"] is True
    assert [e["code"] for e in first["data"]["adjustStock"]["userErrors"]] == ["INSUFFICIENT_STOCK"]
