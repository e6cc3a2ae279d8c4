"""The token endpoint's limits: per client ID, per source address, a lockout after
repeated wrong secrets, all held in PostgreSQL so that they hold across processes."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from tests.api.conftest import Server, new_client, start_server, stop_server

GRANT = {"grant_type": "client_credentials"}
DATA_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def limited_server(
    database_url: str, app_database_url: str, signing_key: bytes, home, **limits: str
) -> Server:
    env = {
        "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
        "STOCKGRAPH_POOL_SIZE": "2",
        "STOCKGRAPH_DATA_KEY": DATA_KEY,  # one deployment: the same key in every process
        **{f"STOCKGRAPH_OAUTH_{k.upper()}": v for k, v in limits.items()},
    }
    return start_server(database_url, signing_key, home, extra_env=env)


class Pair:
    """Two server processes over one database; requests alternate between them."""

    def __init__(self, first: Server, second: Server) -> None:
        self.servers = (first, second)
        self.sent = 0

    def next(self) -> Server:
        self.sent += 1
        return self.servers[self.sent % 2]


@pytest.fixture(scope="module")
def server(database_url, app_database_url, signing_key, tmp_path_factory) -> Iterator[Pair]:
    limits = {
        "client_rate": "6",
        "address_rate": "1000",
        "lockout_failures": "3",
        "lockout_seconds": "2",
    }
    home = tmp_path_factory.mktemp("limits")
    first = limited_server(database_url, app_database_url, signing_key, home, **limits)
    second = limited_server(database_url, app_database_url, signing_key, home, **limits)
    yield Pair(first, second)
    stop_server(first)
    stop_server(second)


async def token_request(server: Server | Pair, client_id: str, secret: str) -> httpx.Response:
    target = server.next() if isinstance(server, Pair) else server
    async with httpx.AsyncClient(base_url=target.url) as http:
        return await http.post("/oauth/token", data=GRANT, auth=(client_id, secret))


def assert_throttled(response: httpx.Response, at_most: int) -> None:
    assert response.status_code == 429, response.text
    assert set(response.json()) == {"error", "error_description"}
    assert response.json()["error"] == "temporarily_unavailable"
    assert 1 <= int(response.headers["retry-after"]) <= at_most
    assert response.headers["cache-control"] == "no-store"


async def test_repeated_wrong_secrets_lock_the_pair_then_it_opens_again(server, tenant):
    creds = await new_client(tenant)
    for _ in range(3):
        assert (await token_request(server, creds.client_id, "wrong")).status_code == 401
    # locked: even the right secret waits, and is not even checked
    assert_throttled(await token_request(server, creds.client_id, creds.client_secret), 2)
    await asyncio.sleep(2.2)
    assert (await token_request(server, creds.client_id, creds.client_secret)).status_code == 200


async def test_requests_per_client_are_limited_across_processes(server, tenant):
    creds = await new_client(tenant)
    codes = [
        (await token_request(server, creds.client_id, creds.client_secret)).status_code
        for _ in range(6)
    ]
    assert codes == [200] * 6
    assert_throttled(await token_request(server, creds.client_id, creds.client_secret), 60)
    other = await new_client(tenant)  # another client is not affected
    assert (await token_request(server, other.client_id, other.client_secret)).status_code == 200


async def test_a_legacy_hash_is_replaced_by_the_keyed_one_at_first_use(server, tenant):
    creds = await new_client(tenant)  # made without the server's key: the scrypt form

    async def stored() -> str:
        async with tenant.db.owner_transaction() as s:
            return str(
                (
                    await s.execute(
                        text("SELECT secret_hash FROM partner_apps WHERE client_id = :c"),
                        {"c": creds.client_id},
                    )
                ).scalar_one()
            )

    assert (await stored()).startswith("scrypt$")
    assert (await token_request(server, creds.client_id, creds.client_secret)).status_code == 200
    upgraded = await stored()
    assert upgraded.startswith("hmac-sha256$") and creds.client_secret not in upgraded
    assert (await token_request(server, creds.client_id, creds.client_secret)).status_code == 200
    assert (await token_request(server, creds.client_id, "wrong")).status_code == 401


async def test_requests_per_source_address_are_limited(
    database_url, app_database_url, signing_key, tmp_path, tenant
):
    srv = limited_server(
        database_url, app_database_url, signing_key, tmp_path, address_rate="3", window_seconds="30"
    )
    try:
        # Other tests' servers count 127.0.0.1 too, so only the shape is asserted exactly.
        codes = [(await token_request(srv, f"nobody-{n}", "x")).status_code for n in range(6)]
        assert 429 in codes and set(codes) <= {401, 429}
        refused = await token_request(srv, "nobody-last", "x")
        assert_throttled(refused, 30)
    finally:
        stop_server(srv)
