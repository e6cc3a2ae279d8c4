"""A real uvicorn process serving the test database, and real HTTP clients.

The ``server`` and ``signing_key`` fixtures live in tests/conftest.py: one server per
session, shared by tests/api, tests/examples and tests/browser alike."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from auth.caller import Caller
from domain.tenancy.service import create_client
from tests.conftest import SERVER_POOL_SIZE, TenantFixture


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    env: dict[str, str]
    signing_key: bytes
    process: subprocess.Popen[bytes]


def start_server(
    database_url: str,
    signing_key: bytes,
    home: Path,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Server:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STOCKGRAPH_SIGNING_KEY": signing_key.decode(),
        "STOCKGRAPH_HOME": str(home),
        "STOCKGRAPH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # Off unless a test asks: a server's dispatcher would race the tests' own.
        "STOCKGRAPH_WEBHOOKS_ENABLED": "false",
        "STOCKGRAPH_NOTIFICATIONS_ENABLED": "false",
        # The periodic jobs act on every tenant of the database: only where a test asks.
        "STOCKGRAPH_SCHEDULER_ENABLED": "false",
        # Every test asks for tokens from 127.0.0.1 and the counters live in the shared
        # database: the token endpoint's limits are tested where a test sets its own.
        "STOCKGRAPH_OAUTH_ADDRESS_RATE": "1000000",
        "STOCKGRAPH_OAUTH_CLIENT_RATE": "1000000",
        # Bounded: the PostgreSQL server may be shared (tests/conftest.py counts on it).
        "STOCKGRAPH_POOL_SIZE": str(SERVER_POOL_SIZE),
        # Likewise the query-cost buckets (per client, per process): the maximum cost
        # per document holds everywhere; the throttle is tested where a test sets it.
        "STOCKGRAPH_COST_BUCKET_SIZE": "1000000",
        "STOCKGRAPH_COST_RESTORE_RATE": "1000000",
        **(extra_env or {}),
    }
    log = open(home / f"server-{port}.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--ws-per-message-deflate",
            "false",
            # as `stockgraph serve` runs it: twice the frame cap the app enforces
            "--ws-max-size",
            str(2 * int(env.get("STOCKGRAPH_WS_MAX_FRAME_BYTES", "1000000"))),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((home / f"server-{port}.log").read_text())
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return Server(url, env, signing_key, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@dataclass
class AppCredentials:
    client_id: str
    client_secret: str


async def new_client(
    tenant: TenantFixture,
    scopes: str = "stock:read stock:write",
    locations: list[str] | None = None,
) -> AppCredentials:
    async with tenant.db.owner_transaction() as s:
        creds = await create_client(
            s, Caller.system(tenant.tenant_id), "test app", scopes, locations
        )
    return AppCredentials(creds.client_id, creds.client_secret)


async def app_token(server: Server, creds: AppCredentials, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/oauth/token", data=data, auth=(creds.client_id, creds.client_secret)
        )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
