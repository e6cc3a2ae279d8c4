"""Authentication at the edge: one verification per request or socket, the caller in the scope."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from auth.backend import BearerBackend, authorization_param, caller_of, staff_claims
from auth.tokens import TokenService
from tests.unit.tokens_support import AUD, ISS


class CountingTokens(TokenService):
    verified = 0

    def verify(self, token: str, *, copied: bool = True) -> dict[str, Any]:
        type(self).verified += 1
        return super().verify(token, copied=copied)


def _who(scope: Any) -> dict[str, Any]:
    caller = caller_of(scope)
    return {"kind": caller.kind.value if caller else None}


async def _http(request: Request) -> JSONResponse:
    return JSONResponse(_who(request.scope))


async def _socket(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_json(_who(ws.scope))
    await ws.close()


def _client(tokens: TokenService) -> TestClient:
    app = Starlette(
        routes=[Route("/", _http), WebSocketRoute("/ws", _socket)],
        middleware=[Middleware(AuthenticationMiddleware, backend=BearerBackend(tokens))],
    )
    return TestClient(app)


def test_the_caller_is_in_the_scope_for_http_and_websocket(pem: bytes, clock: Any) -> None:
    tokens = CountingTokens(pem, ISS, AUD, clock=clock)
    token = tokens.issue(staff_claims(1, 7, "STORE_MANAGER", [1]), 600)
    client = _client(tokens)
    CountingTokens.verified = 0
    assert client.get("/", headers={"Authorization": f"Bearer {token}"}).json() == {"kind": "STAFF"}
    assert CountingTokens.verified == 1  # once, at the edge
    with client.websocket_connect("/ws", headers={"authorization": f"Bearer {token}"}) as ws:
        assert ws.receive_json() == {"kind": "STAFF"}
    assert CountingTokens.verified == 2


def test_no_token_or_a_bad_one_leaves_the_caller_out(pem: bytes, clock: Any) -> None:
    client = _client(TokenService(pem, ISS, AUD, clock=clock))
    assert client.get("/").json() == {"kind": None}
    assert client.get("/", headers={"Authorization": "Bearer nope"}).json() == {"kind": None}
    assert client.get("/", headers={"Authorization": "Basic eDp5"}).json() == {"kind": None}


def test_the_payload_key_is_case_insensitive() -> None:
    assert authorization_param({"Authorization": "Bearer a"}) == "Bearer a"
    assert authorization_param({"authorization": "Bearer b"}) == "Bearer b"
    assert authorization_param({"AUTHORIZATION": "Bearer c"}) == "Bearer c"
    assert authorization_param({"authorization": 42}) == ""  # named, but no token
    assert authorization_param({}) is None
    assert authorization_param(None) is None
    assert authorization_param(["authorization"]) is None


def test_only_the_edge_verifies_tokens() -> None:
    """No module but auth/backend.py turns a header into a caller; the rest read the scope."""
    root = Path(__file__).resolve().parents[2]
    callers = sorted(
        str(path.relative_to(root))
        for package in ("api", "resolvers", "subscriptions", "schema", "auth")
        for path in (root / package).rglob("*.py")
        if re.search(r"\bauthenticate\(|caller_from_header\(", path.read_text())
    )
    # ws.py and graphql.py: a token sent in connection_init's payload, not in a header
    assert callers == ["api/graphql.py", "api/ws.py", "auth/backend.py"]
    for name in ("api/graphql.py", "api/ws.py"):
        text = (root / name).read_text()
        assert "authenticate(" not in text
        assert text.count("caller_from_header(") == 1
