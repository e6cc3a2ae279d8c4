"""Transfers through the real schema: states, ranks, receipts, approvals, isolation."""

from __future__ import annotations

import pytest

from auth.permissions import Role
from domain import ids
from tests.graphql.transfer_ops import call, lines, ok, stock
from tests.helpers import assert_conserved, count_rows

LEVEL = """query($loc: ID!, $sku: String!) { stockLevel(locationId: $loc, sku: $sku) {
  onHand inTransit } }"""


async def level(gql, tenant, loc: str, sku: str) -> tuple[int, int]:
    data = await gql.ok(LEVEL, tenant.owner, {"loc": tenant.loc(loc), "sku": sku})
    lv = data["stockLevel"]
    return (lv["onHand"], lv["inTransit"]) if lv else (0, 0)


async def new_transfer(gql, tenant, status: str, **qty: int) -> str:
    """A transfer S1 → S2 brought to ``status`` by the owner."""
    owner = tenant.owner
    qty = qty or {"A": 2}
    t = await ok(
        gql,
        owner,
        "createTransfer",
        fromLocationId=tenant.loc("S1"),
        toLocationId=tenant.loc("S2"),
        lines=lines(**qty),
        submit=False,
    )
    tid = t["id"]
    path = {
        "DRAFT": [],
        "REQUESTED": ["request"],
        "APPROVED": ["request", "approve"],
        "IN_TRANSIT": ["request", "approve", "ship"],
        "PARTIALLY_RECEIVED": ["request", "approve", "ship", "receive"],
        "RECEIVED": ["request", "approve", "ship", "receive", "receive"],
        "CANCELLED": ["cancel"],
    }[status]
    for step in path:
        if step == "receive":
            await ok(gql, owner, "receiveTransfer", id=tid, lines=lines(A=1))
        else:
            await ok(gql, owner, f"{step}Transfer", id=tid)
    return tid


async def test_full_flow_partial_receipt_damage_missing_and_resolution(gql, tenant):
    await stock(gql, tenant, "S1", "A", 20)
    await stock(gql, tenant, "S1", "B", 10)
    manager_s1 = tenant.staff(Role.STORE_MANAGER, ["S1"], staff_id=11)
    manager_s2 = tenant.staff(Role.STORE_MANAGER, ["S2"], staff_id=12)
    regional = tenant.staff(Role.REGIONAL_MANAGER, staff_id=13)

    t = await ok(
        gql,
        manager_s1,
        "createTransfer",
        fromLocationId=tenant.loc("S1"),
        toLocationId=tenant.loc("S2"),
        lines=lines(A=8, B=5),
        note="weekend restock",
        submit=True,
    )
    assert t["status"] == "REQUESTED"
    assert t["approvalRequest"]["status"] == "PENDING"
    assert t["approvalRequest"]["requiredRank"] == "REGIONAL_MANAGER"
    t = await ok(gql, regional, "approveTransfer", id=t["id"], comment="ok")
    assert t["status"] == "APPROVED"
    assert t["approvalRequest"]["decisions"] == [
        {"actor": "staff:13", "rank": "REGIONAL_MANAGER", "decision": "APPROVE", "comment": "ok"}
    ]
    await assert_conserved(tenant.db, tenant.tenant_id)

    t = await ok(gql, manager_s1, "shipTransfer", id=t["id"])
    assert t["status"] == "IN_TRANSIT"
    assert await level(gql, tenant, "S1", "A") == (12, 0)
    assert await level(gql, tenant, "S2", "A") == (0, 8)
    assert await level(gql, tenant, "S2", "B") == (0, 5)
    await assert_conserved(tenant.db, tenant.tenant_id)

    refused = await call(gql, manager_s1, "receiveTransfer", id=t["id"], lines=lines(A=1))
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"

    t = await ok(
        gql,
        manager_s2,
        "receiveTransfer",
        id=t["id"],
        lines=[
            {"sku": "A", "quantity": 5, "rejectedQuantity": 1, "rejectionReason": "crushed"},
            {"sku": "B", "quantity": 5},
        ],
    )
    assert t["status"] == "PARTIALLY_RECEIVED"
    a_line = t["lines"][0]
    assert (a_line["receivedQuantity"], a_line["rejectedQuantity"], a_line["missingQuantity"]) == (
        5,
        1,
        2,
    )
    assert a_line["rejectionReason"] == "crushed"
    assert await level(gql, tenant, "S2", "A") == (5, 2)  # 2 still in transit: missing
    assert await level(gql, tenant, "S2", "B") == (5, 0)
    await assert_conserved(tenant.db, tenant.tenant_id)

    too_many = await call(gql, manager_s2, "receiveTransfer", id=t["id"], lines=lines(A=3))
    assert too_many["userErrors"][0]["code"] == "INVALID"

    t = await ok(
        gql,
        manager_s2,
        "resolveTransferDiscrepancy",
        id=t["id"],
        lines=lines(A=2),
        reason="THEFT",
        note="lost on the van",
    )
    assert t["status"] == "RECEIVED"
    assert t["lines"][0]["resolvedQuantity"] == 2 and t["lines"][0]["missingQuantity"] == 0
    assert await level(gql, tenant, "S2", "A") == (5, 0)
    await assert_conserved(tenant.db, tenant.tenant_id)

    data = await gql.ok(
        """query($loc: ID!) { stockMovements(locationId: $loc, sku: "A") {
             edges { node { kind delta reason reference } } } }""",
        tenant.owner,
        {"loc": tenant.loc("S2")},
    )
    kinds = [(e["node"]["kind"], e["node"]["delta"]) for e in data["stockMovements"]["edges"]]
    assert kinds == [
        ("TRANSFER_IN", 6),
        ("DAMAGE", -1),
        ("TRANSFER_IN", 2),
        ("ADJUSTMENT", -2),
    ]
    refs = {e["node"]["reference"] for e in data["stockMovements"]["edges"]}
    assert refs == {t["reference"]}


