"""createImport over real HTTP: a multipart upload, the job, and importJob; tenants apart."""

from __future__ import annotations

import json

import httpx

from tests.api.conftest import app_token, new_client

CREATE = """mutation($input: CreateImportInput!) { createImport(input: $input) {
  importJob { id status dryRun replayed encoding headerRow rowsTotal rowsWritten errorCount
              errors { row column code value } }
  userErrors { code field message } } }"""
JOB = """query($id: ID!) { importJob(id: $id) { status rowsWritten } }"""
NODE = """query($id: ID!) { node(id: $id) { ... on ImportJob { status } } }"""
BODY = "SKU,中文名稱,English Name,售價\nU-1,菠蘿包,Pineapple bun,9.5\nU-2,蛋撻,Egg tart,abc\n"


async def upload(server, token: str, data: bytes, **input) -> dict:
    operations = {"query": CREATE, "variables": {"input": {**input, "file": None}}}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        response = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": ("products.csv", data, "text/csv")},
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
