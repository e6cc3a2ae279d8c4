"""jobProgress over a real WebSocket: a report and an import followed from another process.

Each job is started on one server and followed on a second one (its own process,
the same database): its progress arrives as it works, never going back, and
the stream ends with the final state. Other tenants' jobs are NOT_FOUND, a job
outside the caller's permissions is FORBIDDEN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from db.models import Product
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from tests.api.conftest import Server, app_token, new_client, start_server, stop_server
from tests.api.wsclient import WSClient

PROGRESS = """subscription($id: ID!) { jobProgress(jobId: $id) {
  jobId kind status phase done total percent finished
  reportJob { status downloadUrl fileName }
  importJob { status rowsTotal rowsWritten errorCount } } }"""
REQUEST = """mutation($input: RequestReportInput!) { requestReport(input: $input) {
  reportJob { id status } userErrors { code } } }"""
CREATE = """mutation($input: CreateImportInput!) { createImport(input: $input) {
  importJob { id status phase } userErrors { code field message } } }"""


@pytest.fixture(scope="module")
def follower(
    database_url: str,
    app_database_url: str,
    signing_key: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """A second API process on the same database: where the jobs are followed."""
    srv = start_server(
        database_url,
        signing_key,
        tmp_path_factory.mktemp("follower"),
        extra_env={"STOCKGRAPH_APP_DATABASE_URL": app_database_url},
    )
    yield srv
    stop_server(srv)


async def gql(server: Server, token: str, document: str, variables: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        response = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": document, "variables": variables},
        )
    return response.json()


async def upload(server: Server, token: str, data: bytes, name: str, **input: Any) -> Any:
    operations = {"query": CREATE, "variables": {"input": {**input, "file": None}}}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        response = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": (name, data, "text/csv")},
        )
    assert response.status_code == 200, response.text
    return response.json()["data"]["createImport"]


async def tokens(server: Server, follower: Server, tenant: Any, scopes: str) -> tuple[str, str]:
    """One app's tokens from each server (each issues its own)."""
    creds = await new_client(tenant, scopes)
    return await app_token(server, creds), await app_token(follower, creds)


async def follow(server: Server, token: str, job_id: str) -> list[dict[str, Any]]:
    """Every event of the job until the server completes the stream."""
    client = await WSClient.connect(server.url, token)
    try:
        await client.subscribe("j", PROGRESS, {"id": job_id})
        events = []
        while True:
            message = await client.recv(timeout=60)
            if message["type"] == "complete":
                return events
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            events.append(message["payload"]["data"]["jobProgress"])
    finally:
        await client.close()


async def refusal(server: Server, token: str, job_id: str) -> dict[str, Any]:
    client = await WSClient.connect(server.url, token)
    try:
        await client.subscribe("j", PROGRESS, {"id": job_id})
        message = await client.recv()
        assert message["type"] == "error", message
        return message["payload"][0]
    finally:
        await client.close()


def assert_progresses(events: list[dict[str, Any]]) -> None:
    """Percent never falls, something was seen before the end, and only the last is final."""
    percents = [e["percent"] for e in events]
    assert percents == sorted(percents), percents
    assert [e["finished"] for e in events] == [False] * (len(events) - 1) + [True]
    assert events[-1]["percent"] == 100
    assert len(events) >= 3, events


async def many_products(tenant: Any, count: int) -> list[int]:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        await session.execute(
            insert(Product),
            [
                {
                    "tenant_id": tenant.tenant_id,
                    "sku": f"P{i:05d}",
                    "name_zh": f"產品{i}",
                    "name_en": f"Product {i}",
                    "category": f"C{i % 7}",
                }
                for i in range(count)
            ],
        )
        rows = await session.execute(
            select(Product.id).where(Product.tenant_id == tenant.tenant_id, Product.sku.like("P%"))
        )
        return list(rows.scalars())


