"""Actors read as staff codes and app names, resolved in the reader's own tenant only."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import text

from auth.backend import staff_claims
from auth.caller import Caller
from auth.tokens import TokenService
from domain.tenancy.service import create_staff
from tests.api.conftest import Server, app_token, new_client
from tests.api.wsclient import WSClient
from tests.conftest import TenantFixture

RECEIVE = """
mutation($input: ReceiveStockInput!) {
  receiveStock(input: $input) { userErrors { code } }
}"""
MOVEMENTS = """
{ stockMovements(first: 10) { edges { node {
    actor performedBy { kind code name label subject } } } } }"""
AUDIT = """
{ auditEvents(first: 50) { edges { node {
    action actor performedBy { kind code name label subject } } } } }"""


async def _post(server: Server, token: str, query: str, variables: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _staff_token(server: Server, tenant: TenantFixture, code: str, name: str) -> str:
    async with tenant.db.owner_transaction() as s:
        staff_id = await create_staff(s, Caller.system(tenant.tenant_id), code, name, "OWNER", [])
    claims = staff_claims(tenant.tenant_id, staff_id, "OWNER", [])
    return TokenService(server.signing_key, server.url, "stockgraph-api").issue(claims, 600)


def _receipt(tenant: TenantFixture, sku: str) -> dict[str, Any]:
    return {"input": {"locationId": tenant.loc("S1"), "lines": [{"sku": sku, "quantity": 3}]}}


async def test_movements_and_audit_events_name_staff_and_apps(
    server: Server, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    owner = await _staff_token(server, tenant, "MGR01", "Mandy Chan")
    app = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    await _post(server, owner, RECEIVE, _receipt(tenant, "A"))
    await _post(server, app, RECEIVE, _receipt(tenant, "B"))
    # the other tenant has a staff member with the same row shape and its own names
    rival = await _staff_token(server, other_tenant, "RIVAL9", "Rival Person")
    await _post(server, rival, RECEIVE, _receipt(other_tenant, "A"))

    nodes = [e["node"] for e in (await _post(server, owner, MOVEMENTS))["stockMovements"]["edges"]]
    actors = [n["performedBy"] for n in nodes]
    staff_subject, app_subject = nodes[0]["actor"], nodes[1]["actor"]
    assert staff_subject.startswith("staff:") and app_subject.startswith("app:")
    assert actors == [
        {
            "kind": "STAFF",
            "code": "MGR01",
            "name": "Mandy Chan",
            "label": "staff:MGR01",
            "subject": staff_subject,
        },
        {
            "kind": "APP",
            "code": app_subject.removeprefix("app:"),
            "name": "test app",
            "label": "app:test app",
            "subject": app_subject,
        },
    ]

    events = [e["node"] for e in (await _post(server, owner, AUDIT))["auditEvents"]["edges"]]
    receipts = [e for e in events if e["action"] == "stock.receive"]
    assert [e["performedBy"]["label"] for e in receipts] == ["staff:MGR01", "app:test app"]
    assert all(e["performedBy"]["subject"] == e["actor"] for e in events)

    # the rival tenant sees only its own names
    theirs = await _post(server, rival, MOVEMENTS)
    assert [e["node"]["performedBy"]["label"] for e in theirs["stockMovements"]["edges"]] == [
        "staff:RIVAL9"
    ]
    for data in (theirs, await _post(server, rival, AUDIT)):
        assert "MGR01" not in str(data) and "Mandy" not in str(data)


async def test_a_subject_of_another_tenant_never_resolves(
    server: Server, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    """A stored row naming another tenant's staff id (a forged or migrated row) stays
    unresolved: the reader's tenant has nobody of that id, so no foreign name shows."""
    owner = await _staff_token(server, tenant, "OWN1", "Owner One")
    rival = await _staff_token(server, other_tenant, "SECRET7", "Secret Name")
    await _post(server, rival, RECEIVE, _receipt(other_tenant, "A"))
    async with other_tenant.db.owner_transaction() as s:
        rival_subject = (
            await s.execute(
                text("SELECT actor FROM stock_movements WHERE tenant_id = :t"),
                {"t": other_tenant.tenant_id},
            )
        ).scalar_one()
    await _post(server, owner, RECEIVE, _receipt(tenant, "A"))
    async with tenant.db.owner_transaction() as s:
        await s.execute(
            text("UPDATE stock_movements SET actor = :a WHERE tenant_id = :t"),
            {"a": rival_subject, "t": tenant.tenant_id},
        )
    data = await _post(server, owner, MOVEMENTS)
    [node] = [e["node"] for e in data["stockMovements"]["edges"]]
    assert node["performedBy"] == {
        "kind": "UNKNOWN",
        "code": None,
        "name": None,
        "label": rival_subject,
        "subject": rival_subject,
    }


CHANGED = """
subscription { stockChanged { sequence movement { performedBy { kind code label } } } }"""


async def test_a_live_stock_change_names_its_actor(server: Server, tenant: TenantFixture) -> None:
    """The subscription path resolves the actor like a query does (its own loaders)."""
    owner = await _staff_token(server, tenant, "LIVE1", "Live Owner")
    client = await WSClient.connect(server.url, owner)
    try:
        await client.subscribe("s", CHANGED)
        await asyncio.sleep(0.2)
        await _post(server, owner, RECEIVE, _receipt(tenant, "C"))
        event = (await client.next_data(timeout=5))["stockChanged"]
    finally:
        await client.ws.close()
    assert event["movement"]["performedBy"] == {
        "kind": "STAFF",
        "code": "LIVE1",
        "label": "staff:LIVE1",
    }
