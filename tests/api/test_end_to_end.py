"""End to end: a real uvicorn process, tokens over HTTP, the Python gql client."""

from __future__ import annotations

import asyncio

import httpx
from gql import Client, GraphQLRequest, gql
from gql.transport.httpx import HTTPXAsyncTransport

from tests.api.conftest import app_token, new_client
from tests.helpers import ledger_mismatches


def client_for(server, token: str) -> Client:
    transport = HTTPXAsyncTransport(
        url=server.url + "/graphql", headers={"Authorization": f"Bearer {token}"}
    )
    return Client(transport=transport, fetch_schema_from_transport=False)


async def test_token_then_queries_and_mutations_with_gql(server, tenant):
    creds = await new_client(tenant, "stock:read stock:write costs:read")
    token = await app_token(server, creds)
    async with client_for(server, token) as session:
        viewer = await session.execute(gql("{ viewer { kind clientId permissions } }"))
        assert viewer["viewer"] == {
            "kind": "APP",
            "clientId": creds.client_id,
            "permissions": ["costs:read", "stock:read", "stock:write"],
        }
        received = await session.execute(
            GraphQLRequest(
                """
            mutation($loc: ID!) { receiveStock(input: {locationId: $loc, reference: "PO-9",
              lines: [{sku: "A", quantity: 12, unitCost: "4.10"}, {sku: "B", quantity: 3}]}) {
              stockLevels { onHand product { sku costPrice { amount } } }
              movements { kind delta reference actor } userErrors { code } } }""",
                variable_values={"loc": tenant.loc("S1")},
            )
        )
        payload = received["receiveStock"]
        assert payload["userErrors"] == []
        assert [(lv["product"]["sku"], lv["onHand"]) for lv in payload["stockLevels"]] == [
            ("A", 12),
            ("B", 3),
        ]
        assert {m["actor"] for m in payload["movements"]} == {f"app:{creds.client_id}"}
        sold = await session.execute(
            GraphQLRequest(
                """
            mutation($loc: ID!) { recordSale(input: {locationId: $loc, receiptNumber: "R-1",
              occurredAt: "2026-11-28T15:04:05+08:00",
              lines: [{sku: "A", quantity: 2, unitPrice: "9.90"}],
              payments: [{method: "OCTOPUS", amount: "19.80"}]}) {
              stockLevels { onHand } movements { kind delta occurredAt } userErrors { code } } }""",
                variable_values={"loc": tenant.loc("S1")},
            )
        )
        assert sold["recordSale"]["stockLevels"] == [{"onHand": 10}]
        assert sold["recordSale"]["movements"][0]["occurredAt"] == "2026-11-28T07:04:05+00:00"
        level = await session.execute(
            GraphQLRequest(
                'query($loc: ID!) { stockLevel(locationId: $loc, sku: "A") { onHand available } }',
                variable_values={"loc": tenant.loc("S1")},
            )
        )
        assert level["stockLevel"] == {"onHand": 10, "available": 10}
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_fifty_concurrent_http_clients_decrementing_ten(server, tenant):
    creds = await new_client(tenant)
    token = await app_token(server, creds)
    headers = {"Authorization": f"Bearer {token}"}
    mutation = """mutation($loc: ID!, $d: Int!) { adjustStock(input: {locationId: $loc, sku: "C",
        delta: $d, reason: COUNT_CORRECTION}) { stockLevels { onHand } userErrors { code } } }"""
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
        first = await http.post(
            "/graphql", json={"query": mutation, "variables": {"loc": tenant.loc("S2"), "d": 10}}
        )
        assert first.json()["data"]["adjustStock"]["stockLevels"] == [{"onHand": 10}]
        responses = await asyncio.gather(
            *(
                http.post(
                    "/graphql",
                    json={"query": mutation, "variables": {"loc": tenant.loc("S2"), "d": -1}},
                )
                for _ in range(50)
            )
        )
    codes = [r.json()["data"]["adjustStock"]["userErrors"] for r in responses]
    assert sum(1 for c in codes if c == []) == 10
    assert sum(1 for c in codes if c == [{"code": "INSUFFICIENT_STOCK"}]) == 40
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_token_endpoint_errors_follow_rfc6749(server, tenant):
    creds = await new_client(tenant, "stock:read")
    async with httpx.AsyncClient(base_url=server.url) as http:
        wrong = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(creds.client_id, "wrong"),
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"
        assert wrong.headers["www-authenticate"].startswith("Basic")
        unknown = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"},
        )
        assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
        grant = await http.post(
            "/oauth/token",
            data={"grant_type": "password"},
            auth=(creds.client_id, creds.client_secret),
        )
        assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
        scope = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "stock:write"},
            auth=(creds.client_id, creds.client_secret),
        )
        assert scope.status_code == 400 and scope.json()["error"] == "invalid_scope"
        ok = await http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
            },
        )
        body = ok.json()
        assert ok.status_code == 200 and body["token_type"] == "Bearer"
        assert body["scope"] == "stock:read" and body["expires_in"] == 3600
        assert ok.headers["cache-control"] == "no-store"


async def test_discovery_health_and_metrics(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        meta = (await http.get("/.well-known/oauth-authorization-server")).json()
        assert meta["issuer"] == server.url  # RFC 8414 3.3: the URL it is served under
        assert meta["token_endpoint"] == server.url + "/oauth/token"
        assert meta["grant_types_supported"] == ["client_credentials"]
        jwks = (await http.get("/.well-known/jwks.json")).json()
        assert jwks["keys"][0]["alg"] == "ES256" and "d" not in jwks["keys"][0]
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).json() == {"status": "ready"}
        metrics = (await http.get("/metrics")).text
        assert "stockgraph_http_requests_total" in metrics
        ide = await http.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 200 and "graphiql" in ide.text.lower()
        anonymous = await http.post("/graphql", json={"query": "{ viewer { kind } }"})
        assert anonymous.status_code == 401
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        big = await http.post(
            "/graphql", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"}
        )
        assert big.status_code == 413
