"""``Accept: application/graphql-response+json``: that media type back, 4xx for request
errors and no data entry; ``application/json`` keeps the spec's legacy 200."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import Server, app_token, new_client

GRAPHQL = "application/graphql-response+json"
LEVELS = "query($n: Int) { stockLevels(first: $n) { totalCount } }"


@pytest.fixture(scope="module")
async def tokens(server: Server, db: Any) -> dict[str, str]:
    from tests.conftest import make_tenant

    tenant = await make_tenant(db, "media")
    return {
        "reader": await app_token(server, await new_client(tenant, "stock:read")),
        "no stock": await app_token(server, await new_client(tenant, "transfers:read")),
    }


async def _post(server: Server, token: str, accept: str, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.post(
            "/graphql",
            json=body,
            headers={"authorization": f"Bearer {token}", "accept": accept},
        )


CODES = {
    "parse": "GRAPHQL_PARSE_FAILED",
    "validation": "GRAPHQL_VALIDATION_FAILED",
    "variables": "BAD_USER_INPUT",
}
REQUEST_ERRORS = {
    "parse": {"query": "{ stockLevels("},
    "validation": {"query": "{ noSuchField }"},
    "variables": {"query": LEVELS, "variables": {"n": "ten"}},
}


@pytest.mark.parametrize("case", sorted(REQUEST_ERRORS))
async def test_a_request_error_is_400_under_the_graphql_media_type(
    server: Server, tokens: dict[str, str], case: str
) -> None:
    response = await _post(server, tokens["reader"], GRAPHQL, REQUEST_ERRORS[case])
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL}; charset=utf-8"
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    assert [e["extensions"]["code"] for e in body["errors"]] == [CODES[case]]


@pytest.mark.parametrize("case", sorted(REQUEST_ERRORS))
async def test_application_json_keeps_200_without_a_data_entry(
    server: Server, tokens: dict[str, str], case: str
) -> None:
    response = await _post(server, tokens["reader"], "application/json", REQUEST_ERRORS[case])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"errors"}


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (GRAPHQL, GRAPHQL),
        (f"{GRAPHQL}, application/json;q=0.9", GRAPHQL),
        (f"application/json, {GRAPHQL};q=0.5", "application/json"),
        ("*/*", "application/json"),
        ("", "application/json"),
    ],
)
async def test_the_media_type_is_negotiated_on_every_path(
    server: Server, tokens: dict[str, str], accept: str, media: str
) -> None:
    """The first answer is strawberry's, the later ones the compiled plan's: both agree."""
    query = f"# {uuid.uuid4().hex}\n{LEVELS}"
    for _ in range(3):
        response = await _post(server, tokens["reader"], accept, {"query": query})
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media
        body = response.json()
        assert body["data"] == {"stockLevels": {"totalCount": 0}}
        assert set(body) <= {"data", "extensions"}  # extensions: the query's cost


async def test_a_field_error_is_no_request_error(server: Server, tokens: dict[str, str]) -> None:
    """Execution ran: 200 and a data entry, whatever the media type."""
    for accept in (GRAPHQL, "application/json"):
        response = await _post(server, tokens["no stock"], accept, {"query": LEVELS})
        assert response.status_code == 200
        body = response.json()
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_no_token_is_401_under_either_media_type(server: Server) -> None:
    for accept in (GRAPHQL, "application/json"):
        async with httpx.AsyncClient(base_url=server.url) as http:
            response = await http.post(
                "/graphql", json={"query": LEVELS}, headers={"accept": accept}
            )
        assert response.status_code == 401
        assert response.headers["content-type"].split(";")[0] == accept
        assert set(response.json()) == {"errors"}
