"""Report jobs over real HTTP: request, progress, a signed short-lived download, tenants apart."""

from __future__ import annotations

import asyncio
import io
import time
from decimal import Decimal

import httpx
import openpyxl
from sqlalchemy import text

from domain.reports.jobs import signature
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from tests.api.conftest import app_token, new_client

REQUEST = """mutation($input: RequestReportInput!) { requestReport(input: $input) {
  reportJob { id status progress } userErrors { code field } } }"""
JOB = """query($id: ID!) { reportJob(id: $id) { status progress fileName error downloadUrl
  downloadExpiresAt } }"""


async def gql(server, token: str, document: str, variables: dict) -> dict:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        response = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": document, "variables": variables},
        )
    return response.json()


async def finished(server, token: str, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = (await gql(server, token, JOB, {"id": job_id}))["data"]["reportJob"]
        if job["status"] in ("DONE", "FAILED"):
            return job
        await asyncio.sleep(0.2)
    raise AssertionError("the report did not finish in 60 s")


async def stock_up(tenant) -> None:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        postings = [
            Posting(
                location_id=tenant.locations["S1"],
                product_id=tenant.products[sku],
                kind=MovementKind.RECEIPT,
                delta=qty,
                unit_cost=Decimal(cost),
            )
            for sku, qty, cost in (("A", 10, "4.00"), ("B", 3, "9.50"))
        ]
        await post(session, tenant.owner, postings)


async def request(server, token: str, fmt: str) -> dict:
    variables = {
        "input": {"kind": "STOCK_MOVEMENT", "format": fmt, "from": "2026-01-01", "to": "2026-12-31"}
    }
    return (await gql(server, token, REQUEST, variables))["data"]["requestReport"]


async def test_xlsx_and_pdf_reports_download_once_signed_and_only_for_their_tenant(
    server, tenant, other_tenant
):
    await stock_up(tenant)
    token = await app_token(server, await new_client(tenant, "stock:read costs:read"))
    requested = await request(server, token, "XLSX")
    assert requested["userErrors"] == []
    assert requested["reportJob"]["status"] == "QUEUED"
    job = await finished(server, token, requested["reportJob"]["id"])
    assert (job["status"], job["progress"], job["error"]) == ("DONE", 100, None)
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(job["downloadUrl"])  # no token: the URL is the permission
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
        ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
        assert ws["A1"].value == "地點\nLocation"
        assert any(row[1] == "A" and row[7] == 40 for row in ws.iter_rows(values_only=True))

        path, _ = job["downloadUrl"].split("?")
        _, _, tenant_id, job_id = path.split("/")
        tampered = job["downloadUrl"][:-1] + ("0" if job["downloadUrl"][-1] != "0" else "1")
        assert (await client.get(tampered)).status_code == 404
        foreign = job["downloadUrl"].replace(
            f"/reports/{tenant_id}/", f"/reports/{other_tenant.tenant_id}/"
        )
        assert (await client.get(foreign)).status_code == 404
        async with tenant.db.owner_transaction() as s:
            secret = (
                await s.execute(
                    text(
                        "SELECT download_secret FROM report_jobs WHERE tenant_id = :t AND id = :id"
                    ),
                    {"t": tenant.tenant_id, "id": int(job_id)},
                )
            ).scalar_one()
        past = int(time.time()) - 1
        signed = signature(secret, tenant.tenant_id, int(job_id), past)
        expired = f"{path}?expires={past}&signature={signed}"
        assert (await client.get(expired)).status_code == 404

    others = await app_token(server, await new_client(other_tenant, "stock:read costs:read"))
    assert (await gql(server, others, JOB, {"id": requested["reportJob"]["id"]}))["data"][
        "reportJob"
    ] is None
    no_costs = await app_token(server, await new_client(tenant, "stock:read"))
    refused = await gql(
        server,
        no_costs,
        REQUEST,
        {
            "input": {
                "kind": "STOCK_MOVEMENT",
                "format": "XLSX",
                "from": "2026-01-01",
                "to": "2026-01-31",
            }
        },
    )
    assert refused["data"]["requestReport"]["userErrors"][0]["code"] == "FORBIDDEN"

    pdf = await finished(server, token, (await request(server, token, "PDF"))["reportJob"]["id"])
    assert pdf["status"] == "DONE", pdf
    async with httpx.AsyncClient(base_url=server.url) as client:
        body = (await client.get(pdf["downloadUrl"])).content
    assert body.startswith(b"%PDF")
    assert b"NotoSansCJK" in body or b"Noto" in body  # the font travels inside the file
