"""examples/partner: codegen from schema.graphql, tsc over the typed client, then a real run."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import app_token, new_client
from tests.api.test_subscriptions import adjust

PARTNER = Path(__file__).parents[2] / "examples" / "partner"


def npm(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args], cwd=PARTNER, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def partner_app() -> Path:
    """The example built as its README says: npm ci, graphql-codegen, tsc."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the partner example")
    installed = PARTNER / "node_modules" / ".package-lock.json"
    lock = PARTNER / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = npm("ci", "--no-audit", "--no-fund", "--silent")
        assert done.returncode == 0, done.stderr
    shutil.rmtree(PARTNER / "src" / "gql", ignore_errors=True)
    shutil.rmtree(PARTNER / "dist", ignore_errors=True)
    codegen = npm("run", "--silent", "codegen", timeout=120)
    assert codegen.returncode == 0, codegen.stdout + codegen.stderr
    generated = (PARTNER / "src" / "gql" / "graphql.ts").read_text()
    assert "export type PartnerStockFeedSubscription" in generated
    tsc = npm("exec", "--", "tsc", "--pretty", "false", timeout=120)
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr  # the typed client type-checks
    return PARTNER / "dist" / "main.js"


async def test_partner_example_snapshot_then_live_changes(server, tenant, partner_app):
    creds = await new_client(tenant, "stock:read stock:write")
    token = await app_token(server, creds)
    async with httpx.AsyncClient(base_url=server.url) as http:
        await adjust(http, token, tenant.loc("S1"), "A", 5)
        await adjust(http, token, tenant.loc("S1"), "B", 3)
        await adjust(http, token, tenant.loc("S2"), "C", 9)  # another store: not followed

    process = await asyncio.create_subprocess_exec(
        "node",
        str(partner_app),
        "--url",
        server.url,
        "--client-id",
        creds.client_id,
        "--client-secret",
        creds.client_secret,
        "--location",
        "S1",
        "--events",
        "2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None

    async def line() -> dict:
        return json.loads(await asyncio.wait_for(process.stdout.readline(), 20))  # type: ignore[union-attr]

    try:
        snapshot = await line()
        assert snapshot == {"step": "snapshot", "location": "S1", "available": {"A": 5, "B": 3}}
        assert await line() == {"step": "connected"}
        await asyncio.sleep(1.0)  # let the subscription register behind connection_ack
        async with httpx.AsyncClient(base_url=server.url) as http:
            first = await adjust(http, token, tenant.loc("S1"), "A", 2)
            await adjust(http, token, tenant.loc("S2"), "C", 1)
            second = await adjust(http, token, tenant.loc("S1"), "B", 4)
        changes = [await line(), await line()]
        done = await line()
        await asyncio.wait_for(process.wait(), 10)  # it ends on its own after N events
    finally:
        if process.returncode is None:
            process.kill()
        _, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert changes == [
        {"step": "change", "sequence": str(first), "sku": "A", "kind": "ADJUSTMENT",
         "delta": 2, "available": 7},
        {"step": "change", "sequence": str(second), "sku": "B", "kind": "ADJUSTMENT",
         "delta": 4, "available": 7},
    ]  # fmt: skip
    assert done == {"step": "done", "available": {"A": 7, "B": 7}}
