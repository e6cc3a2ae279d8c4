"""Closed periods: refused backdated movements, late sales kept, reopening by the owner."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from auth.permissions import Role
from domain.errors import PeriodClosed
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from tests.helpers import ledger_mismatches

HK = ZoneInfo("Asia/Hong_Kong")
FIELDS = """period { id through status closedBy reopenedBy reopenReason location { code } }
  userErrors { code field message }"""
CLOSE = f"""mutation($input: ClosePeriodInput!) {{ closePeriod(input: $input) {{ {FIELDS} }} }}"""
REOPEN = (
    f"""mutation($input: ReopenPeriodInput!) {{ reopenPeriod(input: $input) {{ {FIELDS} }} }}"""
)
PERIODS = """{ periods(first: 10) { edges { node { id through status } } } }"""
NODE = """query($id: ID!) { node(id: $id) { ... on Period { through } } }"""
SALE = """mutation($input: RecordSaleInput!) {
  recordSale(input: $input) { movements { kind delta occurredAt } userErrors { code } } }"""


def today() -> datetime:
    return datetime.now(HK)


def day(offset: int) -> str:
    return (today().date() + timedelta(days=offset)).isoformat()


def at_noon(offset: int) -> datetime:
    return datetime.combine(today().date() + timedelta(days=offset), time(12), HK)


async def close(gql, caller, through: str, loc: str | None = None, tenant=None) -> dict:
    variables = {"input": {"through": through, "locationId": tenant.loc(loc) if loc else None}}
    return (await gql.ok(CLOSE, caller, variables))["closePeriod"]


async def backdated_receipt(tenant, loc: str, when: datetime, qty: int = 1) -> None:
    """A receipt with a date of its own, straight through the ledger (as imports post)."""
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        posting = Posting(
            location_id=tenant.locations[loc],
            product_id=tenant.products["A"],
            kind=MovementKind.RECEIPT,
            delta=qty,
            occurred_at=when,
        )
        await post(session, tenant.owner, [posting])


async def sale_posted_on(tenant, receipt: str):
    async with tenant.db.owner_transaction() as session:
        return (
            await session.execute(
                text("SELECT posted_on FROM sales WHERE tenant_id = :t AND receipt_number = :r"),
                {"t": tenant.tenant_id, "r": receipt},
            )
        ).scalar_one()


async def test_closed_days_refuse_dated_movements_and_take_late_sales_on_the_first_open_day(
    gql, tenant
):
    await backdated_receipt(tenant, "S1", at_noon(-3), 5)
    closed = await close(gql, tenant.owner, day(-2), tenant=tenant)
    assert closed["userErrors"] == []
    assert closed["period"]["through"] == day(-2)
    assert closed["period"]["status"] == "CLOSED" and closed["period"]["location"] is None

    with pytest.raises(PeriodClosed):
        await backdated_receipt(tenant, "S1", at_noon(-2))
    await backdated_receipt(tenant, "S1", at_noon(-1))  # the day after the close is open

    # an offline till's sale from inside the closed period is kept, flagged, dated as rung up
    rung_up = at_noon(-3)
    variables = {
        "input": {
            "locationId": tenant.loc("S1"),
            "receiptNumber": "OFFLINE-1",
            "occurredAt": rung_up.isoformat(),
            "lines": [{"sku": "A", "quantity": 2}],
        }
    }
    sale = (await gql.ok(SALE, tenant.owner, variables))["recordSale"]
    assert sale["userErrors"] == []
    assert datetime.fromisoformat(sale["movements"][0]["occurredAt"]) == rung_up
    assert (await sale_posted_on(tenant, "OFFLINE-1")).isoformat() == day(-1)
    variables["input"]["receiptNumber"] = "ONLINE-1"
    variables["input"]["occurredAt"] = at_noon(-1).isoformat()
    await gql.ok(SALE, tenant.owner, variables)
    assert await sale_posted_on(tenant, "ONLINE-1") is None
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_a_close_of_one_location_leaves_the_others_open(gql, tenant):
    assert (await close(gql, tenant.owner, day(-1), "S1", tenant))["userErrors"] == []
    with pytest.raises(PeriodClosed):
        await backdated_receipt(tenant, "S1", at_noon(-1))
    await backdated_receipt(tenant, "S2", at_noon(-1))


async def test_who_may_close_and_reopen_and_what_is_refused(gql, tenant):
    manager = tenant.staff(Role.STORE_MANAGER, ["S1"], staff_id=31)
    refused = await close(gql, manager, day(-1), tenant=tenant)
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    for through in (day(0), day(3)):
        refused = await close(gql, tenant.owner, through, tenant=tenant)
        assert refused["userErrors"][0]["code"] == "INVALID"
        assert refused["userErrors"][0]["field"] == ["through"]

    closed = (await close(gql, tenant.owner, day(-1), tenant=tenant))["period"]
    reopen = {"input": {"id": closed["id"], "reason": "late supplier invoice"}}
    for caller in (
        tenant.staff(Role.REGIONAL_MANAGER, staff_id=32),
        tenant.app("stock:read stock:write admin"),
    ):
        refused = (await gql.ok(REOPEN, caller, reopen))["reopenPeriod"]
        assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    with pytest.raises(PeriodClosed):
        await backdated_receipt(tenant, "S1", at_noon(-1))

    no_reason = {"input": {"id": closed["id"], "reason": "  "}}
    assert (await gql.ok(REOPEN, tenant.owner, no_reason))["reopenPeriod"]["userErrors"][0][
        "code"
    ] == "INVALID"
    reopened = (await gql.ok(REOPEN, tenant.owner, reopen))["reopenPeriod"]
    assert reopened["userErrors"] == []
    assert reopened["period"]["status"] == "REOPENED"
    assert reopened["period"]["reopenedBy"] == "staff:999"
    assert reopened["period"]["reopenReason"] == "late supplier invoice"
    await backdated_receipt(tenant, "S1", at_noon(-1))
    again = (await gql.ok(REOPEN, tenant.owner, reopen))["reopenPeriod"]
    assert again["userErrors"][0]["code"] == "INVALID_TRANSITION"

    async with tenant.db.owner_transaction() as session:
        actions = [
            (r.action, r.outcome)
            for r in await session.execute(
                text(
                    "SELECT action, outcome FROM audit_events WHERE tenant_id = :t "
                    "AND action LIKE 'period.%' ORDER BY sequence"
                ),
                {"t": tenant.tenant_id},
            )
        ]
    assert ("period.close", "success") in actions
    assert ("period.reopen", "success") in actions
    assert ("period.reopen", "denied") in actions or ("period.reopen", "failed") in actions


async def test_periods_are_isolated_between_tenants(gql, tenant, other_tenant):
    mine = (await close(gql, tenant.owner, day(-5), tenant=tenant))["period"]
    theirs = (await close(gql, other_tenant.owner, day(-1), tenant=other_tenant))["period"]
    listed = (await gql.ok(PERIODS, tenant.owner))["periods"]["edges"]
    assert [e["node"]["id"] for e in listed] == [mine["id"]]
    assert (await gql.ok(NODE, tenant.owner, {"id": theirs["id"]}))["node"] is None
    assert (await gql.ok(NODE, tenant.owner, {"id": mine["id"]}))["node"] == {"through": day(-5)}
    foreign = {"input": {"id": theirs["id"], "reason": "x"}}
    assert (await gql.ok(REOPEN, tenant.owner, foreign))["reopenPeriod"]["userErrors"][0][
        "code"
    ] == "NOT_FOUND"
    # and the other tenant's close does not close this tenant's days
    await backdated_receipt(tenant, "S1", at_noon(-3))
    refused = await close(gql, tenant.owner, day(-1), "S1", tenant=other_tenant)
    assert refused["userErrors"][0]["code"] == "NOT_FOUND"


async def test_a_close_racing_dated_postings_lets_none_in_after_it(gql, tenant):
    """Every movement dated in the closed days was recorded before the close."""

    gate = asyncio.Semaphore(4)  # a few connections: the server is shared

    async def one(i: int) -> bool:
        async with gate:
            try:
                await backdated_receipt(tenant, "S1" if i % 2 else "S2", at_noon(-2))
                return True
            except PeriodClosed:
                return False

    async def closing() -> None:
        await asyncio.sleep(0.02 * 5)
        await close(gql, tenant.owner, day(-1), tenant=tenant)

    results = await asyncio.gather(*(one(i) for i in range(40)), closing())
    posted = sum(1 for r in results[:40] if r)
    async with tenant.db.owner_transaction() as session:
        closed_at = (
            await session.execute(
                text("SELECT closed_at FROM period_closes WHERE tenant_id = :t"),
                {"t": tenant.tenant_id},
            )
        ).scalar_one()
        rows = (
            await session.execute(
                text("SELECT recorded_at FROM stock_movements WHERE tenant_id = :t"),
                {"t": tenant.tenant_id},
            )
        ).all()
    assert len(rows) == posted
    assert all(r.recorded_at < closed_at for r in rows)
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_a_late_sale_shows_its_posted_day_on_the_member_purchase(gql, tenant):
    from tests.graphql.test_members import CREATE

    member = (await gql.ok(CREATE, tenant.owner, {"input": {"name": "陳大文"}}))["createMember"]
    assert (await close(gql, tenant.owner, day(-2), tenant=tenant))["userErrors"] == []
    variables = {
        "input": {
            "locationId": tenant.loc("S1"),
            "receiptNumber": "OFFLINE-9",
            "occurredAt": at_noon(-3).isoformat(),
            "memberId": member["member"]["id"],
            "lines": [{"sku": "A", "quantity": 1}],
        }
    }
    assert (await gql.ok(SALE, tenant.owner, variables))["recordSale"]["userErrors"] == []
    query = """query($id: ID!) { member(id: $id) { purchases(first: 5) {
      edges { node { receiptNumber occurredAt postedOn } } } } }"""
    data = await gql.ok(query, tenant.owner, {"id": member["member"]["id"]})
    (sale,) = [e["node"] for e in data["member"]["purchases"]["edges"]]
    assert sale["postedOn"] == day(-1)
    assert datetime.fromisoformat(sale["occurredAt"]) == at_noon(-3)
