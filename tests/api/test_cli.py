"""The command line: JSON on stdout, clear errors, and the demo chain end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import httpx
from sqlalchemy import text

from tests.helpers import ledger_mismatches


def cli(
    database_url: str, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,  # the demo load posts 90 days of sales: minutes on a busy machine
        check=False,
    )


def as_json(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout  # one JSON object, nothing else on stdout
    return json.loads(lines[0])


def test_operator_commands_create_a_working_tenant(database_url, server, tmp_path):
    code = "cli-" + uuid.uuid4().hex[:6]
    tenant = as_json(
        cli(
            database_url,
            "tenants",
            "create",
            "--code",
            code,
            "--name",
            "CLI 藥房",
            "--currency",
            "MOP",
            "--timezone",
            "Asia/Macau",
        )
    )
    assert tenant["code"] == code and isinstance(tenant["id"], int)
    loc = as_json(
        cli(
            database_url,
            "locations",
            "create",
            "--tenant",
            code,
            "--code",
            "TPA",
            "--name-zh",
            "氹仔店",
            "--name-en",
            "Taipa",
            "--kind",
            "STORE",
        )
    )
    assert loc["code"] == "TPA" and loc["id"]
    product = as_json(
        cli(
            database_url,
            "products",
            "create",
            "--tenant",
            code,
            "--sku",
            "MASK-1",
            "--name-zh",
            "口罩",
            "--name-en",
            "Mask",
            "--price",
            "12.50",
            "--cost",
            "7.10",
        )
    )
    assert product["sku"] == "MASK-1"
    staff = as_json(
        cli(
            database_url,
            "staff",
            "create",
            "--tenant",
            code,
            "--code",
            "S1",
            "--name",
            "陳小明",
            "--role",
            "STORE_MANAGER",
            "--locations",
            "TPA",
        )
    )
    assert staff["code"] == "S1"
    client = as_json(
        cli(
            database_url,
            "clients",
            "create",
            "--tenant",
            code,
            "--name",
            "POS",
            "--scopes",
            "stock:read stock:write",
            "--locations",
            "TPA",
        )
    )
    assert client["client_id"].startswith("sgc_") and len(client["client_secret"]) >= 40
    token = as_json(
        cli(
            database_url,
            "staff",
            "token",
            "--tenant",
            code,
            "--staff",
            "S1",
            "--ttl",
            "600",
            extra_env={
                "STOCKGRAPH_SIGNING_KEY": server.signing_key.decode(),
                "STOCKGRAPH_PUBLIC_URL": server.url,
            },
        )
    )
    assert token["expires_in"] == 600

    headers = {"Authorization": f"Bearer {token['access_token']}"}
    query = """mutation($loc: ID!) { receiveStock(input: {locationId: $loc,
        lines: [{sku: "MASK-1", quantity: 3}]}) { stockLevels { onHand } userErrors { code } } }"""
    response = httpx.post(
        server.url + "/graphql",
        headers=headers,
        json={"query": query, "variables": {"loc": loc["id"]}},
    )
    assert response.json().get("data"), response.text
    assert response.json()["data"]["receiveStock"] == {
        "stockLevels": [{"onHand": 3}],
        "userErrors": [],
    }
    viewer = httpx.post(
        server.url + "/graphql",
        headers=headers,
        json={"query": "{ viewer { kind roles tenant { code currency } locations { code } } }"},
    ).json()
    assert viewer["data"]["viewer"] == {
        "kind": "STAFF",
        "roles": ["STORE_MANAGER"],
        "tenant": {"code": code, "currency": "MOP"},
        "locations": [{"code": "TPA"}],
    }
    verify = as_json(cli(database_url, "audit", "verify", "--tenant", code))
    assert verify == {"valid": True, "checked": 6}  # 5 operator commands + 1 receipt


def test_bad_input_exits_non_zero_with_a_message(database_url):
    code = "bad-" + uuid.uuid4().hex[:6]
    as_json(cli(database_url, "tenants", "create", "--code", code, "--name", "X"))
    cases = [
        (["tenants", "create", "--code", code, "--name", "again"], "already exists"),
        (["tenants", "create", "--code", "x2", "--name", "X", "--currency", "USD"], "currency"),
        (
            [
                "locations",
                "create",
                "--tenant",
                "no-such",
                "--code",
                "A",
                "--name-zh",
                "甲",
                "--name-en",
                "A",
            ],
            "no tenant",
        ),
        (
            [
                "locations",
                "create",
                "--tenant",
                code,
                "--code",
                "A",
                "--name-zh",
                "甲",
                "--name-en",
                "A",
                "--kind",
                "SHOP",
            ],
            "kind",
        ),
        (
            [
                "products",
                "create",
                "--tenant",
                code,
                "--sku",
                "P",
                "--name-zh",
                "乙",
                "--name-en",
                "B",
                "--price",
                "abc",
            ],
            "decimal",
        ),
        (
            ["clients", "create", "--tenant", code, "--name", "X", "--scopes", "stock:rule"],
            "unknown scope",
        ),
        (
            ["staff", "create", "--tenant", code, "--code", "S", "--name", "N", "--role", "KING"],
            "role",
        ),
        (["staff", "token", "--tenant", code, "--staff", "nobody"], "no active staff"),
    ]
    for args, message in cases:
        result = cli(database_url, *args)
        assert result.returncode != 0, args
        assert result.stdout == "", args
        assert message in result.stderr, (args, result.stderr)


async def test_demo_load_builds_the_chain_through_the_ledger(database_url, server, db):
    import asyncio

    demo = as_json(await asyncio.to_thread(cli, database_url, "demo", "load"))
    assert demo["tenant"] == "demo"
    assert demo["products"] >= 500 and demo["locations"] == 8
    assert {s["role"] for s in demo["staff"]} == {
        "OWNER",
        "REGIONAL_MANAGER",
        "STORE_MANAGER",
        "PURCHASER",
        "CLERK",
        "AUDITOR",
    }
    assert len(demo["clients"]) == 2 and demo["sales"] > 5000
    assert demo["members"] == 150
    again = await asyncio.to_thread(cli, database_url, "demo", "load")
    assert again.returncode != 0 and "already exists" in again.stderr

    async with db.owner_transaction() as s:
        tid = (
            await s.execute(text("SELECT tenant_id FROM tenants WHERE code = 'demo'"))
        ).scalar_one()
        days = (
            await s.execute(
                text(
                    "SELECT count(DISTINCT (occurred_at AT TIME ZONE 'Asia/Hong_Kong')::date) "
                    "FROM stock_movements WHERE tenant_id = :t AND kind = 'SALE' "
                    # the older sales that only feed the forecast (domain.demo_replenishment)
                    "AND reference IS DISTINCT FROM 'DEMO-HISTORY'"
                ),
                {"t": tid},
            )
        ).scalar_one()
    assert days == 90
    assert await ledger_mismatches(db, tid) == []

    client = demo["clients"][1]
    async with httpx.AsyncClient(base_url=server.url) as http:
        token = (
            await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client["client_id"], client["client_secret"]),
            )
        ).json()["access_token"]
        data = (
            await http.post(
                "/graphql",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "query": """{ locations { totalCount edges { node { code nameZh } } }
                      products(first: 1, search: "口罩") { totalCount }
                      stockLevels(first: 5, belowReorderPoint: true) { totalCount } }"""
                },
            )
        ).json()["data"]
    codes = {e["node"]["code"] for e in data["locations"]["edges"]}
    assert {"KC-WH", "MK", "CWB", "TST", "ST", "MO-SEN", "MO-TPA"} <= codes
    assert data["locations"]["totalCount"] == 8
    assert data["products"]["totalCount"] > 0
    assert data["stockLevels"]["totalCount"] > 0
    verify = await asyncio.to_thread(cli, database_url, "audit", "verify", "--tenant", "demo")
    assert as_json(verify)["valid"] is True
