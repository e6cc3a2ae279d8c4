"""createImport over real HTTP: a multipart upload, the job, and importJob; tenants apart."""

from __future__ import annotations

import io
import json

import httpx
import openpyxl

from tests.api.conftest import app_token, new_client

CREATE = """mutation($input: CreateImportInput!) { createImport(input: $input) {
  importJob { id status dryRun replayed encoding headerRow rowsTotal rowsWritten errorCount
              errors { row column code value } }
  userErrors { code field message } } }"""
JOB = """query($id: ID!) { importJob(id: $id) { status rowsWritten } }"""
NODE = """query($id: ID!) { node(id: $id) { ... on ImportJob { status } } }"""
BODY = "SKU,中文名稱,English Name,售價\nU-1,菠蘿包,Pineapple bun,9.5\nU-2,蛋撻,Egg tart,abc\n"


async def upload(server, token: str, data: bytes, name: str = "products.csv", **input) -> dict:
    operations = {"query": CREATE, "variables": {"input": {**input, "file": None}}}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        response = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": (name, data, "application/octet-stream")},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["createImport"]


async def query(server, token: str, document: str, variables: dict) -> dict:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": document, "variables": variables},
        )
    return response.json()


async def test_upload_dry_run_then_valid_rows_and_the_job_stays_in_its_tenant(
    server, tenant, other_tenant
):
    token = await app_token(server, await new_client(tenant, "stock:read admin"))
    data = BODY.encode("big5")
    dry = await upload(server, token, data, kind="PRODUCTS", dryRun=True)
    assert dry["userErrors"] == []
    job = dry["importJob"]
    assert (job["status"], job["encoding"], job["rowsTotal"], job["errorCount"]) == (
        "VALIDATED",
        "big5",
        2,
        1,
    )
    assert job["errors"] == [{"row": 3, "column": "售價", "code": "NOT_A_NUMBER", "value": "abc"}]

    done = (await upload(server, token, data, kind="PRODUCTS", validOnly=True))["importJob"]
    assert (done["status"], done["rowsWritten"]) == ("COMMITTED", 1)
    fetched = await query(server, token, JOB, {"id": done["id"]})
    assert fetched["data"]["importJob"] == {"status": "COMMITTED", "rowsWritten": 1}

    others = await app_token(server, await new_client(other_tenant, "stock:read admin"))
    assert (await query(server, others, JOB, {"id": done["id"]}))["data"]["importJob"] is None
    assert (await query(server, others, NODE, {"id": done["id"]}))["data"]["node"] is None

    plain = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    refused = await upload(server, plain, data, kind="PRODUCTS")
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"


SUPPLIERS_QUERY = """query { suppliers(first: 10) { edges { node {
  code nameZh nameEn currency leadTimeDays orderDays minOrderValue { amount currency } } } } }"""


async def test_suppliers_from_xlsx_over_graphql(server, tenant):
    token = await app_token(
        server, await new_client(tenant, "stock:read stock:write costs:read admin")
    )
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["供應商清單"])
    ws.append(["供應商編號", "供應商名稱", "英文名稱", "貨幣", "交貨期", "訂貨日", "最低訂貨額"])
    ws.append(["X-1", "大昌食品", "Dah Chong Foods", "HKD", 3, "星期二、星期四", 800])
    ws.append(["X-2", "澳門糧油", "Macau Grain", "MOP", "", "", ""])
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()

    dry = await upload(server, token, data, "suppliers.xlsx", kind="SUPPLIERS", dryRun=True)
    assert (dry["importJob"]["status"], dry["importJob"]["rowsTotal"]) == ("VALIDATED", 2)
    assert dry["importJob"]["headerRow"] == 2
    done = (await upload(server, token, data, "suppliers.xlsx", kind="SUPPLIERS"))["importJob"]
    assert (done["status"], done["rowsWritten"], done["errorCount"]) == ("COMMITTED", 2, 0)
    listed = await query(server, token, SUPPLIERS_QUERY, {})
    nodes = sorted(
        (e["node"] for e in listed["data"]["suppliers"]["edges"]), key=lambda n: n["code"]
    )
    assert nodes == [
        {
            "code": "X-1",
            "nameZh": "大昌食品",
            "nameEn": "Dah Chong Foods",
            "currency": "HKD",
            "leadTimeDays": 3,
            "orderDays": ["TUESDAY", "THURSDAY"],
            "minOrderValue": {"amount": "800.00", "currency": "HKD"},
        },
        {
            "code": "X-2",
            "nameZh": "澳門糧油",
            "nameEn": "Macau Grain",
            "currency": "MOP",
            "leadTimeDays": 2,
            "orderDays": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
            "minOrderValue": {"amount": "0.00", "currency": "MOP"},
        },
    ]


async def test_large_uploads_only_for_a_verified_caller_and_only_as_files(server, tenant):
    """A file past the 1 MB body limit uploads with a token; nothing else gets that far."""
    token = await app_token(server, await new_client(tenant, "stock:read admin"))
    rows = "".join(f"L{i:06d},貨品{i},Item {i},{i % 9 + 1}\n" for i in range(70_000))
    data = ("SKU,中文名稱,English Name,售價\n" + rows).encode("big5")
    assert len(data) > 2_000_000
    dry = (await upload(server, token, data, kind="PRODUCTS", dryRun=True))["importJob"]
    assert (dry["status"], dry["rowsTotal"], dry["errorCount"]) == ("VALIDATED", 70_000, 0)

    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        anonymous = await client.post(
            "/graphql",
            data={"operations": "{}", "map": "{}"},
            files={"0": ("products.csv", data, "text/csv")},
        )
        assert anonymous.status_code == 413
        forged = await client.post(
            "/graphql",
            headers={"Authorization": "Bearer not-a-token"},
            data={"operations": "{}", "map": "{}"},
            files={"0": ("products.csv", data, "text/csv")},
        )
        assert forged.status_code == 413
        as_json = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            content=b"x" * 2_000_000,
        )
        assert as_json.status_code == 413