async def test_shipping_more_than_on_hand_is_refused_and_changes_nothing(gql, tenant):
    await stock(gql, tenant, "S1", "A", 1)
    tid = await new_transfer(gql, tenant, "APPROVED", A=2)
    refused = await call(gql, tenant.owner, "shipTransfer", id=tid)
    assert refused["userErrors"][0]["code"] == "INSUFFICIENT_STOCK"
    data = await gql.ok(
        "query($id: ID!) { transfer(id: $id) { status } }", tenant.owner, {"id": tid}
    )
    assert data["transfer"]["status"] == "APPROVED"
    assert await level(gql, tenant, "S1", "A") == (1, 0)
    await assert_conserved(tenant.db, tenant.tenant_id)


STATUSES = [
    "DRAFT",
    "REQUESTED",
    "APPROVED",
    "IN_TRANSIT",
    "PARTIALLY_RECEIVED",
    "RECEIVED",
    "CANCELLED",
]
ACTIONS = {
    "requestTransfer": ({}, {"DRAFT": "REQUESTED"}),
    "approveTransfer": ({}, {"REQUESTED": "APPROVED"}),
    "rejectTransfer": ({}, {"REQUESTED": "CANCELLED"}),
    "shipTransfer": ({}, {"APPROVED": "IN_TRANSIT"}),
    "receiveTransfer": (
        {"lines": lines(A=1)},
        {"IN_TRANSIT": "PARTIALLY_RECEIVED", "PARTIALLY_RECEIVED": "RECEIVED"},
    ),
    "resolveTransferDiscrepancy": (
        {"lines": lines(A=1), "reason": "OTHER"},
        {"IN_TRANSIT": "PARTIALLY_RECEIVED", "PARTIALLY_RECEIVED": "RECEIVED"},
    ),
    "cancelTransfer": (
        {},
        {"DRAFT": "CANCELLED", "REQUESTED": "CANCELLED", "APPROVED": "CANCELLED"},
    ),
}
# rank -> (role, own locations); the transfer goes S1 -> S2
RANKS = {
    "OWNER": (Role.OWNER, []),
    "REGIONAL_MANAGER": (Role.REGIONAL_MANAGER, []),
    "STORE_MANAGER@S1": (Role.STORE_MANAGER, ["S1"]),
    "STORE_MANAGER@S2": (Role.STORE_MANAGER, ["S2"]),
    "STORE_MANAGER@WH": (Role.STORE_MANAGER, ["WH"]),
    "CLERK@S1": (Role.CLERK, ["S1"]),
    "CLERK@S2": (Role.CLERK, ["S2"]),
    "PURCHASER": (Role.PURCHASER, []),
    "AUDITOR": (Role.AUDITOR, []),
}
WRITERS_SOURCE = {"OWNER", "REGIONAL_MANAGER", "STORE_MANAGER@S1", "CLERK@S1", "PURCHASER"}
WRITERS_TARGET = {"OWNER", "REGIONAL_MANAGER", "STORE_MANAGER@S2", "CLERK@S2", "PURCHASER"}
APPROVERS = {"OWNER", "REGIONAL_MANAGER"}
PERMITTED = {
    "requestTransfer": WRITERS_SOURCE | WRITERS_TARGET,
    "approveTransfer": APPROVERS,
    "rejectTransfer": APPROVERS,
    "shipTransfer": WRITERS_SOURCE,
    "receiveTransfer": WRITERS_TARGET,
    "resolveTransferDiscrepancy": WRITERS_TARGET,
    "cancelTransfer": WRITERS_SOURCE | WRITERS_TARGET | APPROVERS,
}


