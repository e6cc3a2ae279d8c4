"""Malformed requests get 400 and a JSON body in GraphQL's error shape, on every path,
with and without a token: never a 500, never text/plain, never a Python repr."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from tests.api.conftest import Server, app_token, new_client

QUERY = "query Levels { stockLevels(first: 1) { totalCount } }"
SHA = hashlib.sha256(QUERY.encode()).hexdigest()
PERSISTED = {"persistedQuery": {"version": 1, "sha256Hash": SHA}}


def _raw(body: bytes) -> dict[str, Any]:
    return {"content": body, "headers": {"content-type": "application/json"}}


def _json(body: Any) -> dict[str, Any]:
    return _raw(json.dumps(body).encode())


DEEP = "[" * 10_000 + "]" * 10_000
POSTS: dict[str, dict[str, Any]] = {
    "operationName an object": _json({"query": QUERY, "operationName": {"obj": "ect"}}),
    "operationName an array": _json({"query": QUERY, "operationName": ["Levels"]}),
    "operationName a number": _json({"query": QUERY, "operationName": 7}),
    "operationName a lone surrogate": _raw(b'{"query": "{ a }", "operationName": "\\ud800"}'),
    "top-level 1e400": _raw(b"1e400"),
    "a 100,000-digit integer": _raw(b"1" * 100_000),
    "an integer of 100,000 digits in variables": _raw(
        b'{"query": "{ a }", "variables": {"n": ' + b"9" * 100_000 + b"}}"
    ),
    "variables nested 10,000 deep": _raw(
        b'{"query": "{ a }", "variables": {"v": ' + DEEP.encode() + b"}}"
    ),
    "invalid UTF-8 in the document": _raw(b'{"query": "{ \xff\xfe }"}'),
    "invalid UTF-8 in the variables": _raw(b'{"query": "{ a }", "variables": {"s": "\xc3("}}'),
    "a body that is a string": _json("{ viewer { kind } }"),
    "a body that is a number": _raw(b"42"),
    "a body that is null": _raw(b"null"),
    "a body that is not JSON": _raw(b"{query: 1}"),
    "an empty body": _raw(b""),
    "no query": _json({"variables": {}}),
    "query a number": _json({"query": 1}),
    "variables a list": _json({"query": QUERY, "variables": [1]}),
    "extensions a string": _json({"query": QUERY, "extensions": "x"}),
    "unknown operation name": _json({"query": QUERY, "operationName": "Nope"}),
    "persisted, operationName an object": _json(
        {"query": QUERY, "extensions": PERSISTED, "operationName": {"obj": "ect"}}
    ),
    "persisted hash alone, operationName an array": _json(
        {"extensions": PERSISTED, "operationName": ["x"]}
    ),
    "persisted hash alone, unknown operation name": _json(
        {"extensions": PERSISTED, "operationName": "Nope"}
    ),
    "not JSON at all": {"content": b"query=1", "headers": {"content-type": "text/plain"}},
}
GETS: dict[str, dict[str, str]] = {
    "no query": {},
    "variables not JSON": {"query": QUERY, "variables": "{not json"},
    "variables a list": {"query": QUERY, "variables": "[1]"},
    "variables with 1e400": {"query": QUERY, "variables": '{"n": 1e400}'},
    "variables nested 10,000 deep": {"query": QUERY, "variables": '{"v": ' + DEEP + "}"},
    "extensions a number": {"query": QUERY, "extensions": "3"},
    "unknown operation name": {"query": QUERY, "operationName": "Nope"},
    "a mutation": {"query": "mutation { __typename }"},
}
REPR_SIGNS = ("{'", "['", "Traceback", "object at 0x", "JSONDecodeError", "ValueError")


@pytest.fixture(scope="module")
async def token(server: Server, db: Any) -> str:
    from tests.conftest import make_tenant

    tenant = await make_tenant(db, "bad")
    creds = await new_client(tenant, "stock:read")
    token = await app_token(server, creds)
    async with httpx.AsyncClient(base_url=server.url) as http:  # registers QUERY's hash
        response = await http.post(
            "/graphql",
            json={"query": QUERY, "extensions": PERSISTED},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    return token


def _assert_bad_request(response: httpx.Response, media: str = "application/json") -> str:
    assert response.status_code in (400, 405), response.text
    assert response.headers["content-type"].startswith(media), response.headers
    body = response.json()
    assert set(body) == {"errors"}, body  # no data entry
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST", body
    message = str(error["message"])
    assert not any(sign in message for sign in REPR_SIGNS), message
    return message


@pytest.mark.parametrize("authorized", [True, False], ids=["token", "no token"])
@pytest.mark.parametrize("case", sorted(POSTS))
async def test_a_malformed_post_gets_400(
    server: Server, token: str, case: str, authorized: bool
) -> None:
    headers = {**POSTS[case]["headers"]}
    if authorized:
        headers["authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post("/graphql", content=POSTS[case]["content"], headers=headers)
    if case == "persisted hash alone, unknown operation name" and not authorized:
        # well-formed; persisted documents are kept per tenant, so no caller, no document
        assert response.status_code == 401
        assert response.json() == {
            "errors": [
                {
                    "message": "a valid Bearer token is required",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ]
        }
        return
    message = _assert_bad_request(response)
    assert response.status_code == 400
    if "unknown operation" in case:
        assert message == 'Unknown operation named "Nope".'


@pytest.mark.parametrize("authorized", [True, False], ids=["token", "no token"])
@pytest.mark.parametrize("case", sorted(GETS))
async def test_a_malformed_get_gets_4xx(
    server: Server, token: str, case: str, authorized: bool
) -> None:
    headers = {"accept": "application/json"}
    if authorized:
        headers["authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.get("/graphql", params=GETS[case], headers=headers)
    _assert_bad_request(response)


@pytest.mark.parametrize("case", ["operationName an object", "a 100,000-digit integer"])
async def test_the_refusal_speaks_the_negotiated_media_type(
    server: Server, token: str, case: str
) -> None:
    headers = {**POSTS[case]["headers"], "accept": "application/graphql-response+json"}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post("/graphql", content=POSTS[case]["content"], headers=headers)
    _assert_bad_request(response, "application/graphql-response+json")


@pytest.mark.parametrize(
    ("accept", "status"), [("application/json", 200), ("application/graphql-response+json", 400)]
)
async def test_a_100000_digit_literal_is_a_short_syntax_error(
    server: Server, token: str, accept: str, status: int
) -> None:
    """Not graphql-core's echo of every digit with Python's words about int limits."""
    query = "{ stockLevels(first: " + "9" * 100_000 + ") { totalCount } }"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post(
            "/graphql",
            json={"query": query},
            headers={"authorization": f"Bearer {token}", "accept": accept},
        )
    assert response.status_code == status
    assert response.json() == {
        "errors": [
            {
                "message": "a number literal may have at most 100 characters; this one has 100000",
                "locations": [{"line": 1, "column": 22}],
                "extensions": {"code": "INVALID"},
            }
        ]
    }


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_another_method_gets_405_in_json(server: Server, method: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.request(method, "/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "errors": [
            {
                "message": "GraphQL only supports GET and POST requests.",
                "extensions": {"code": "METHOD_NOT_ALLOWED"},
            }
        ]
    }


async def test_a_body_over_the_limit_gets_413_in_json(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post(
            "/graphql", content=b"x" * 20_000_000, headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {"message": "request body too large", "extensions": {"code": "PAYLOAD_TOO_LARGE"}}
        ]
    }
