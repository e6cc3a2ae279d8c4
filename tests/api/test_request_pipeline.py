"""The request pipeline in one process: a JSON body is decoded once, whichever path answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

import api.protocol
from api.app import create_app
from api.graphql import GraphQLApp
from api.settings import Settings
from auth.backend import app_claims
from auth.permissions import Permission

QUERY = "query($n: Int) { viewer { kind } products(first: $n) { totalCount } }"


class CountingJSON:
    """orjson as the request decoding (api/protocol.py) sees it, counting its decodes."""

    JSONDecodeError = orjson.JSONDecodeError
    dumps = staticmethod(orjson.dumps)

    def __init__(self) -> None:
        self.decoded = 0

    def loads(self, data: Any) -> Any:
        self.decoded += 1
        return orjson.loads(data)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    counts: dict[str, Any] = {"endpoint": CountingJSON(), "view": 0}
    monkeypatch.setattr(api.protocol, "orjson", counts["endpoint"])
    original = GraphQLApp.decode_json

    def counting(self: GraphQLApp, data: str | bytes) -> object:
        counts["view"] += 1
        return original(self, data)

    monkeypatch.setattr(GraphQLApp, "decode_json", counting)
    return counts


async def test_a_body_is_decoded_once_on_the_full_path(
    database_url: str, signing_key: bytes, tmp_path: Path, decodes: dict[str, Any], tenant: Any
) -> None:
    app = create_app(
        Settings(database_url=database_url, signing_key=signing_key.decode(), home=tmp_path)
    )
    claims = app_claims(tenant.tenant_id, "pipeline", frozenset({Permission.STOCK_READ}), None)
    token = app.state.tokens.issue(claims, 600)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post(
            "/graphql",
            json={"query": QUERY, "variables": {"n": 1}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.json()["data"]["viewer"] == {"kind": "APP"}, response.json()
        assert (decodes["endpoint"].decoded, decodes["view"]) == (1, 0)

        anonymous = await http.post("/graphql", json={"query": "{ viewer { kind } }"})
        assert anonymous.status_code == 401
        assert (decodes["endpoint"].decoded, decodes["view"]) == (2, 0)

        got = await http.get(
            "/graphql",
            params={"query": QUERY, "variables": '{"n": 1}'},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert got.json()["data"]["viewer"] == {"kind": "APP"}, got.json()
        # GET's variables: decoded by the view, with the same decoding
        assert (decodes["endpoint"].decoded, decodes["view"]) == (3, 1)
    await app.state.db.dispose()