async def test_every_transition_by_every_rank(gql, tenant):
    """Each (status, action, rank): the new status, FORBIDDEN or INVALID_TRANSITION."""
    await stock(gql, tenant, "S1", "A", 1000)
    refused_in = {s: await new_transfer(gql, tenant, s) for s in STATUSES}
    checked = 0
    for status in STATUSES:
        for action, (extra, edges) in ACTIONS.items():
            for rank, (role, locs) in RANKS.items():
                caller = tenant.staff(role, locs, staff_id=100 + checked)
                permitted = rank in PERMITTED[action]
                allowed = status in edges
                tid = await new_transfer(gql, tenant, status) if permitted and allowed else None
                result = await call(gql, caller, action, id=tid or refused_in[status], **extra)
                where = (status, action, rank)
                if not permitted:
                    assert [e["code"] for e in result["userErrors"]] == ["FORBIDDEN"], where
                elif not allowed:
                    assert [e["code"] for e in result["userErrors"]] == ["INVALID_TRANSITION"], (
                        where
                    )
                else:
                    assert result["userErrors"] == [], (where, result)
                    assert result["transfer"]["status"] == edges[status], where
                checked += 1
    assert checked == len(STATUSES) * len(ACTIONS) * len(RANKS)
    await assert_conserved(tenant.db, tenant.tenant_id)


POLICY = """mutation($input: CreateApprovalPolicyInput!) { createApprovalPolicy(input: $input) {
  approvalPolicy { id requiredRank minUnits fromLocationKinds } userErrors { code } } }"""

REQUESTS = """query($status: ApprovalStatus) { approvalRequests(status: $status) {
  edges { node { id status requiredRank nextRank units transfer { id status }
    decisions { rank decision comment } } } } }"""


