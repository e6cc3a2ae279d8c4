"""The stock movement report: reconciles with the ledger, and a closed period's never changes."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import text

from auth.caller import Caller
from auth.permissions import Role
from domain.reports.movements import MovementReportQuery, movement_report
from domain.reports.xlsx import render
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from domain.tenancy import service as tenancy
from tests.graphql.test_periods import CLOSE, SALE

HK = ZoneInfo("Asia/Hong_Kong")
ADJUST = (
    """mutation($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { code } } }"""
)


def day(offset: int) -> date:
    return datetime.now(HK).date() + timedelta(days=offset)


def noon(offset: int) -> datetime:
    return datetime.combine(day(offset), time(12), HK)


async def receipt(tenant, loc: str, sku: str, qty: int, cost: str, when: datetime | None) -> None:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        posting = Posting(
            location_id=tenant.locations[loc],
            product_id=tenant.products[sku],
            kind=MovementKind.RECEIPT,
            delta=qty,
            unit_cost=Decimal(cost),
            occurred_at=when,
        )
        await post(session, tenant.owner, [posting])


async def sale(gql, tenant, receipt_number: str, qty: int, when: datetime, price: str) -> None:
    variables = {
        "input": {
            "locationId": tenant.loc("S1"),
            "receiptNumber": receipt_number,
            "occurredAt": when.isoformat(),
            "lines": [{"sku": "A", "quantity": qty, "unitPrice": price}],
        }
    }
    assert (await gql.ok(SALE, tenant.owner, variables))["recordSale"]["userErrors"] == []


async def report(tenant, start: date, end: date):
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        return await movement_report(session, tenant.owner, MovementReportQuery(start, end))


async def levels_value(tenant) -> Decimal:
    async with tenant.db.owner_transaction() as session:
        return (
            await session.execute(
                text("SELECT COALESCE(SUM(stock_value), 0) FROM stock_levels WHERE tenant_id = :t"),
                {"t": tenant.tenant_id},
            )
        ).scalar_one()


async def test_a_closed_period_report_never_changes_and_totals_reconcile(gql, tenant):
    await receipt(tenant, "S1", "A", 10, "4.00", noon(-5))
    await receipt(tenant, "S1", "A", 10, "5.00", noon(-4))  # 20 units worth 90: average 4.5
    await sale(gql, tenant, "R-1", 2, noon(-3), "10.00")
    closed = await gql.ok(CLOSE, tenant.owner, {"input": {"through": day(-2).isoformat()}})
    assert closed["closePeriod"]["userErrors"] == []

    before = await report(tenant, day(-4), day(-2))
    (line,) = before.lines
    assert (line.opening.units, line.opening.value) == (10, Decimal("40.0000"))
    assert (line.receipts.units, line.receipts.value) == (10, Decimal("50.0000"))
    assert (line.sales.units, line.sales.value, line.revenue) == (
        -2,
        Decimal("-9.0000"),
        Decimal("20.00"),
    )
    assert (line.closing.units, line.closing.value) == (18, Decimal("81.0000"))
    frozen = before.data_bytes()

    # later: a receipt today, a late offline sale rung up inside the closed days, a loss
    await receipt(tenant, "S1", "A", 4, "6.00", None)
    await sale(gql, tenant, "OFFLINE-7", 1, noon(-3), "10.00")
    adjust = {"input": {"locationId": tenant.loc("S1"), "sku": "A", "delta": -1, "reason": "THEFT"}}
    assert (await gql.ok(ADJUST, tenant.owner, adjust))["adjustStock"]["userErrors"] == []

    after = await report(tenant, day(-4), day(-2))
    assert after.data_bytes() == frozen

    # up to today the report holds what the levels hold, to the cent
    today = await report(tenant, day(-30), day(0))
    (line,) = today.lines
    assert line.closing.units == 20
    assert line.adjustments["THEFT"].units == -1
    assert sum(ln.closing.value for ln in today.lines) == await levels_value(tenant)
    assert line.sales.units == -3  # the late sale counts in the open period


async def test_the_workbook_has_bilingual_headers_numbers_frozen_header_and_formula_totals(
    gql, tenant
):
    async with tenant.db.owner_transaction() as session:
        await tenancy.create_product(
            session,
            Caller.system(tenant.tenant_id),
            tenancy.NewProduct("EVIL", "=cmd|' /C calc'!A0", "=HYPERLINK(1)", category="X"),
        )
    await receipt(tenant, "S1", "A", 10, "4.00", noon(-1))
    await receipt(tenant, "S1", "B", 2, "9.50", noon(-1))
    await receipt(tenant, "S2", "A", 1, "4.00", noon(-1))
    async with tenant.db.owner_transaction() as session:
        evil = (
            await session.execute(
                text("SELECT id FROM products WHERE tenant_id = :t AND sku = 'EVIL'"),
                {"t": tenant.tenant_id},
            )
        ).scalar_one()
    tenant.products["EVIL"] = evil
    await receipt(tenant, "S1", "EVIL", 1, "1.00", noon(-1))

    workbook = render(await report(tenant, day(-1), day(0)))
    ws = openpyxl.load_workbook(io.BytesIO(workbook)).active
    assert ws.freeze_panes == "E2"
    assert ws["A1"].value == "地點\nLocation"
    assert ws["E1"].value == "期初數量\nOpening units"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    a_s1 = next(r for r in rows if r[0] == "S1" and r[1] == "A")
    assert a_s1[6] == 10 and a_s1[7] == 40  # receipts: units and cost, as numbers
    evil_row = next(r for r in rows if r[1] == "EVIL")
    assert evil_row[2].startswith("=cmd")
    assert ws.cell(row=rows.index(evil_row) + 2, column=3).data_type == "s"
    formulas = [
        r[6] for r in rows if isinstance(r[0], str) and r[0].startswith(("小計", "合計", "總計"))
    ]
    assert formulas and all(f.startswith("=SUBTOTAL(9,G") for f in formulas)
    assert rows[-1][0] == "總計 Grand total"


async def test_the_stocktake_record_lists_counts_differences_and_who_counted_and_approved(
    gql, tenant
):
    from domain.reports import stocktakes
    from tests.graphql.test_stocktakes import count, start, transition

    await receipt(tenant, "S1", "A", 10, "4.00", None)
    st = await start(gql, tenant, loc="S1")
    counter = tenant.staff(Role.STORE_MANAGER, ["S1"], staff_id=51)
    await count(gql, tenant, st["stocktake"]["id"], {"A": 8}, caller=counter)
    assert (await transition(gql, tenant, "post", st["stocktake"]["id"]))["userErrors"] == []

    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        record = await stocktakes.stocktake_record(session, tenant.owner, day(-1), day(0), None)
    (line,) = record.lines
    assert (line.expected_at_count, line.counted_quantity, line.variance) == (10, 8, -2)
    assert (line.counted_by, line.posted_by) == ("staff:51", "staff:999")
    assert line.variance_cost == Decimal("-8.00000000")

    ws = openpyxl.load_workbook(io.BytesIO(stocktakes.render_xlsx(record))).active
    assert ws["C1"].value == "點算人\nCounted by" and ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[0][2:4] == ("staff:51", "staff:999") and rows[0][9] == -2
    assert rows[-1][0] == "總計 Grand total" and rows[-1][9].startswith("=SUBTOTAL(9,J")
    body = stocktakes.render_pdf(record, "測試 Test")
    assert body.startswith(b"%PDF")


async def test_read_by_location_at_one_cut_is_the_whole_report(gql, tenant):
    """What a report job reads section by section is, byte for byte, the report of one
    instant: the same lines in the same order, and nothing committed after the cut."""
    from domain.reports import movements

    for loc, qty, cost in (("S1", 10, "4.00"), ("S2", 7, "5.50"), ("WH", 30, "3.25")):
        await receipt(tenant, loc, "A", qty, cost, noon(-3))
        await receipt(tenant, loc, "B", qty + 1, cost, noon(-2))
    await sale(gql, tenant, "R-9", 2, noon(-1), "10.00")
    query = MovementReportQuery(day(-10), day(0))
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        whole = await movement_report(session, tenant.owner, query)
        cut = await movements.sections(session, tenant.owner, query)
    assert len(cut.location_ids) == 3

    await receipt(tenant, "S2", "C", 5, "2.00", None)  # after the cut: not in the parts

    parts = []
    for index in range(len(cut.location_ids)):
        async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
            parts.append(await movement_report(session, tenant.owner, cut.part(query, index)))
    joined = movements.joined(query, whole.currency, parts)
    assert joined.data_bytes() == whole.data_bytes()
    assert [(ln.location, ln.sku) for ln in joined.lines] == [
        ("S1", "A"),
        ("S1", "B"),
        ("S2", "A"),
        ("S2", "B"),
        ("WH", "A"),
        ("WH", "B"),
    ]
