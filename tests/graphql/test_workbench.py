"""workbench(locationId): low stock, recent oversells, counts due, transfers, approvals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from auth.permissions import Role
from tests.graphql.test_stocktakes import count, receive, sell, start, transition

WORKBENCH = """
query($l: ID!) {
  workbench(locationId: $l) {
    location { code }
    lowStock { onHand reorderPoint product { sku } }
    recentOversells { kind delta oversell reference }
    countsDue { category intervalDays dueCount nextDueAt dueProducts { sku } }
    openStocktakes { id status }
    transfersArriving { id status }
    transfersLeaving { id status }
    approvalsWaiting { id nextRank transfer { id } }
  }
}"""

SET_POINT = """
mutation($input: SetReorderPointInput!) {
  setReorderPoint(input: $input) { userErrors { code } } }"""
OLD_SALE = """
mutation($input: RecordSaleInput!) {
  recordSale(input: $input) { userErrors { code } } }"""
SCHEDULE = """
mutation($input: SetCycleCountScheduleInput!) {
  setCycleCountSchedule(input: $input) {
    schedule { rules { category intervalDays } countsDue { dueCount } }
    userErrors { code field }
  }
}"""


async def _transfer(session, tenant, status: str, src: str, dst: str) -> int:
    return (
        await session.execute(
            text(
                "INSERT INTO transfers (tenant_id, status, from_location_id, to_location_id, "
                "created_by, version, updated_at) VALUES (:t, :s, :f, :d, 'test', 0, now()) "
                "RETURNING id"
            ),
            {
                "t": tenant.tenant_id,
                "s": status,
                "f": tenant.locations[src],
                "d": tenant.locations[dst],
            },
        )
    ).scalar_one()


async def _approval(session, tenant, transfer_id: int, next_rank: str) -> int:
    return (
        await session.execute(
            text(
                "INSERT INTO approval_requests (tenant_id, subject_type, subject_id, status, "
                "required_rank, next_rank, units, requested_by) "
                "VALUES (:t, 'TRANSFER', :x, 'PENDING', 'OWNER', :r, 5, 'test') RETURNING id"
            ),
            {"t": tenant.tenant_id, "x": transfer_id, "r": next_rank},
        )
    ).scalar_one()


async def test_workbench_sections(gql, tenant, other_tenant):
    owner = tenant.owner
    await receive(gql, tenant, "S1", {"A": 3, "B": 10})
    for sku, point in (("A", 5), ("B", 2)):
        data = await gql.ok(
            SET_POINT,
            owner,
            {"input": {"locationId": tenant.loc("S1"), "sku": sku, "reorderPoint": point}},
        )
        assert data["setReorderPoint"]["userErrors"] == []
    await sell(gql, tenant, "S1", "OV-1", "C", 2)  # oversell now
    await sell(gql, tenant, "S2", "OV-2", "C", 1)  # another location
    old = await gql.ok(
        OLD_SALE,
        owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "receiptNumber": "OV-OLD",
                "occurredAt": (datetime.now(UTC) - timedelta(days=8)).isoformat(),
                "lines": [{"sku": "C", "quantity": 1}],
            }
        },
    )
    assert old["recordSale"]["userErrors"] == []
    schedule = await gql.ok(
        SCHEDULE,
        owner,
        {"input": {"locationId": tenant.loc("S1"), "rules": [{"intervalDays": 30}]}},
    )
    assert schedule["setCycleCountSchedule"]["schedule"] == {
        "rules": [{"category": None, "intervalDays": 30}],
        "countsDue": [{"dueCount": 3}],
    }
    async with tenant.db.owner_transaction() as session:
        arriving = await _transfer(session, tenant, "IN_TRANSIT", "S2", "S1")
        leaving = await _transfer(session, tenant, "REQUESTED", "S1", "WH")
        await _transfer(session, tenant, "RECEIVED", "S2", "S1")
        elsewhere = await _transfer(session, tenant, "REQUESTED", "WH", "S2")
        for_rm = await _approval(session, tenant, leaving, "REGIONAL_MANAGER")
        for_owner = await _approval(session, tenant, arriving, "OWNER")
        await _approval(session, tenant, elsewhere, "REGIONAL_MANAGER")

    data = (await gql.ok(WORKBENCH, owner, {"l": tenant.loc("S1")}))["workbench"]
    assert data["location"] == {"code": "S1"}
    assert data["lowStock"] == [{"onHand": 3, "reorderPoint": 5, "product": {"sku": "A"}}]
    assert data["recentOversells"] == [
        {"kind": "SALE", "delta": -2, "oversell": True, "reference": "OV-1"}
    ]
    due = data["countsDue"]
    assert [(d["category"], d["intervalDays"], d["dueCount"]) for d in due] == [(None, 30, 3)]
    assert sorted(p["sku"] for p in due[0]["dueProducts"]) == ["A", "B", "C"]
    assert data["openStocktakes"] == []
    gid = tenant.gid
    assert data["transfersArriving"] == [{"id": gid("Transfer", arriving), "status": "IN_TRANSIT"}]
    assert data["transfersLeaving"] == [{"id": gid("Transfer", leaving), "status": "REQUESTED"}]
    assert [a["id"] for a in data["approvalsWaiting"]] == [
        gid("ApprovalRequest", for_rm),
        gid("ApprovalRequest", for_owner),
    ]

    # A regional manager decides only the step waiting for their rank; a store manager none.
    rm = tenant.staff(Role.REGIONAL_MANAGER, staff_id=31)
    seen = (await gql.ok(WORKBENCH, rm, {"l": tenant.loc("S1")}))["workbench"]
    assert [a["id"] for a in seen["approvalsWaiting"]] == [gid("ApprovalRequest", for_rm)]
    manager = tenant.staff(Role.STORE_MANAGER, ["S1"], staff_id=32)
    seen = (await gql.ok(WORKBENCH, manager, {"l": tenant.loc("S1")}))["workbench"]
    assert seen["approvalsWaiting"] == []
    assert len(seen["transfersArriving"]) == 1

    # Counting A and posting takes it off the due list; the open count shows meanwhile.
    sid = (await start(gql, tenant, kind="CYCLE", skus=["A"]))["stocktake"]["id"]
    mid = (await gql.ok(WORKBENCH, owner, {"l": tenant.loc("S1")}))["workbench"]
    assert mid["openStocktakes"] == [{"id": sid, "status": "OPEN"}]
    await count(gql, tenant, sid, {"A": 3})
    await transition(gql, tenant, "post", sid)
    after = (await gql.ok(WORKBENCH, owner, {"l": tenant.loc("S1")}))["workbench"]
    assert after["countsDue"][0]["dueCount"] == 2
    assert after["openStocktakes"] == []

    # Without transfers:read the transfer sections are null with FORBIDDEN, the rest is served.
    app = tenant.app(scopes="stock:read")
    partial = await gql(WORKBENCH, app, {"l": tenant.loc("S1")})
    assert partial.data["workbench"]["transfersArriving"] is None
    assert partial.data["workbench"]["lowStock"] != []
    assert {e.extensions["code"] for e in partial.errors} == {"FORBIDDEN"}

    # Another tenant's location is simply not there.
    foreign = await gql.ok(WORKBENCH, owner, {"l": other_tenant.loc("S1")})
    assert foreign["workbench"] is None


async def test_schedule_rules_are_validated_and_location_scoped(gql, tenant):
    clerk = tenant.staff(Role.CLERK, ["S1"], staff_id=41)
    refused = await gql.ok(
        SCHEDULE, clerk, {"input": {"locationId": tenant.loc("S2"), "rules": [{"intervalDays": 7}]}}
    )
    assert refused["setCycleCountSchedule"]["userErrors"][0]["code"] == "FORBIDDEN"
    bad = await gql.ok(
        SCHEDULE, clerk, {"input": {"locationId": tenant.loc("S1"), "rules": [{"intervalDays": 0}]}}
    )
    assert bad["setCycleCountSchedule"]["userErrors"] == [
        {"code": "INVALID", "field": ["rules", "0", "intervalDays"]}
    ]
    ok = await gql.ok(
        SCHEDULE,
        clerk,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "rules": [{"category": "drinks", "intervalDays": 7}, {"intervalDays": 90}],
            }
        },
    )
    assert ok["setCycleCountSchedule"]["schedule"]["rules"] == [
        {"category": None, "intervalDays": 90},
        {"category": "drinks", "intervalDays": 7},
    ]
    replaced = await gql.ok(
        SCHEDULE, clerk, {"input": {"locationId": tenant.loc("S1"), "rules": []}}
    )
    assert replaced["setCycleCountSchedule"]["schedule"]["rules"] == []