async def test_policy_chain_by_rank_and_approval_requests(gql, tenant):
    owner = tenant.owner
    regional = tenant.staff(Role.REGIONAL_MANAGER, staff_id=21)
    manager = tenant.staff(Role.STORE_MANAGER, ["S1"], staff_id=22)
    refused = await gql.ok(
        POLICY,
        regional,
        {"input": {"name": "big", "requiredRank": "OWNER", "minUnits": 10}},
    )
    assert refused["createApprovalPolicy"]["userErrors"][0]["code"] == "FORBIDDEN"
    for policy in (
        {"name": "big", "requiredRank": "OWNER", "minUnits": 10},
        {"name": "wh", "requiredRank": "OWNER", "fromLocationKinds": ["CENTRAL_WAREHOUSE"]},
    ):
        data = await gql.ok(POLICY, owner, {"input": policy})
        assert data["createApprovalPolicy"]["userErrors"] == []

    small = await ok(
        gql,
        manager,
        "createTransfer",
        fromLocationId=tenant.loc("S1"),
        toLocationId=tenant.loc("S2"),
        lines=lines(A=3),
        submit=True,
    )
    assert small["approvalRequest"]["requiredRank"] == "REGIONAL_MANAGER"
    big = await ok(
        gql,
        manager,
        "createTransfer",
        fromLocationId=tenant.loc("S1"),
        toLocationId=tenant.loc("S2"),
        lines=lines(A=6, B=6),
        submit=True,
    )
    assert big["approvalRequest"]["requiredRank"] == "OWNER"
    central = await ok(
        gql,
        owner,
        "createTransfer",
        fromLocationId=tenant.loc("WH"),
        toLocationId=tenant.loc("S1"),
        lines=lines(C=1),
        submit=True,
    )
    assert central["approvalRequest"]["requiredRank"] == "OWNER"

    # the chain: a regional manager first, then the owner
    assert (await call(gql, manager, "approveTransfer", id=big["id"]))["userErrors"][0][
        "code"
    ] == "FORBIDDEN"
    step = await ok(gql, regional, "approveTransfer", id=big["id"], comment="fine by me")
    assert step["status"] == "REQUESTED"
    assert step["approvalRequest"]["nextRank"] == "OWNER"
    again = await call(gql, regional, "approveTransfer", id=big["id"])
    assert again["userErrors"][0]["code"] == "FORBIDDEN"
    done = await ok(gql, owner, "approveTransfer", id=big["id"], comment="go")
    assert done["status"] == "APPROVED"
    assert done["approvalRequest"]["status"] == "APPROVED"
    assert [(d["rank"], d["comment"]) for d in done["approvalRequest"]["decisions"]] == [
        ("REGIONAL_MANAGER", "fine by me"),
        ("OWNER", "go"),
    ]
    # an owner may take the regional manager's step
    assert (await ok(gql, owner, "approveTransfer", id=central["id"]))["status"] == "APPROVED"
    rejected = await ok(gql, regional, "rejectTransfer", id=small["id"], comment="not now")
    assert rejected["status"] == "CANCELLED"
    assert rejected["approvalRequest"]["status"] == "REJECTED"

    data = await gql.ok(REQUESTS, tenant.staff(Role.AUDITOR, staff_id=23), {"status": None})
    nodes = [e["node"] for e in data["approvalRequests"]["edges"]]
    assert [n["status"] for n in nodes] == ["APPROVED", "APPROVED", "REJECTED"]
    assert nodes[1]["transfer"]["id"] == big["id"] and nodes[1]["units"] == 12
    data = await gql.ok(REQUESTS, owner, {"status": "REJECTED"})
    assert [e["node"]["decisions"] for e in data["approvalRequests"]["edges"]] == [
        [{"rank": "REGIONAL_MANAGER", "decision": "REJECT", "comment": "not now"}]
    ]
    audit = await gql.ok(
        """query($id: ID!) { auditEvents(entityId: $id) { edges { node { action } } } }""",
        owner,
        {"id": big["id"]},
    )
    actions = [e["node"]["action"] for e in audit["auditEvents"]["edges"]]
    assert actions.count("transfer.approve") == 2


async def test_other_tenants_and_unknown_ids_are_not_found(gql, tenant, other_tenant):
    await stock(gql, tenant, "S1", "A", 5)
    tid = await new_transfer(gql, tenant, "APPROVED")
    stranger = other_tenant.owner
    data = await gql.ok(
        "query($id: ID!) { transfer(id: $id) { id } node(id: $id) { id } }", stranger, {"id": tid}
    )
    assert data == {"transfer": None, "node": None}
    assert (await gql.ok("{ transfers { edges { node { id } } } }", stranger))["transfers"][
        "edges"
    ] == []
    for name in ("shipTransfer", "cancelTransfer", "approveTransfer"):
        result = await call(gql, stranger, name, id=tid)
        assert [e["code"] for e in result["userErrors"]] == ["NOT_FOUND"], name
    result = await call(gql, tenant.owner, "shipTransfer", id=ids.encode("Transfer", 9_000_000_001))
    assert [e["code"] for e in result["userErrors"]] == ["NOT_FOUND"]
    result = await call(gql, tenant.owner, "shipTransfer", id="bm9wZQ")  # no ID at all
    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [("INVALID", ["id"])]
    foreign_loc = await call(
        gql,
        tenant.owner,
        "createTransfer",
        fromLocationId=other_tenant.loc("S1"),
        toLocationId=tenant.loc("S2"),
        lines=lines(A=1),
    )
    assert foreign_loc["userErrors"][0]["code"] == "NOT_FOUND"
    assert (await call(gql, tenant.owner, "shipTransfer", id=tid))["userErrors"] == []


