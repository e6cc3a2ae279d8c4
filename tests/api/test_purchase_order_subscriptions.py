"""purchaseOrderUpdated over WebSocket through a real server: delivery with the location
filter, then replay after a sequence."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx

from auth.caller import Caller
from domain.purchasing import service as po
from domain.replenishment import suppliers
from tests.api.conftest import app_token, new_client
from tests.api.wsclient import WSClient

UPDATED = """subscription($locs: [ID!], $after: BigInt) {
  purchaseOrderUpdated(locationIds: $locs, afterSequence: $after) {
    sequence action purchaseOrder { status location { code } lines { quantity } } } }"""
SEND = """mutation($id: ID!) { %s(input: {id: $id}) { purchaseOrder { status }
  userErrors { code } } }"""
SCOPES = "stock:read stock:write transfers:read transfers:approve"


async def _draft(tenant: Any, loc: str) -> str:
    system = Caller.system(tenant.tenant_id)
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        row = await suppliers.create_supplier(
            s, system, suppliers.SupplierFields(f"SUP-{loc}", "供應商", "Supplier", "HKD", 2)
        )
        out = await po.create_draft(
            s,
            system,
            po.CreateDraft(
                row.id,
                tenant.locations[loc],
                (po.DraftLine(tenant.products["A"], 12, Decimal("3.5")),),
            ),
        )
    return tenant.gid("PurchaseOrder", out.order.id)


async def test_purchase_order_events_reach_subscribers_of_the_location(server, tenant):
    token = await app_token(server, await new_client(tenant, SCOPES))
    s1, s2 = await _draft(tenant, "S1"), await _draft(tenant, "S2")
    client = await WSClient.connect(server.url, token)
    await client.subscribe("p", UPDATED, {"locs": [tenant.loc("S1")]})
    await asyncio.sleep(0.3)
    async with httpx.AsyncClient(base_url=server.url) as http:
        for order in (s2, s1):
            for step in ("submitPurchaseOrder", "approvePurchaseOrder", "sendPurchaseOrder"):
                r = await http.post(
                    "/graphql",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"query": SEND % step, "variables": {"id": order}},
                )
                assert r.json()["data"][step]["userErrors"] == [], r.text
    got = []
    while len(got) < 3:
        message = await client.recv(timeout=10)
        assert message["type"] == "next", message
        got.append(message["payload"]["data"]["purchaseOrderUpdated"])
    assert [e["action"] for e in got] == ["SUBMIT", "APPROVE", "SEND"]
    assert {e["purchaseOrder"]["location"]["code"] for e in got} == {"S1"}
    assert got[-1]["purchaseOrder"] == {
        "status": "SENT",
        "location": {"code": "S1"},
        "lines": [{"quantity": 12}],
    }
    await client.close()

    # a client that reconnects after the first event misses nothing and repeats nothing
    again = await WSClient.connect(server.url, token)
    await again.subscribe("r", UPDATED, {"locs": [tenant.loc("S1")], "after": got[0]["sequence"]})
    replayed = [
        (await again.recv(timeout=10))["payload"]["data"]["purchaseOrderUpdated"]["action"]
        for _ in range(2)
    ]
    assert replayed == ["APPROVE", "SEND"]
    await again.close()
