"""transferUpdated over WebSocket: delivery, the location filter, replay, and separation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.api.conftest import app_token, new_client
from tests.api.wsclient import WSClient
from tests.graphql.transfer_ops import MUTATIONS

UPDATED = """subscription($locs: [ID!], $after: BigInt) {
  transferUpdated(locationIds: $locs, afterSequence: $after) {
    sequence action transfer { status fromLocation { code } toLocation { code }
      lines { product { sku } shippedQuantity } } } }"""
CHANGED = """subscription { stockChanged { sequence movement { kind delta } } }"""
ADJUST = """mutation($loc: ID!) { adjustStock(input: {locationId: $loc, sku: "A", delta: 5,
  reason: FOUND}) { userErrors { code } } }"""
SCOPES = "stock:read stock:write transfers:read transfers:write transfers:approve"


async def test_transfer_events_reach_their_subscribers_and_only_them(server, tenant):
    token = await app_token(server, await new_client(tenant, SCOPES))
    client = await WSClient.connect(server.url, token)
    await client.subscribe("t", UPDATED, {"locs": [tenant.loc("S2")]})
    await client.subscribe("s", CHANGED)
    await asyncio.sleep(0.3)

    async with httpx.AsyncClient(base_url=server.url) as http:

        async def gql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = await http.post(
                "/graphql",
                headers={"Authorization": f"Bearer {token}"},
                json={"query": query, "variables": variables},
            )
            return response.json()["data"]  # type: ignore[no-any-return]

        async def mutate(name: str, **input: Any) -> dict[str, Any]:
            result = (await gql(MUTATIONS[name], {"input": input}))[name]
            assert result["userErrors"] == [], result
            return result["transfer"]  # type: ignore[no-any-return]

        await gql(ADJUST, {"loc": tenant.loc("S1")})
        lines = [{"sku": "A", "quantity": 2}]
        t = await mutate(
            "createTransfer",
            fromLocationId=tenant.loc("S1"),
            toLocationId=tenant.loc("S2"),
            lines=lines,
            submit=True,
        )
        await mutate(  # neither end is S2: not for this subscriber
            "createTransfer",
            fromLocationId=tenant.loc("WH"),
            toLocationId=tenant.loc("S1"),
            lines=lines,
        )
        await mutate("approveTransfer", id=t["id"])
        await mutate("shipTransfer", id=t["id"])

    got: dict[str, list[dict[str, Any]]] = {"t": [], "s": []}
    while len(got["t"]) < 3 or len(got["s"]) < 2:
        message = await client.recv(timeout=10)
        assert message["type"] == "next", message
        got[message["id"]].append(message["payload"]["data"])
    events = [d["transferUpdated"] for d in got["t"]]
    assert [e["action"] for e in events] == ["CREATE", "APPROVE", "SHIP"]
    assert [e["transfer"]["status"] for e in events] == ["REQUESTED", "APPROVED", "IN_TRANSIT"]
    assert events[-1]["transfer"]["lines"] == [{"product": {"sku": "A"}, "shippedQuantity": 2}]
    assert {e["transfer"]["toLocation"]["code"] for e in events} == {"S2"}
    kinds = [d["stockChanged"]["movement"]["kind"] for d in got["s"]]
    assert kinds == ["ADJUSTMENT", "TRANSFER_OUT"]
    try:
        extra = await client.recv(timeout=0.5)
    except TimeoutError:
        extra = None
    assert extra is None, extra

    # replay from the start: the same three events, in order
    await client.subscribe("r", UPDATED, {"locs": [tenant.loc("S2")], "after": 0})
    replayed = [(await client.next_data())["transferUpdated"] for _ in range(3)]
    assert [e["sequence"] for e in replayed] == [e["sequence"] for e in events]
    await client.close()


async def test_transfer_updated_needs_transfers_read(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read"))
    client = await WSClient.connect(server.url, token)
    await client.subscribe("t", UPDATED)
    message = await client.recv()
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "FORBIDDEN"
    await client.close()
