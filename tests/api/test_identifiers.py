"""A string that is not an ID of the expected type is INVALID naming the argument,
on HTTP (full and compiled), persisted documents and the WebSocket; a well-formed
ID of another tenant still reads as nothing. And scalar refusals say what was expected."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import Server, app_token, new_client
from tests.api.wsclient import WSClient
from tests.conftest import TenantFixture

LEVELS = "query($locs: [ID!]) { stockLevels(locationIds: $locs) { edges { node { onHand } } } }"


async def _post(server: Server, token: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post(
            "/graphql", json=body, headers={"authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _invalid(body: dict[str, Any], field: list[str], message: str) -> None:
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID", body
    assert error["extensions"]["field"] == field, body
    assert error["message"] == message, body


@pytest.fixture
async def token(server: Server, tenant: TenantFixture) -> str:
    return await app_token(
        server, await new_client(tenant, "stock:read stock:write transfers:read")
    )


async def test_a_location_code_is_not_a_location_id(
    server: Server, tenant: TenantFixture, token: str
) -> None:
    body = await _post(server, token, {"query": LEVELS, "variables": {"locs": ["CWB"]}})
    assert body["data"] is None
    _invalid(body, ["locationIds", "0"], 'locationIds[0] is not a Location ID: "CWB"')


async def test_another_types_id_is_not_a_location_id(
    server: Server, tenant: TenantFixture, token: str
) -> None:
    product = tenant.gid("Product", tenant.products["A"])
    locs = [tenant.loc("S1"), product]
    body = await _post(server, token, {"query": LEVELS, "variables": {"locs": locs}})
    _invalid(body, ["locationIds", "1"], f'locationIds[1] is not a Location ID: "{product}"')


async def test_another_tenants_location_is_no_error_and_no_rows(
    server: Server, tenant: TenantFixture, other_tenant: TenantFixture, token: str
) -> None:
    locs = [other_tenant.loc("S1")]
    body = await _post(server, token, {"query": LEVELS, "variables": {"locs": locs}})
    assert body["data"] == {"stockLevels": {"edges": []}} and "errors" not in body


async def test_the_compiled_plan_and_a_persisted_document_answer_the_same(
    server: Server, tenant: TenantFixture, token: str
) -> None:
    query = f"# {uuid.uuid4().hex}\n{LEVELS}"
    good = {"locs": [tenant.loc("S1")]}
    for _ in range(3):  # the full path, then the plan learnt from it
        assert "errors" not in await _post(server, token, {"query": query, "variables": good})
    bad = {"locs": ["CWB"]}
    full_path = f"# {uuid.uuid4().hex}\n{LEVELS}"  # a text no plan knows
    expected = await _post(server, token, {"query": full_path, "variables": bad})
    assert expected["errors"][0]["extensions"]["code"] == "INVALID"
    assert await _post(server, token, {"query": query, "variables": bad}) == expected
    sha = hashlib.sha256(query.encode()).hexdigest()
    ext = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    registered = await _post(server, token, {"query": query, "extensions": ext, "variables": bad})
    assert registered == expected
    assert await _post(server, token, {"extensions": ext, "variables": bad}) == expected


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            '{ stockLevel(locationId: "CWB", sku: "A") { onHand } }',
            ["locationId"],
            'locationId is not a Location ID: "CWB"',
        ),
        ('{ node(id: "CWB") { id } }', ["id"], 'id is not an ID: "CWB"'),
        ('{ nodes(ids: ["x"]) { id } }', ["ids", "0"], 'ids[0] is not an ID: "x"'),
        (
            '{ stockMovements(locationId: "CWB") { edges { node { delta } } } }',
            ["locationId"],
            'locationId is not a Location ID: "CWB"',
        ),
        (
            '{ transfer(id: "T-1") { id } }',
            ["id"],
            'id is not a Transfer ID: "T-1"',
        ),
    ],
)
async def test_every_id_argument_is_checked(
    server: Server, token: str, query: str, field: list[str], message: str
) -> None:
    _invalid(await _post(server, token, {"query": query}), field, message)


async def test_a_mutation_answers_a_user_error(server: Server, token: str) -> None:
    mutation = """mutation { adjustStock(input: {locationId: "CWB", sku: "A", delta: 1,
      reason: FOUND}) { userErrors { field code message } } }"""
    body = await _post(server, token, {"query": mutation})
    assert body["data"]["adjustStock"]["userErrors"] == [
        {
            "field": ["locationId"],
            "code": "INVALID",
            "message": 'locationId is not a Location ID: "CWB"',
        }
    ]


@pytest.mark.parametrize("field", ["stockChanged", "lowStock"])
async def test_a_subscription_with_a_bad_id_gets_an_error(
    server: Server, token: str, field: str
) -> None:
    client = await WSClient.connect(server.url, token)
    try:
        await client.subscribe(
            "s", f'subscription {{ {field}(locationIds: ["CWB"]) {{ __typename }} }}'
        )
        message = await client.recv()
    finally:
        await client.close()
    assert message["type"] == "error" and message["id"] == "s", message
    assert message["payload"] == [
        {
            "message": 'locationIds[0] is not a Location ID: "CWB"',
            "path": [field],
            "extensions": {"code": "INVALID", "field": ["locationIds", "0"]},
        }
    ]


SALE = """mutation($at: DateTime) { recordSale(input: {locationId: "%s", receiptNumber: "R1",
  occurredAt: $at, lines: [{sku: "A", quantity: 1, unitPrice: "1"}]}) { userErrors { code } } }"""
EXPECTED = (
    "DateTime must be an ISO 8601 date and time with a UTC offset, "
    "such as 2026-12-07T09:30:00+08:00"
)


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30T10:00:00+08:00", "2026-12-07T25:00Z"])
async def test_a_bad_datetime_says_what_was_expected(
    server: Server, tenant: TenantFixture, token: str, value: str
) -> None:
    query = SALE % tenant.loc("S1")
    body = await _post(server, token, {"query": query, "variables": {"at": value}})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID"
    assert f'{EXPECTED}; got "{value}"' in error["message"]
    assert "invalid literal" not in error["message"] and "isoformat" not in error["message"]
    literal = query.replace("($at: DateTime)", "").replace("$at", f'"{value}"')
    body = await _post(server, token, {"query": literal})
    [error] = body["errors"]
    assert f'{EXPECTED}; got "{value}"' in error["message"], error


async def test_a_datetime_without_its_offset_is_the_mutations_user_error(
    server: Server, tenant: TenantFixture, token: str
) -> None:
    """It parses (the scalar's description says so); the domain refuses it, naming the field."""
    query = (SALE % tenant.loc("S1")).replace("userErrors { code }", "userErrors { code field }")
    body = await _post(server, token, {"query": query, "variables": {"at": "2026-12-07T10:00"}})
    assert body["data"] == {
        "recordSale": {"userErrors": [{"code": "INVALID", "field": ["occurredAt"]}]}
    }
    assert "errors" not in body