async def test_a_report_job_is_followed_from_another_process_to_its_download(
    server, follower, tenant
):
    products = await many_products(tenant, 500)
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        await post(
            session,
            tenant.owner,
            [
                Posting(
                    location_id=tenant.locations[loc],
                    product_id=pk,
                    kind=MovementKind.RECEIPT,
                    delta=5,
                    unit_cost=Decimal("2.50"),
                )
                for loc in ("S1", "S2")
                for pk in products
            ],
        )
    token, far = await tokens(server, follower, tenant, "stock:read costs:read")
    variables = {
        "input": {
            "kind": "STOCK_MOVEMENT",
            "format": "PDF",
            "from": "2026-01-01",
            "to": "2026-12-31",
        }
    }
    requested = (await gql(server, token, REQUEST, variables))["data"]["requestReport"]
    assert requested["userErrors"] == []
    job_id = requested["reportJob"]["id"]

    events = await follow(follower, far, job_id)
    assert_progresses(events)
    assert {e["jobId"] for e in events} == {job_id}
    assert {e["kind"] for e in events} == {"REPORT"}
    rendering = [e for e in events if e["phase"] == "RENDERING"]
    assert rendering, [e["phase"] for e in events]
    assert {e["total"] for e in rendering} == {1000}  # 500 SKUs at two stores
    done = [e["done"] for e in rendering]
    assert done == sorted(done) and done[-1] > done[0], done
    last = events[-1]
    assert (last["status"], last["phase"], last["done"], last["total"]) == (
        "DONE",
        "DONE",
        1000,
        1000,
    )
    assert last["reportJob"]["status"] == "DONE"
    assert last["reportJob"]["fileName"] == "stock-movements-2026-01-01-2026-12-31.pdf"
    async with httpx.AsyncClient(base_url=server.url) as client:
        file = await client.get(last["reportJob"]["downloadUrl"])
    assert file.status_code == 200
    assert file.content.startswith(b"%PDF")

    # a finished job answers with its final state at once, then ends
    again = await follow(follower, far, job_id)
    assert [(e["status"], e["percent"], e["finished"]) for e in again] == [("DONE", 100, True)]


ROWS = 60_000


def products_csv(count: int) -> bytes:
    lines = ["SKU,中文名稱,English Name,售價"]
    lines += [f"N{i:05d},貨品{i},Item {i},{i % 50 + 1}.50" for i in range(count)]
    return ("\n".join(lines) + "\n").encode("big5")


async def test_an_import_job_is_followed_from_another_process_to_its_summary(
    server, follower, tenant
):
    token, far = await tokens(server, follower, tenant, "stock:read admin")
    queued = await upload(
        server, token, products_csv(ROWS), "products.csv", kind="PRODUCTS", background=True
    )
    assert queued["userErrors"] == []
    assert (queued["importJob"]["status"], queued["importJob"]["phase"]) == ("QUEUED", "QUEUED")
    job_id = queued["importJob"]["id"]

    events = await follow(follower, far, job_id)
    assert_progresses(events)
    phases = [e["phase"] for e in events]
    assert phases == sorted(phases, key=["QUEUED", "VALIDATING", "WRITING", "DONE"].index)
    writing = [e for e in events if e["phase"] == "WRITING"]
    assert writing and {e["total"] for e in writing} == {ROWS}
    checked = [e["done"] for e in events if e["phase"] == "VALIDATING"]
    assert checked == sorted(checked)
    midway = [e for e in events if 0 < e["done"] < ROWS]
    assert midway, events  # seen while it worked, not only at its ends
    last = events[-1]
    assert (last["status"], last["done"], last["total"]) == ("COMMITTED", ROWS, ROWS)
    assert last["importJob"] == {
        "status": "COMMITTED",
        "rowsTotal": ROWS,
        "rowsWritten": ROWS,
        "errorCount": 0,
    }
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        written = await session.execute(
            select(Product.sku).where(
                Product.tenant_id == tenant.tenant_id, Product.sku == "N59999"
            )
        )
        assert written.scalar_one() == "N59999"

    # the same file again is answered from the job that wrote it; nothing is queued
    again = await upload(
        server, token, products_csv(ROWS), "products.csv", kind="PRODUCTS", background=True
    )
    assert again["importJob"]["id"] == job_id
    assert again["importJob"]["status"] == "COMMITTED"


async def test_a_background_import_with_bad_rows_ends_refused_and_writes_nothing(
    server, follower, tenant
):
    token, far = await tokens(server, follower, tenant, "stock:read admin")
    data = "SKU,中文名稱,English Name,售價\nR-1,菠蘿包,Pineapple bun,9.5\nR-2,蛋撻,Egg tart,abc\n"
    queued = await upload(
        server, token, data.encode("big5"), "bad.csv", kind="PRODUCTS", background=True
    )
    events = await follow(follower, far, queued["importJob"]["id"])
    last = events[-1]
    assert (last["status"], last["finished"], last["percent"]) == ("REFUSED", True, 100)
    assert last["importJob"] == {
        "status": "REFUSED",
        "rowsTotal": 2,
        "rowsWritten": 0,
        "errorCount": 1,
    }


