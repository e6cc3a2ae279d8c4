"""Compiled reads over HTTP (api/endpoint.py): a real uvicorn process, real tokens.

The plan of a document is learnt by the first clean request; later requests are
answered from it, counted in ``stockgraph_compiled_reads_total``, and must look
exactly like the full path's answers, refusals and errors included.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any

import httpx
import pytest

from auth.backend import app_claims
from auth.permissions import parse_scopes
from auth.tokens import TokenService
from tests.api.conftest import app_token, new_client, start_server, stop_server
from tests.helpers import receive_lines

LEVELS = """query($first: Int = 10) { stockLevels(first: $first) { totalCount
  edges { cursor node { id onHand available location { code nameZh } product { sku nameEn } } }
  pageInfo { hasNextPage endCursor } } }"""


def unique(doc: str) -> str:
    """The same operation under a document text no other test has sent to this server."""
    return f"# {uuid.uuid4().hex}\n{doc}"


def counters(text: str) -> dict[str, float]:
    found = {"answered": 0.0, "gave_up": 0.0, "failed": 0.0}
    for outcome in found:
        match = re.search(
            rf'^stockgraph_compiled_reads_total\{{outcome="{outcome}"\}} (\S+)$', text, re.M
        )
        if match:
            found[outcome] = float(match.group(1))
    return found


async def metrics(server: Any) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    return counters(response.text)


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before[k] for k in before}


async def post(
    server: Any, token: str | None, doc: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body: dict[str, Any] = {"query": doc}
    if variables is not None:
        body["variables"] = variables
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
        return await http.post("/graphql", json=body)


def rows(body: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [
        (e["node"]["location"]["code"], e["node"]["product"]["sku"], e["node"]["onHand"])
        for e in body["data"]["stockLevels"]["edges"]
    ]


async def test_the_second_request_is_answered_by_the_plan_with_the_same_body(server, gql, tenant):
    await receive_lines(gql, tenant, {"S1": [("A", 5), ("B", 2)], "WH": [("C", 40)]})
    token = await app_token(server, await new_client(tenant, "stock:read"))
    doc = unique(LEVELS)

    m0 = await metrics(server)
    first = await post(server, token, doc)
    m1 = await metrics(server)
    second = await post(server, token, doc)
    m2 = await metrics(server)
    third = await post(server, token, doc, {"first": 1})
    m3 = await metrics(server)

    assert first.status_code == second.status_code == 200
    assert first.headers["content-type"].startswith("application/json")
    assert second.headers["content-type"].startswith("application/json")
    assert second.content == first.content
    assert dict(second.headers) | {"date": ""} == dict(first.headers) | {"date": ""}
    body = first.json()
    assert "errors" not in body
    assert rows(body) == [("WH", "C", 40), ("S1", "A", 5), ("S1", "B", 2)]
    assert body["data"]["stockLevels"]["totalCount"] == 3
    assert delta(m0, m1) == {
        "answered": 1,
        "gave_up": 0,
        "failed": 0,
    }  # compiled and answered at once
    assert delta(m1, m2) == {"answered": 1, "gave_up": 0, "failed": 0}
    assert delta(m2, m3) == {"answered": 1, "gave_up": 0, "failed": 0}  # other variables, same plan
    page = third.json()["data"]["stockLevels"]
    assert [e["node"]["product"]["sku"] for e in page["edges"]] == ["C"]
    assert page["pageInfo"]["hasNextPage"] is True and page["totalCount"] == 3


async def test_plans_are_per_tenant_and_each_tenant_gets_its_own_rows(
    server, gql, tenant, other_tenant
):
    """A plan learnt for one tenant does not answer another's first request (no tenant can
    tell from timing or /metrics what another runs); each then gets its own rows."""
    await receive_lines(gql, tenant, {"S1": [("A", 5)]})
    await receive_lines(gql, other_tenant, {"S2": [("B", 9), ("C", 1)]})
    mine = await app_token(server, await new_client(tenant, "stock:read"))
    theirs = await app_token(server, await new_client(other_tenant, "stock:read"))
    doc = unique(LEVELS)
    learnt = await post(server, mine, doc)
    assert rows(learnt.json()) == [("S1", "A", 5)]

    before = await metrics(server)
    first = await post(server, theirs, doc)
    after = await metrics(server)
    assert delta(before, after) == {
        "answered": 1,
        "gave_up": 0,
        "failed": 0,
    }  # compiled for them now
    answer = await post(server, theirs, doc)
    assert delta(after, await metrics(server)) == {"answered": 1, "gave_up": 0, "failed": 0}
    assert answer.content == first.content
    body = answer.json()
    assert rows(body) == [("S2", "B", 9), ("S2", "C", 1)]
    assert body["data"]["stockLevels"]["totalCount"] == 2
    level_ids = {e["node"]["id"] for e in body["data"]["stockLevels"]["edges"]}
    assert level_ids.isdisjoint(
        {e["node"]["id"] for e in learnt.json()["data"]["stockLevels"]["edges"]}
    )
    again = await post(server, mine, doc)
    assert again.content == learnt.content


async def test_a_token_without_stock_read_is_forbidden_after_the_plan_was_learnt(
    server, gql, tenant
):
    await receive_lines(gql, tenant, {"S1": [("A", 5)]})
    reader = await app_token(server, await new_client(tenant, "stock:read"))
    no_stock = await app_token(server, await new_client(tenant, "transfers:read costs:read"))
    doc = unique(LEVELS)

    refused_before = await post(server, no_stock, doc)
    assert refused_before.status_code == 200
    assert refused_before.json()["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in refused_before.json()["errors"]] == [
        (["stockLevels"], "FORBIDDEN")
    ]

    await post(server, reader, doc)  # learns
    assert (await post(server, reader, doc)).status_code == 200

    before = await metrics(server)
    refused_after = await post(server, no_stock, doc)
    after = await metrics(server)
    assert refused_after.status_code == 200
    assert refused_after.json() == refused_before.json()
    # the plan gave up once for this one request, and answered nothing
    assert delta(before, after) == {"answered": 0, "gave_up": 1, "failed": 0}


async def test_bad_tokens_get_401_even_for_a_learnt_document(server, gql, tenant):
    await receive_lines(gql, tenant, {"S1": [("A", 5)]})
    token = await app_token(server, await new_client(tenant, "stock:read"))
    doc = unique(LEVELS)
    await post(server, token, doc)
    answered = await post(server, token, doc)
    assert rows(answered.json()) == [("S1", "A", 5)]

    claims = app_claims(tenant.tenant_id, "forged", parse_scopes("stock:read"), None)
    expired = TokenService(
        server.signing_key, server.url, "stockgraph-api", clock=lambda: time.time() - 7200
    ).issue(claims, 600)
    wrong_audience = TokenService(server.signing_key, server.url, "another-api").issue(claims, 600)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    before = await metrics(server)
    for bad in (expired, wrong_audience, tampered, "abc.def.ghi", None):
        response = await post(server, bad, doc)
        assert response.status_code == 401, bad
        body = response.json()
        assert "data" not in body  # a request error has no data entry
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert delta(before, await metrics(server)) == {"answered": 0, "gave_up": 0, "failed": 0}


COST = """query($sku: String!) { product(sku: $sku) { sku nameEn costPrice { amount currency }
  retailPrice { amount } } }"""


async def test_cost_price_needs_costs_read_on_both_paths(server, tenant):
    owner_like = await app_token(
        server, await new_client(tenant, "stock:read stock:write costs:read")
    )
    no_costs = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    doc = unique(COST)
    variables = {"sku": "B"}

    first = await post(server, owner_like, doc, variables)
    before = await metrics(server)
    second = await post(server, owner_like, doc, variables)
    assert delta(before, await metrics(server)) == {"answered": 1, "gave_up": 0, "failed": 0}
    assert first.content == second.content
    assert second.json()["data"] == {
        "product": {
            "sku": "B",
            "nameEn": "Product B",
            "costPrice": {"amount": "9.5000", "currency": "HKD"},
            "retailPrice": {"amount": "20.00"},
        }
    }

    before = await metrics(server)
    refused = await post(server, no_costs, doc, variables)
    assert delta(before, await metrics(server))["answered"] == 0
    assert refused.status_code == 200
    body = refused.json()
    assert body["data"] == {
        "product": {
            "sku": "B",
            "nameEn": "Product B",
            "costPrice": None,
            "retailPrice": {"amount": "20.00"},
        }
    }
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["product", "costPrice"], "FORBIDDEN")
    ]


async def test_variables_that_do_not_coerce_get_the_same_error_as_before(server, gql, tenant):
    await receive_lines(gql, tenant, {"S1": [("A", 5)]})
    token = await app_token(server, await new_client(tenant, "stock:read"))
    doc = unique(LEVELS)
    cases: list[dict[str, Any]] = [{"first": "ten"}, {"first": 1.5}, {"first": 2**40}]
    before_learning = [await post(server, token, doc, v) for v in cases]
    for response in before_learning:
        assert "data" not in response.json() and response.json()["errors"]
    await post(server, token, doc)  # learns
    assert (await post(server, token, doc)).status_code == 200
    m0 = await metrics(server)
    after_learning = [await post(server, token, doc, v) for v in cases]
    m1 = await metrics(server)
    for was, now in zip(before_learning, after_learning, strict=True):
        assert now.status_code == was.status_code
        assert now.json() == was.json()
    assert "$first" in after_learning[0].json()["errors"][0]["message"]
    assert delta(m0, m1)["answered"] == 0


async def test_a_get_query_still_works(server, gql, tenant):
    await receive_lines(gql, tenant, {"S2": [("C", 3)]})
    token = await app_token(server, await new_client(tenant, "stock:read"))
    doc = unique(LEVELS)
    posted = await post(server, token, doc, {"first": 5})
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        got = await http.get(
            "/graphql", params={"query": doc, "variables": json.dumps({"first": 5})}
        )
        anonymous = await http.get("/graphql", params={"query": doc}, headers={"Authorization": ""})
    assert got.status_code == 200
    assert got.json() == posted.json()
    assert rows(got.json()) == [("S2", "C", 3)]
    assert anonymous.status_code == 401


async def test_a_body_that_is_not_json_gets_400(server, gql, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read"))
    doc = unique('{ product(sku: "A") { sku } }')
    await post(server, token, doc)
    assert (await post(server, token, doc)).json()["data"] == {"product": {"sku": "A"}}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
        for content in (b"{not json", b"", json.dumps({"query": doc}).encode()[:-1]):
            response = await http.post("/graphql", content=content)
            assert response.status_code == 400, content
        # and the document's plan is still there for a good request
        answered = await http.post("/graphql", content=json.dumps({"query": doc}).encode())
        assert answered.json()["data"] == {"product": {"sku": "A"}}


async def test_a_json_body_that_is_not_a_request_object_gets_400(server, tenant):
    token = await app_token(server, await new_client(tenant, "stock:read"))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
        for content in (
            b"[1, 2]",
            json.dumps({"query": 12}).encode(),
            json.dumps({"query": "{ viewer { kind } }", "variables": [1]}).encode(),
            b'"{ viewer { kind } }"',
            b"12",
            b"null",
        ):
            response = await http.post("/graphql", content=content)
            assert response.status_code == 400, content


async def test_compiled_reads_can_be_turned_off(
    server, gql, tenant, database_url, app_database_url, signing_key, tmp_path
):
    await receive_lines(gql, tenant, {"S1": [("A", 5)], "S2": [("C", 2)]})
    creds = await new_client(tenant, "stock:read")
    doc = unique(LEVELS)
    on = await app_token(server, creds)
    learnt = await post(server, on, doc)
    answered = await post(server, on, doc)
    assert answered.content == learnt.content

    plain = start_server(
        database_url,
        signing_key,
        tmp_path,
        extra_env={
            "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
            "STOCKGRAPH_COMPILED_READS": "false",
        },
    )
    try:
        off = await app_token(plain, creds)
        responses = [await post(plain, off, doc) for _ in range(3)]
        assert all(r.status_code == 200 for r in responses)
        assert all(r.json() == learnt.json() for r in responses)
        assert rows(responses[-1].json()) == [("S1", "A", 5), ("S2", "C", 2)]
        assert await metrics(plain) == {"answered": 0.0, "gave_up": 0.0, "failed": 0.0}
    finally:
        stop_server(plain)


async def test_a_burst_of_compiled_requests_on_a_small_pool_is_answered_promptly(
    gql, tenant, database_url, app_database_url, signing_key, tmp_path
):
    """More concurrent requests than the pool has connections: each must be answered
    (by the plan or the full path) in well under the pool's 30 s checkout timeout."""
    await receive_lines(gql, tenant, {"S1": [("A", 5)]})
    small = start_server(
        database_url,
        signing_key,
        tmp_path,
        extra_env={"STOCKGRAPH_APP_DATABASE_URL": app_database_url, "STOCKGRAPH_POOL_SIZE": "2"},
    )
    try:
        token = await app_token(small, await new_client(tenant, "stock:read"))
        doc = unique("{ products { totalCount edges { node { sku nameEn } } } }")
        learnt = await post(small, token, doc)
        assert (await post(small, token, doc)).content == learnt.content
        assert learnt.json()["data"]["products"]["totalCount"] == 3

        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=small.url, headers=headers, timeout=15) as http:
            started = asyncio.get_running_loop().time()
            try:
                responses = await asyncio.gather(
                    *(http.post("/graphql", json={"query": doc}) for _ in range(16))
                )
            except httpx.TimeoutException:
                pytest.fail("16 concurrent requests were not all answered within 15 s")
            elapsed = asyncio.get_running_loop().time() - started
        assert [r.status_code for r in responses] == [200] * 16
        assert all(r.content == learnt.content for r in responses)
        assert elapsed < 10, f"16 requests took {elapsed:.1f} s"
    finally:
        stop_server(small)


async def test_a_learnt_document_with_malformed_extensions_gets_the_full_paths_400(
    server, gql, tenant
):
    await receive_lines(gql, tenant, {"S1": [("A", 5)]})
    token = await app_token(server, await new_client(tenant, "stock:read"))
    doc = unique(LEVELS)
    assert (await post(server, token, doc)).status_code == 200
    assert (await post(server, token, doc)).status_code == 200  # answered by the plan
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
        for extensions in ("x", 1, [1]):
            response = await http.post("/graphql", json={"query": doc, "extensions": extensions})
            assert response.status_code == 400, extensions
        fine = await http.post("/graphql", json={"query": doc, "extensions": {"trace": True}})
        assert fine.status_code == 200 and "errors" not in fine.json()
