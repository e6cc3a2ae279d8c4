"""Revocation across two real server processes: disabling a client or a staff member,
or rotating a client secret, makes its tokens fail on both within seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from auth.backend import staff_claims
from auth.caller import Caller
from auth.tokens import TokenService
from domain.tenancy.service import (
    create_staff,
    rotate_client_secret,
    set_client_active,
    set_staff_active,
)
from tests.api.conftest import (
    AppCredentials,
    Server,
    app_token,
    new_client,
    start_server,
    stop_server,
)

QUERY = "{ locations(first: 1) { totalCount } }"
POLL = "0.3"
ISSUER = "https://stockgraph.test"  # one issuer for both processes, as behind a balancer


@pytest.fixture(scope="module")
def two_servers(
    database_url: str,
    app_database_url: str,
    signing_key: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, Server]]:
    env = {
        "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
        "STOCKGRAPH_REVOCATION_POLL_SECONDS": POLL,
        "STOCKGRAPH_POOL_SIZE": "2",
        "STOCKGRAPH_ISSUER": ISSUER,
    }
    home = tmp_path_factory.mktemp("revocation")
    first = start_server(database_url, signing_key, home, extra_env=env)
    second = start_server(database_url, signing_key, home, extra_env=env)
    yield first, second
    stop_server(first)
    stop_server(second)


async def status(server: Server, token: str) -> int:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}
        )
    if response.status_code == 200:
        assert "errors" not in response.json(), response.text
    return response.status_code


async def refused_everywhere_within(servers: tuple[Server, ...], token: str, limit: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        codes = [await status(s, token) for s in servers]
        if codes == [401] * len(servers):
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    raise AssertionError(f"still accepted after {limit} s: {codes}")


async def test_disabling_a_client_refuses_its_tokens_on_every_process(two_servers, tenant):
    creds = await new_client(tenant)
    token = await app_token(two_servers[0], creds)
    assert [await status(s, token) for s in two_servers] == [200, 200]
    async with tenant.db.owner_transaction() as s:
        await set_client_active(s, Caller.system(tenant.tenant_id), creds.client_id, False)
    assert await refused_everywhere_within(two_servers, token, 5.0) < 5.0
    async with httpx.AsyncClient(base_url=two_servers[1].url) as http:
        again = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(creds.client_id, creds.client_secret),
        )
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    async with tenant.db.owner_transaction() as s:
        action = (
            await s.execute(
                text(
                    "SELECT action FROM audit_events WHERE tenant_id = :t "
                    "ORDER BY sequence DESC LIMIT 1"
                ),
                {"t": tenant.tenant_id},
            )
        ).scalar_one()
    assert action == "client.disable"


async def test_rotating_a_secret_refuses_old_tokens_and_the_old_secret(two_servers, tenant):
    creds = await new_client(tenant)
    old_token = await app_token(two_servers[1], creds)
    async with tenant.db.owner_transaction() as s:
        new = await rotate_client_secret(s, Caller.system(tenant.tenant_id), creds.client_id)
    assert new.client_secret != creds.client_secret
    await refused_everywhere_within(two_servers, old_token, 5.0)
    async with httpx.AsyncClient(base_url=two_servers[0].url) as http:
        old = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(creds.client_id, creds.client_secret),
        )
    assert old.status_code == 401
    fresh = await app_token(two_servers[0], AppCredentials(new.client_id, new.client_secret))
    assert [await status(s, fresh) for s in two_servers] == [200, 200]


async def test_disabling_a_staff_member_refuses_their_tokens(two_servers, tenant):
    async with tenant.db.owner_transaction() as s:
        staff_id = await create_staff(
            s, Caller.system(tenant.tenant_id), "amy", "Amy", "STORE_MANAGER", ["S1"]
        )
    server = two_servers[0]
    claims = {**staff_claims(tenant.tenant_id, staff_id, "STORE_MANAGER", []), "rev": 0}
    token = TokenService(server.signing_key, ISSUER, "stockgraph-api").issue(claims, 600)
    other = {**staff_claims(tenant.tenant_id, staff_id + 10_000, "CLERK", []), "rev": 0}
    bystander = TokenService(server.signing_key, ISSUER, "stockgraph-api").issue(other, 600)
    assert [await status(s, token) for s in two_servers] == [200, 200]
    async with tenant.db.owner_transaction() as s:
        await set_staff_active(s, Caller.system(tenant.tenant_id), "amy", False)
    await refused_everywhere_within(two_servers, token, 5.0)
    assert [await status(s, bystander) for s in two_servers] == [200, 200]