async def test_reading_transfers_needs_transfers_read(gql, tenant):
    tid = await new_transfer(gql, tenant, "DRAFT")
    app = tenant.app("stock:read")
    result = await gql("query($id: ID!) { transfer(id: $id) { id } }", app, {"id": tid})
    assert result.errors[0].extensions["code"] == "FORBIDDEN"
    reader = tenant.app("transfers:read")
    data = await gql.ok(
        "query($loc: ID) { transfers(locationId: $loc, status: DRAFT) { totalCount "
        "edges { node { id status fromLocation { code } } } } }",
        reader,
        {"loc": tenant.loc("S2")},
    )
    assert data["transfers"]["totalCount"] == 1
    assert data["transfers"]["edges"][0]["node"] == {
        "id": tid,
        "status": "DRAFT",
        "fromLocation": {"code": "S1"},
    }


@pytest.mark.parametrize("name", ["shipTransfer", "receiveTransfer"])
async def test_idempotent_ship_and_receive_retries(gql, tenant, name):
    await stock(gql, tenant, "S1", "A", 5)
    status = "APPROVED" if name == "shipTransfer" else "IN_TRANSIT"
    tid = await new_transfer(gql, tenant, status)
    extra = {"lines": lines(A=1)} if name == "receiveTransfer" else {}
    first = await call(gql, tenant.owner, name, id=tid, idempotencyKey="k-1", **extra)
    movements = await count_rows(tenant.db, "stock_movements", tenant.tenant_id)
    second = await call(gql, tenant.owner, name, id=tid, idempotencyKey="k-1", **extra)
    assert first == second and first["userErrors"] == []
    assert await count_rows(tenant.db, "stock_movements", tenant.tenant_id) == movements
    other = {"lines": lines(A=2)} if name == "receiveTransfer" else {"lines": lines(A=1)}
    reused = await call(gql, tenant.owner, name, id=tid, idempotencyKey="k-1", **other)
    assert reused["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    await assert_conserved(tenant.db, tenant.tenant_id)


async def test_the_contract_flow_create_approve_ship_receive(gql, tenant):
    """CONTRACT.md's mutations alone, in order: a new transfer waits for approval."""
    owner = tenant.owner
    from tests.graphql.test_stock_concurrency import RECEIVE

    await gql.ok(
        RECEIVE,
        owner,
        {"input": {"locationId": tenant.loc("S1"), "lines": [{"sku": "A", "quantity": 5}]}},
    )
    created = await ok(
        gql,
        owner,
        "createTransfer",
        fromLocationId=tenant.loc("S1"),
        toLocationId=tenant.loc("S2"),
        lines=lines(A=3),
    )
    assert created["status"] == "REQUESTED"
    regional = tenant.staff(Role.REGIONAL_MANAGER, staff_id=77)
    assert (await ok(gql, regional, "approveTransfer", id=created["id"]))["status"] == "APPROVED"
    assert (await ok(gql, owner, "shipTransfer", id=created["id"]))["status"] == "IN_TRANSIT"
    received = await ok(
        gql,
        owner,
        "receiveTransfer",
        id=created["id"],
        lines=[{"sku": "A", "quantity": 3, "rejectedQuantity": None}],
    )
    assert received["status"] == "RECEIVED"


async def test_nobody_approves_their_own_request(gql, tenant):
    regional = tenant.staff(Role.REGIONAL_MANAGER, staff_id=78)
    created = await ok(
        gql,
        regional,
        "createTransfer",
        fromLocationId=tenant.loc("S1"),
        toLocationId=tenant.loc("S2"),
        lines=lines(A=1),
    )
    refused = await call(gql, regional, "approveTransfer", id=created["id"])
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    other = tenant.staff(Role.REGIONAL_MANAGER, staff_id=79)
    assert (await ok(gql, other, "approveTransfer", id=created["id"]))["status"] == "APPROVED"
