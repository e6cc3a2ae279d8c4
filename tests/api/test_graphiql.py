"""GraphiQL's page and bundle over real HTTP: media types, cache headers, nothing from elsewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from api.graphiql import ASSET_PREFIX, bundle
from tests.api.conftest import app_token, new_client, start_server, stop_server
from tests.api.wsclient import WSClient

HTML = {"Accept": "text/html"}


def page_assets(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


def test_the_page_loads_only_its_own_bundle(server):
    response = httpx.get(server.url + "/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "connect-src 'self' ws: wss:;" in csp
    built = bundle()
    assert built is not None, "GraphiQL is not built: make graphiql"
    assert page_assets(response.text) == [
        "data:,",
        ASSET_PREFIX + built.stylesheet,
        ASSET_PREFIX + built.script,
    ]
    # the only absolute URL is this server's own token endpoint, in the example's comment
    hosts = set(re.findall(r"(?:https?|wss?)://([^/\"\\s]+)", response.text))
    assert hosts == {server.url.removeprefix("http://")}
    found = re.search(
        r'<script id="stockgraph-graphiql" type="application/json">(.*?)</script>', response.text
    )
    assert found is not None
    config = json.loads(found.group(1))
    assert config["endpoint"] == "/graphql"
    assert "query StockAtLocation($locationId: ID!)" in config["query"]
    assert f"{server.url}/oauth/token" in config["query"]
    assert json.loads(config["headers"]) == {"Authorization": "Bearer <token>"}  # the hint
    assert json.loads(config["variables"]) == {"locationId": "<a location id from Locations>"}


def test_bundle_files_have_their_media_types_and_are_cached_for_good(server):
    built = bundle()
    assert built is not None
    for name, media_type, marker in (
        (built.script, "text/javascript; charset=utf-8", b"graphql-transport-ws"),
        (built.stylesheet, "text/css; charset=utf-8", b".graphiql-container"),
    ):
        response = httpx.get(server.url + ASSET_PREFIX + name)
        assert response.status_code == 200, name
        assert response.headers["content-type"] == media_type
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-encoding"] == "gzip"  # gzipped at build time
        assert response.headers["vary"] == "Accept-Encoding"
        assert marker in response.content
        etag = response.headers["etag"]
        again = httpx.get(server.url + ASSET_PREFIX + name, headers={"If-None-Match": etag})
        assert again.status_code == 304
        plain = httpx.get(server.url + ASSET_PREFIX + name, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.content == response.content
        assert int(plain.headers["content-length"]) > int(response.headers["content-length"])


@pytest.mark.parametrize(
    "name", ["manifest.json", "nope.js", "..%2F..%2Fapp.py", "%2Fetc%2Fpasswd", "graphiql.js"]
)
def test_only_the_builds_own_files_are_served(server, name):
    response = httpx.get(server.url + ASSET_PREFIX + name)
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_graphiql_off_serves_neither_page_nor_files(
    database_url, app_database_url, signing_key, tmp_path
):
    built = bundle()
    assert built is not None
    srv = start_server(
        database_url,
        signing_key,
        tmp_path,
        extra_env={
            "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
            "STOCKGRAPH_GRAPHIQL": "false",
        },
    )
    try:
        assert httpx.get(srv.url + "/graphql", headers=HTML).status_code == 404
        assert httpx.get(srv.url + ASSET_PREFIX + built.script).status_code == 404
    finally:
        stop_server(srv)


def test_a_missing_or_partial_build_is_no_bundle(tmp_path: Path):
    assert bundle(tmp_path) is None
    (tmp_path / "manifest.json").write_text('{"script": "a-1.js", "stylesheet": "a-1.css"}')
    (tmp_path / "a-1.js").write_text("")
    assert bundle(tmp_path) is None  # its stylesheet is missing
    (tmp_path / "a-1.css").write_text("")
    bundle.cache_clear()
    found = bundle(tmp_path)
    assert found is not None and found.files == {"a-1.js", "a-1.css"}


@pytest.mark.parametrize("key", ["Authorization", "AUTHORIZATION", "authorization"])
async def test_connection_init_authorization_in_any_case(server, tenant, key):
    """GraphiQL sends its Headers pane as connection_init's payload, "Authorization" and all."""
    token = await app_token(server, await new_client(tenant, "stock:read"))
    client = await WSClient.connect(server.url, init=False)
    await client.send({"type": "connection_init", "payload": {key: f"Bearer {token}"}})
    assert await client.recv() == {"type": "connection_ack"}
    await client.ws.close()


async def test_connection_init_with_the_hints_placeholder_is_refused(server):
    client = await WSClient.connect(server.url, init=False)
    await client.send({"type": "connection_init", "payload": {"Authorization": "Bearer <token>"}})
    assert await client.closed_with() == (4403, "Forbidden")