async def test_jobs_of_other_tenants_are_not_found_and_scopes_are_enforced(
    server, follower, tenant, other_tenant, tmp_path: Path
):
    reader, far_reader = await tokens(server, follower, tenant, "stock:read costs:read")
    variables = {
        "input": {
            "kind": "STOCK_MOVEMENT",
            "format": "XLSX",
            "from": "2026-01-01",
            "to": "2026-01-31",
        }
    }
    report = (await gql(server, reader, REQUEST, variables))["data"]["requestReport"]
    report_id = report["reportJob"]["id"]
    admin, far_admin = await tokens(server, follower, tenant, "stock:read admin")
    data = "SKU,中文名稱,English Name\nI-1,菠蘿包,Pineapple bun\n".encode()
    imported = await upload(server, admin, data, "one.csv", kind="PRODUCTS", dryRun=True)
    import_id = imported["importJob"]["id"]

    others = await app_token(
        follower, await new_client(other_tenant, "stock:read costs:read admin")
    )
    for job_id in (report_id, import_id):
        refused = await refusal(follower, others, job_id)
        assert refused["extensions"]["code"] == "NOT_FOUND", refused
        assert refused["path"] == ["jobProgress"]

    for job_id in (tenant.loc("S1"), "not-an-id"):  # not a job's ID at all: the caller's mistake
        refused = await refusal(follower, far_reader, job_id)
        assert refused["extensions"] == {"code": "INVALID", "field": ["jobId"]}, refused

    plain = await app_token(follower, await new_client(tenant, "stock:read"))
    refused = await refusal(follower, plain, report_id)
    assert refused["extensions"] == {"code": "FORBIDDEN", "permission": "costs:read"}
    refused = await refusal(follower, far_reader, import_id)  # costs:read, but not admin
    assert refused["extensions"] == {"code": "FORBIDDEN", "permission": "admin"}

    # with the scope, the same IDs are followed to their end
    finished = await follow(follower, far_admin, import_id)
    assert [(e["status"], e["finished"]) for e in finished] == [("VALIDATED", True)]
    assert finished[0]["importJob"]["rowsTotal"] == 1


async def test_the_legacy_protocol_follows_a_job_through_the_same_source(
    database_url, app_database_url, signing_key, tmp_path, tenant, other_tenant
):
    """graphql-ws (when enabled) runs strawberry's resolver: the same events and refusals."""
    import asyncio

    import websockets

    legacy = start_server(
        database_url,
        signing_key,
        tmp_path,
        extra_env={
            "STOCKGRAPH_LEGACY_GRAPHQL_WS": "true",
            "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
        },
    )
    try:
        token = await app_token(legacy, await new_client(tenant, "stock:read admin"))
        data = "SKU,中文名稱,English Name\nG-1,菠蘿包,Pineapple bun\n".encode()
        job = (await upload(legacy, token, data, "g.csv", kind="PRODUCTS", dryRun=True))[
            "importJob"
        ]
        others = await app_token(legacy, await new_client(other_tenant, "stock:read admin"))

        async def messages(bearer: str) -> list[dict[str, Any]]:
            ws = await websockets.connect(
                legacy.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-ws"]
            )
            try:
                init = {"type": "connection_init", "payload": {"authorization": f"Bearer {bearer}"}}
                await ws.send(json.dumps(init))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                start = {"query": PROGRESS, "variables": {"id": job["id"]}}
                await ws.send(json.dumps({"id": "1", "type": "start", "payload": start}))
                seen = []
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message["type"] == "ka":
                        continue
                    seen.append(message)
                    if message["type"] in ("complete", "error"):
                        return seen
            finally:
                await ws.close()

        mine = await messages(token)
        assert [m["type"] for m in mine] == ["data", "complete"]
        event = mine[0]["payload"]["data"]["jobProgress"]
        assert (event["status"], event["finished"], event["importJob"]["rowsTotal"]) == (
            "VALIDATED",
            True,
            1,
        )
        theirs = await messages(others)
        assert [m["type"] for m in theirs] == ["data", "complete"]
        assert theirs[0]["payload"]["data"] is None
        assert theirs[0]["payload"]["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
    finally:
        stop_server(legacy)
