"""Settlement reconciliation over GraphQL, against sales synced by a till."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from auth.permissions import Role
from tests.graphql.pos_ops import RETURN, VOID, register, sale, sync
from tests.helpers import count_rows

HK = ZoneInfo("Asia/Hong_Kong")
IMPORT = """mutation($input: ImportSettlementInput!) { importSettlement(input: $input) {
  created run { id status fileHash periodStart periodEnd rows
    counts { status count }
    totals { businessDate method gross fee net rows location { code } } }
  userErrors { code field message } } }"""
RUNS = """{ reconciliationRuns(first: 10) { edges { node { id status supersededBy { id } } } } }"""
LINES = """query($run: ID!, $status: ReconciliationStatus) {
  reconciliationLines(runId: $run, status: $status, first: 50) {
    edges { node { id status providerReference lineNumber posAmount settledAmount fee net
                   location { code } } } } }"""
UNRECONCILED = """{ unreconciled(first: 50) { edges { node { status providerReference } } } }"""
WORKBENCH = """query($loc: ID!) { workbench(locationId: $loc) {
  unreconciled { status providerReference } } }"""
EXPORT = """query($run: ID!) { reconciliationExport(runId: $run) { fileName contentBase64 } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
HEADER = (
    "Partner_transaction_id,Transaction_id,Amount,Fee,Settlement,Currency,Payment_time,"
    "Settlement_time,Type,Status,Remarks,original_partner_transaction_ID\n"
)


def _row(ref: str, amount: str, when: datetime, kind: str = "PAYMENT", original: str = "") -> str:
    fee = f"{float(amount) * 0.009:.2f}"
    net = f"{float(amount) - float(fee):.2f}"
    if kind != "PAYMENT":
        fee, net = f"-{fee}", f"-{net}"
    stamp = when.astimezone(HK).strftime("%m/%d/%Y %H:%M:%S")
    return f"{ref},T{ref},{amount},{fee},{net},HKD,{stamp},{stamp},{kind},SUCCESS,,{original}\n"


async def _setup(gql, tenant):
    device, till = await register(gql, tenant)
    when = datetime(2026, 12, 5, 11, 0, tzinfo=HK)
    sales = [
        sale("A", 1, "10.00", method="ALIPAYHK", reference="AP-1", when=when),
        sale("B", 1, "20.00", method="ALIPAYHK", reference="AP-2", when=when),
        sale("C", 2, "5.50", method="ALIPAYHK", reference="AP-3", when=when),
        sale("A", 1, "10.00", method="ALIPAYHK", reference="AP-4", when=when),
    ]
    result = await sync(gql, till, device["id"], sales)
    assert result["accepted"] == 4
    return till, sales, when


async def _import(gql, caller, content: str, name: str = "alipay.csv") -> dict:
    data = await gql.ok(
        IMPORT,
        caller,
        {"input": {"format": "ALIPAYHK", "fileName": name, "content": content}},
    )
    return data["importSettlement"]


async def test_import_match_and_idempotency(gql, db, tenant):
    till, sales, when = await _setup(gql, tenant)
    content = (
        HEADER
        + _row("AP-1", "10.00", when)
        + _row("AP-2", "25.00", when)  # settled 25, the till said 20
        + _row("AP-2", "25.00", when)  # the file repeats it
        + _row("AP-9", "99.00", when)  # no till knows it
    )  # AP-3 and AP-4 never settled
    first = await _import(gql, tenant.owner, content)
    assert first["userErrors"] == [] and first["created"] is True
    run = first["run"]
    counts = {c["status"]: c["count"] for c in run["counts"]}
    assert counts == {
        "MATCHED": 1,
        "AMOUNT_MISMATCH": 1,
        "DUPLICATE": 1,
        "MISSING_IN_POS": 1,
        "MISSING_IN_SETTLEMENT": 2,
    }
    assert run["periodStart"] == run["periodEnd"] == "2026-12-05"
    by_loc = {(t["location"] or {}).get("code"): t for t in run["totals"]}
    assert by_loc["S1"]["gross"] == "35.00" and by_loc["S1"]["rows"] == 2
    assert by_loc["S1"]["fee"] == "0.31" and by_loc["S1"]["net"] == "34.69"
    assert by_loc[None]["gross"] == "99.00"
    again = await _import(gql, tenant.owner, content, "renamed.csv")
    assert again["created"] is False and again["run"]["id"] == run["id"]
    assert await count_rows(db, "reconciliation_runs", tenant.tenant_id) == 1
    missing = await gql.ok(
        LINES, tenant.owner, {"run": run["id"], "status": "MISSING_IN_SETTLEMENT"}
    )
    refs = sorted(e["node"]["providerReference"] for e in missing["reconciliationLines"]["edges"])
    assert refs == ["AP-3", "AP-4"]
    mismatch = await gql.ok(LINES, tenant.owner, {"run": run["id"], "status": "AMOUNT_MISMATCH"})
    node = mismatch["reconciliationLines"]["edges"][0]["node"]
    assert (node["posAmount"], node["settledAmount"], node["lineNumber"]) == ("20.00", "25.00", 3)
    assert node["location"] == {"code": "S1"}
    # A settled sale can no longer be voided; an unsettled one can.
    for client, codes in (
        (sales[0]["clientSaleId"], ["INVALID_TRANSITION"]),
        (sales[2]["clientSaleId"], []),
    ):
        void = {"clientVoidId": str(uuid.uuid4()), "clientSaleId": client, "reason": "mistake"}
        got = (await gql.ok(VOID, till, {"input": void}))["voidSale"]["userErrors"]
        assert [e["code"] for e in got] == codes
    workbench = await gql.ok(UNRECONCILED, tenant.owner)
    assert len(workbench["unreconciled"]["edges"]) == 5
    # A corrected file after the void: the voided sale is not missing from it.
    corrected = (await _import(gql, tenant.owner, content + _row("AP-4", "10.00", when)))["run"]
    counts = {c["status"]: c["count"] for c in corrected["counts"]}
    assert counts["MISSING_IN_SETTLEMENT"] == 0 and counts["MATCHED"] == 2
    store = await gql.ok(WORKBENCH, tenant.owner, {"loc": tenant.loc("S1")})
    statuses = sorted(line["status"] for line in store["workbench"]["unreconciled"])
    assert statuses == ["AMOUNT_MISMATCH"]


async def test_refund_and_corrected_file_supersedes(gql, db, tenant):
    till, sales, when = await _setup(gql, tenant)
    ret = {
        "clientReturnId": str(uuid.uuid4()),
        "clientSaleId": sales[1]["clientSaleId"],
        "lines": [{"sku": "B", "quantity": 1}],
        "refunds": [{"method": "ALIPAYHK", "amount": "20.00"}],
        "reason": "faulty",
        "occurredAt": when.replace(hour=15).isoformat(),
    }

    assert (await gql.ok(RETURN, till, {"input": ret}))["recordReturn"]["status"] == "ACCEPTED"
    body = "".join(_row(f"AP-{i}", a, when) for i, a in ((1, "10.00"), (2, "20.00"), (3, "11.00")))
    wrong = HEADER + body
    first = (await _import(gql, tenant.owner, wrong))["run"]
    counts = {c["status"]: c["count"] for c in first["counts"]}
    assert counts["MATCHED"] == 3 and counts["MISSING_IN_SETTLEMENT"] == 2  # AP-4, the refund
    corrected = wrong + _row("AP-4", "10.00", when) + _row("AP-2R", "20.00", when, "REFUND", "AP-2")
    second = (await _import(gql, tenant.owner, corrected, "alipay-corrected.csv"))["run"]
    counts = {c["status"]: c["count"] for c in second["counts"]}
    assert counts["MATCHED"] == 5 and counts["MISSING_IN_SETTLEMENT"] == 0
    runs = (await gql.ok(RUNS, tenant.owner))["reconciliationRuns"]["edges"]
    assert [(r["node"]["id"], r["node"]["status"]) for r in runs] == [
        (second["id"], "CURRENT"),
        (first["id"], "SUPERSEDED"),
    ]
    assert runs[1]["node"]["supersededBy"] == {"id": second["id"]}
    assert (await gql.ok(UNRECONCILED, tenant.owner))["unreconciled"]["edges"] == []


async def test_malformed_file_imports_nothing(gql, db, tenant):
    await _setup(gql, tenant)
    bad = HEADER + _row("AP-1", "10.00", datetime(2026, 12, 5, tzinfo=HK)).replace(
        "12/05/2026", "2026-12-05", 1
    )
    result = await _import(gql, tenant.owner, bad)
    assert result["run"] is None
    [error] = result["userErrors"]
    assert error["code"] == "INVALID" and error["field"] == ["content"]
    assert error["message"].startswith("line 2, column Payment_time:")
    big5 = base64.b64encode(
        (HEADER + "AP-1,T,10.00,0.09,9.91,HKD,x,x,PAYMENT,成功,,\n").encode("big5")
    )
    result = (
        await gql.ok(
            IMPORT,
            tenant.owner,
            {"input": {"format": "ALIPAYHK", "fileName": "b.csv", "contentBase64": big5.decode()}},
        )
    )["importSettlement"]
    assert result["userErrors"][0]["message"].startswith("line 2, column Status:")
    assert await count_rows(db, "reconciliation_runs", tenant.tenant_id) == 0
    assert await count_rows(db, "reconciliation_lines", tenant.tenant_id) == 0


async def test_permissions_isolation_and_export(gql, tenant, other_tenant):
    _, _, when = await _setup(gql, tenant)
    clerk = tenant.staff(Role.CLERK, ["S1"])
    denied = await _import(gql, clerk, HEADER + _row("AP-1", "10.00", when))
    assert [e["code"] for e in denied["userErrors"]] == ["FORBIDDEN"]
    run = (await _import(gql, tenant.owner, HEADER + _row("AP-1", "10.00", when)))["run"]
    lines = await gql.ok(LINES, tenant.owner, {"run": run["id"], "status": None})
    line_id = lines["reconciliationLines"]["edges"][0]["node"]["id"]
    for gid in (run["id"], line_id):
        assert (await gql.ok(NODE, tenant.owner, {"id": gid}))["node"] == {"id": gid}
        assert (await gql.ok(NODE, other_tenant.owner, {"id": gid}))["node"] is None
    theirs = await gql.ok(LINES, other_tenant.owner, {"run": run["id"], "status": None})
    assert theirs["reconciliationLines"]["edges"] == []
    assert (await gql.ok(RUNS, other_tenant.owner))["reconciliationRuns"]["edges"] == []
    assert (await gql.ok(UNRECONCILED, other_tenant.owner))["unreconciled"]["edges"] == []
    assert (await gql.ok(EXPORT, other_tenant.owner, {"run": run["id"]}))[
        "reconciliationExport"
    ] is None
    exported = (await gql.ok(EXPORT, tenant.owner, {"run": run["id"]}))["reconciliationExport"]
    book = load_workbook(io.BytesIO(base64.b64decode(exported["contentBase64"])))
    sheet = book["Lines 明細"]
    headers = [c.value for c in sheet[1]]
    assert headers[0] == "狀態 Status" and "結算金額 Settled amount" in headers
    statuses = sorted(row[0].value for row in sheet.iter_rows(min_row=2))
    assert statuses == [
        "MATCHED",
        "MISSING_IN_SETTLEMENT",
        "MISSING_IN_SETTLEMENT",
        "MISSING_IN_SETTLEMENT",
    ]
    totals = book["Totals 匯總"]
    assert totals["A1"].value == "營業日 Business date"
    assert totals["D2"].value == 10
