"""Suppliers, rules, suggestions and purchase orders through the real schema: the whole
flow, the state machine's refusals, permissions, audit, events and tenant isolation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from auth.permissions import Role
from domain import ids
from tests.domain.test_replenishment import sell_history
from tests.helpers import count_rows, ledger_mismatches

PO_FIELDS = """purchaseOrder { id status reference closeReason version
  supplier { code } location { code }
  lines { product { sku } quantity receivedQuantity outstandingQuantity supplierSku }
  approvalRequest { status requiredRank } }
  userErrors { code field message }"""


def mutation(name: str, input_type: str, fields: str = PO_FIELDS) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {fields} }} }}"


CREATE_SUPPLIER = mutation(
    "createSupplier",
    "SupplierInput",
    "supplier { id code currency leadTimeDays orderDays minOrderValue { amount } } "
    "userErrors { code field }",
)
SET_PRODUCTS = mutation(
    "setSupplierProducts",
    "SetSupplierProductsInput",
    "count supplier { products { totalCount edges { node { product { sku } packSize "
    "unitCost { amount } } } } } userErrors { code field }",
)
SET_RULES = mutation(
    "setReplenishmentRules", "SetReplenishmentRulesInput", "count changed userErrors { code field }"
)
ACCEPT = mutation(
    "acceptReplenishmentSuggestion",
    "AcceptReplenishmentSuggestionInput",
    "decision { decision sku transferQuantity purchaseQuantity transfers { status } } "
    "userErrors { code field message }",
)
DISMISS = mutation(
    "dismissReplenishmentSuggestion",
    "DismissReplenishmentSuggestionInput",
    "decision { decision reason } userErrors { code field }",
)
DRAFT = mutation(
    "draftPurchaseOrders",
    "DraftPurchaseOrdersInput",
    "purchaseOrders { id status lines { quantity } } userErrors { code field }",
)
TRANSITION = {
    name: mutation(name, "TransitionPurchaseOrderInput")
    for name in (
        "submitPurchaseOrder",
        "approvePurchaseOrder",
        "rejectPurchaseOrder",
        "sendPurchaseOrder",
        "cancelPurchaseOrder",
    )
}
RECEIVE = mutation("receivePurchaseOrder", "ReceivePurchaseOrderInput")
CLOSE = mutation("closePurchaseOrder", "ClosePurchaseOrderInput")
SUGGESTIONS = """query($loc: ID!) { replenishmentSuggestions(locationId: $loc) { totalCount
  edges { node { sku quantity transferQuantity purchaseQuantity purchaseNeeded packSize
    orderWaitDays forecastUnits safetyStock target onHand reserved inTransit openPurchaseOrders
    transfersNotShipped acceptedNotOrdered position need leadTimeDays reviewPeriodDays
    explanation supplier { code } unitCost { amount }
    forecastDays { date units weekdayFactor eventFactor event { name kind } }
    transfers { quantity donorSurplus fromLocation { code } } } } } }"""
FORECAST = """query($loc: ID!, $sku: String!, $days: Int!) {
  demandForecast(locationId: $loc, sku: $sku, days: $days) {
    dailyLevel totalUnits days { date units event { name kind } }
    recentError { days wape bias seasonalNaiveWape } product { sku } } }"""
LEVEL = """query($loc: ID!, $sku: String!) { stockLevel(locationId: $loc, sku: $sku) {
  onHand incoming } }"""


async def run(gql: Any, caller: Any, doc: str, **input: Any) -> dict[str, Any]:
    data = await gql.ok(doc, caller, {"input": input})
    return next(iter(data.values()))  # type: ignore[no-any-return]


async def supplier(gql: Any, tenant: Any, pack: int = 6) -> str:
    created = await run(
        gql,
        tenant.owner,
        CREATE_SUPPLIER,
        code="HKF",
        nameZh="港食品",
        nameEn="HK Foods",
        currency="HKD",
        leadTimeDays=3,
        orderDays=["MONDAY", "THURSDAY"],
        minOrderValue="20",
    )
    assert created["userErrors"] == []
    sid = created["supplier"]["id"]
    products = await run(
        gql,
        tenant.owner,
        SET_PRODUCTS,
        supplierId=sid,
        products=[
            {"sku": s, "unitCost": "3.5000", "supplierSku": f"HKF-{s}", "packSize": pack}
            for s in ("A", "B")
        ],
    )
    assert products["userErrors"] == [] and products["count"] == 2
    assert products["supplier"]["products"]["totalCount"] == 2
    return str(sid)


async def to_status(gql: Any, tenant: Any, status: str) -> tuple[str, str]:
    """A purchase order for S1 brought to ``status`` (from an accepted suggestion)."""
    sid = await supplier(gql, tenant, pack=1)
    await sell_history(tenant, "S1", "A", 3)
    rules = await run(
        gql,
        tenant.owner,
        SET_RULES,
        rules=[{"locationId": tenant.loc("S1"), "sku": "A", "supplierId": sid}],
    )
    assert rules["userErrors"] == []
    accepted = await run(gql, tenant.owner, ACCEPT, locationId=tenant.loc("S1"), sku="A")
    assert accepted["userErrors"] == []
    drafts = await run(gql, tenant.owner, DRAFT, locationIds=[tenant.loc("S1")])
    (po,) = drafts["purchaseOrders"]
    steps = {
        "DRAFT": [],
        "SUBMITTED": ["submit"],
        "APPROVED": ["submit", "approve"],
        "SENT": ["submit", "approve", "send"],
    }[status]
    for step in steps:
        r = await run(gql, tenant.owner, TRANSITION[f"{step}PurchaseOrder"], id=po["id"])
        assert r["userErrors"] == [], r
    return po["id"], sid


async def test_suggestion_to_received_purchase_order(gql, tenant):
    sid = await supplier(gql, tenant)
    await sell_history(tenant, "S1", "A", 4)
    await sell_history(tenant, "S1", "B", 2)
    rules = [
        {"locationId": tenant.loc("S1"), "sku": "A", "safetyStock": 5, "supplierId": sid},
        {"locationId": tenant.loc("S1"), "sku": "B", "safetyStock": 2},
    ]
    first = await run(gql, tenant.owner, SET_RULES, rules=rules, idempotencyKey="rules-1")
    resent = await run(gql, tenant.owner, SET_RULES, rules=rules)
    replay = await run(gql, tenant.owner, SET_RULES, rules=rules, idempotencyKey="rules-1")
    assert (first["count"], first["changed"]) == (2, 2)
    assert (resent["count"], resent["changed"]) == (2, 0)
    assert replay == first

    forecast = (
        await gql.ok(FORECAST, tenant.owner, {"loc": tenant.loc("S1"), "sku": "A", "days": 14})
    )["demandForecast"]
    assert len(forecast["days"]) == 14 and 2.5 < forecast["dailyLevel"] < 6
    assert forecast["recentError"]["days"] == 28 and forecast["recentError"]["wape"] is not None

    data = await gql.ok(SUGGESTIONS, tenant.owner, {"loc": tenant.loc("S1")})
    by_sku = {e["node"]["sku"]: e["node"] for e in data["replenishmentSuggestions"]["edges"]}
    a = by_sku["A"]
    assert a["supplier"]["code"] == "HKF" and a["unitCost"]["amount"] == "3.5000"
    # the supplier takes orders on Mondays and Thursdays
    # (the tenant's today: Hong Kong's, whatever the machine's clock zone)
    today = datetime.now(ZoneInfo("Asia/Hong_Kong")).date()
    wait = min((d - today.isoweekday()) % 7 for d in (1, 4))
    assert a["orderWaitDays"] == wait and a["leadTimeDays"] == 3
    assert len(a["forecastDays"]) == wait + 3 + a["reviewPeriodDays"] == wait + 10
    assert (
        a["position"]
        == a["onHand"]
        - a["reserved"]
        + a["inTransit"]
        + a["openPurchaseOrders"]
        + a["transfersNotShipped"]
        + a["acceptedNotOrdered"]
    )
    assert a["purchaseQuantity"] % 6 == 0 and a["purchaseQuantity"] >= a["purchaseNeeded"]
    assert "target" in a["explanation"] and "need" in a["explanation"]

    dismissed = await run(
        gql, tenant.owner, DISMISS, locationId=tenant.loc("S1"), sku="B", reason="NOT_NEEDED"
    )
    assert dismissed["decision"] == {"decision": "DISMISSED", "reason": "NOT_NEEDED"}
    accepted = await run(gql, tenant.owner, ACCEPT, locationId=tenant.loc("S1"), sku="A")
    assert accepted["decision"]["purchaseQuantity"] == a["purchaseQuantity"]
    again = await run(gql, tenant.owner, ACCEPT, locationId=tenant.loc("S1"), sku="A")
    assert again["userErrors"][0]["code"] == "NOT_FOUND"  # nothing left to suggest

    drafts = await run(gql, tenant.owner, DRAFT, locationIds=[tenant.loc("S1")])
    (po,) = drafts["purchaseOrders"]
    assert po["status"] == "DRAFT" and po["lines"] == [{"quantity": a["purchaseQuantity"]}]
    qty = a["purchaseQuantity"]

    manager = tenant.staff(Role.STORE_MANAGER, ["S1"], staff_id=21)
    regional = tenant.staff(Role.REGIONAL_MANAGER, staff_id=22)
    clerk = tenant.staff(Role.CLERK, ["S1"], staff_id=23)
    refused = await run(gql, manager, TRANSITION["sendPurchaseOrder"], id=po["id"])
    assert refused["userErrors"][0]["code"] == "INVALID_TRANSITION"
    submitted = await run(gql, manager, TRANSITION["submitPurchaseOrder"], id=po["id"])
    assert submitted["purchaseOrder"]["status"] == "SUBMITTED"
    assert submitted["purchaseOrder"]["approvalRequest"]["status"] == "PENDING"
    denied = await run(gql, clerk, TRANSITION["approvePurchaseOrder"], id=po["id"])
    assert denied["userErrors"][0]["code"] == "FORBIDDEN"
    approved = await run(gql, regional, TRANSITION["approvePurchaseOrder"], id=po["id"])
    assert approved["purchaseOrder"]["status"] == "APPROVED"
    sent = await run(gql, manager, TRANSITION["sendPurchaseOrder"], id=po["id"])
    assert sent["purchaseOrder"]["status"] == "SENT"
    level = (await gql.ok(LEVEL, tenant.owner, {"loc": tenant.loc("S1"), "sku": "A"}))["stockLevel"]
    assert level["incoming"] == qty
    late = await run(gql, manager, TRANSITION["cancelPurchaseOrder"], id=po["id"])
    assert late["userErrors"][0]["code"] == "INVALID_TRANSITION"

    part = await run(
        gql,
        manager,
        RECEIVE,
        id=po["id"],
        lines=[{"sku": "A", "quantity": qty - 2, "unitCost": "3.4000"}],
        idempotencyKey="recv-1",
    )
    replayed = await run(
        gql,
        manager,
        RECEIVE,
        id=po["id"],
        lines=[{"sku": "A", "quantity": qty - 2, "unitCost": "3.4000"}],
        idempotencyKey="recv-1",
    )
    assert replayed == part
    assert part["purchaseOrder"]["status"] == "PARTIALLY_RECEIVED"
    over = await run(gql, manager, RECEIVE, id=po["id"], lines=[{"sku": "A", "quantity": 3}])
    assert over["userErrors"][0]["code"] == "INVALID"
    assert over["userErrors"][0]["field"] == ["lines", "0", "quantity"]
    closed = await run(gql, manager, CLOSE, id=po["id"], reason="SUPPLIER_SHORT", note="2 short")
    assert closed["purchaseOrder"]["status"] == "CLOSED"
    assert closed["purchaseOrder"]["closeReason"] == "SUPPLIER_SHORT"
    level = (await gql.ok(LEVEL, tenant.owner, {"loc": tenant.loc("S1"), "sku": "A"}))["stockLevel"]
    assert level["incoming"] == 0 and level["onHand"] == qty - 2
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []
    # every step is on the outbox, and audited
    assert await count_rows(tenant.db, "events", tenant.tenant_id) > 0
    async with tenant.db.owner_transaction() as s:
        events = (
            (
                await s.execute(
                    text(
                        "SELECT payload->>'action' FROM events WHERE tenant_id = :t "
                        "AND type = 'purchase_order.updated' ORDER BY sequence"
                    ),
                    {"t": tenant.tenant_id},
                )
            )
            .scalars()
            .all()
        )
        audited = (
            (
                await s.execute(
                    text(
                        "SELECT action FROM audit_events WHERE tenant_id = :t "
                        "AND action LIKE 'purchase_order.%' AND outcome = 'success' "
                        "ORDER BY sequence"
                    ),
                    {"t": tenant.tenant_id},
                )
            )
            .scalars()
            .all()
        )
    assert events == ["CREATE", "SUBMIT", "APPROVE", "SEND", "RECEIVE", "CLOSE"]
    assert audited == [
        "purchase_order.draft",
        "purchase_order.submit",
        "purchase_order.approve",
        "purchase_order.send",
        "purchase_order.receive",
        "purchase_order.close",
    ]


async def test_cancel_before_sending_and_reject(gql, tenant):
    po, _ = await to_status(gql, tenant, "APPROVED")
    cancelled = await run(gql, tenant.owner, TRANSITION["cancelPurchaseOrder"], id=po)
    assert cancelled["purchaseOrder"]["status"] == "CANCELLED"
    again = await run(gql, tenant.owner, TRANSITION["submitPurchaseOrder"], id=po)
    assert again["userErrors"][0]["code"] == "INVALID_TRANSITION"


async def test_costs_need_costs_read(gql, tenant):
    po, _ = await to_status(gql, tenant, "DRAFT")
    clerk = tenant.staff(Role.CLERK, ["S1"], staff_id=31)
    result = await gql(
        "query($id: ID!) { purchaseOrder(id: $id) { status lines { quantity unitCost { amount } }"
        " total { amount } } }",
        clerk,
        {"id": po},
    )
    assert result.data["purchaseOrder"]["status"] == "DRAFT"
    assert result.data["purchaseOrder"]["lines"][0]["unitCost"] is None
    assert result.data["purchaseOrder"]["total"] is None
    assert {e.extensions["code"] for e in result.errors} == {"FORBIDDEN"}


async def test_store_manager_only_at_own_locations(gql, tenant):
    po, _ = await to_status(gql, tenant, "DRAFT")
    elsewhere = tenant.staff(Role.STORE_MANAGER, ["S2"], staff_id=41)
    r = await run(gql, elsewhere, TRANSITION["submitPurchaseOrder"], id=po)
    assert r["userErrors"][0]["code"] == "FORBIDDEN"
    rules = await run(
        gql, elsewhere, SET_RULES, rules=[{"locationId": tenant.loc("S1"), "sku": "B"}]
    )
    assert rules["userErrors"][0]["code"] == "FORBIDDEN"
    supplier_denied = await run(gql, elsewhere, CREATE_SUPPLIER, code="X", nameZh="X", nameEn="X")
    assert supplier_denied["userErrors"][0]["code"] == "FORBIDDEN"


NODE = "query($id: ID!) { node(id: $id) { id } }"


async def test_other_tenants_see_nothing(gql, tenant, other_tenant):
    po, sid = await to_status(gql, tenant, "SENT")
    async with tenant.db.owner_transaction() as s:
        run_id = (
            await s.execute(
                text(
                    "INSERT INTO job_runs (tenant_id, job, period, status, attempts, runner, "
                    "started_at, lease_until, counts) VALUES (:t, 'x', 'p', 'SUCCEEDED', 1, 'r', "
                    "now(), now(), '{}') RETURNING id"
                ),
                {"t": tenant.tenant_id},
            )
        ).scalar_one()
        alert_id = (
            await s.execute(
                text(
                    "INSERT INTO replenishment_alerts (tenant_id, location_id, product_id, day, "
                    "kind, available, forecast_units, suggested_quantity, notified) VALUES "
                    "(:t, :l, :p, current_date, 'LOW_STOCK', 0, 1, 1, false) RETURNING id"
                ),
                {"t": tenant.tenant_id, "l": tenant.locations["S1"], "p": tenant.products["A"]},
            )
        ).scalar_one()
    gids = [po, sid, ids.encode("JobRun", run_id), ids.encode("ReplenishmentAlert", alert_id)]
    bench = await gql.ok(
        "query($loc: ID!) { workbench(locationId: $loc) { replenishmentAlerts { kind "
        "product { sku } } } }",
        tenant.owner,
        {"loc": tenant.loc("S1")},
    )
    assert bench["workbench"]["replenishmentAlerts"] == [
        {"kind": "LOW_STOCK", "product": {"sku": "A"}}
    ]
    for gid in gids:
        mine = await gql.ok(NODE, tenant.owner, {"id": gid})
        assert mine["node"] == {"id": gid}
        theirs = await gql.ok(NODE, other_tenant.owner, {"id": gid})
        assert theirs["node"] is None
    assert (
        await gql.ok(
            "query($id: ID!) { purchaseOrder(id: $id) { id } }", other_tenant.owner, {"id": po}
        )
    )["purchaseOrder"] is None
    listed = await gql.ok(
        "{ purchaseOrders { totalCount } suppliers { totalCount } replenishmentRules { totalCount }"
        " jobRuns { edges { node { id } } } replenishmentAlerts { edges { node { id } } } }",
        other_tenant.owner,
    )
    assert listed == {
        "purchaseOrders": {"totalCount": 0},
        "suppliers": {"totalCount": 0},
        "replenishmentRules": {"totalCount": 0},
        "jobRuns": {"edges": []},
        "replenishmentAlerts": {"edges": []},
    }
    foreign = await gql(SUGGESTIONS, other_tenant.owner, {"loc": tenant.loc("S1")})
    assert foreign.data is None or foreign.data.get("replenishmentSuggestions") is None
    assert foreign.errors[0].extensions["code"] == "NOT_FOUND"
    for name in ("sendPurchaseOrder", "cancelPurchaseOrder"):
        r = await run(gql, other_tenant.owner, TRANSITION[name], id=po)
        assert r["userErrors"][0]["code"] == "NOT_FOUND"
    r = await run(gql, other_tenant.owner, RECEIVE, id=po, lines=[{"sku": "A", "quantity": 1}])
    assert r["userErrors"][0]["code"] == "NOT_FOUND"
    r = await run(gql, other_tenant.owner, DRAFT, locationIds=[tenant.loc("S1")])
    assert r["userErrors"][0]["code"] == "NOT_FOUND"


async def test_hostile_input_gets_coded_errors(gql, tenant):
    bad_id = await run(gql, tenant.owner, TRANSITION["submitPurchaseOrder"], id="garbage")
    assert bad_id["userErrors"][0]["code"] == "INVALID"
    too_long = await gql(FORECAST, tenant.owner, {"loc": tenant.loc("S1"), "sku": "A", "days": 57})
    assert too_long.errors[0].extensions["code"] == "INVALID"
    rules = await run(
        gql,
        tenant.owner,
        SET_RULES,
        rules=[{"locationId": tenant.loc("S1"), "sku": "A", "safetyStock": -1}],
    )
    assert rules["userErrors"][0] == {"code": "INVALID", "field": ["rules", "0", "safetyStock"]}
    nosku = await run(
        gql, tenant.owner, SET_RULES, rules=[{"locationId": tenant.loc("S1"), "sku": "NOPE"}]
    )
    assert nosku["userErrors"][0] == {"code": "NOT_FOUND", "field": ["rules", "0", "sku"]}


UPDATE_SUPPLIER = mutation(
    "updateSupplier",
    "UpdateSupplierInput",
    "supplier { code leadTimeDays orderDays active version } userErrors { code field }",
)


async def test_suppliers_are_unique_by_code_and_updatable(gql, tenant):
    sid = await supplier(gql, tenant)
    dup = await run(gql, tenant.owner, CREATE_SUPPLIER, code="HKF", nameZh="重", nameEn="Dup")
    assert dup["userErrors"] == [{"code": "ALREADY_EXISTS", "field": ["code"]}]
    updated = await run(
        gql, tenant.owner, UPDATE_SUPPLIER, id=sid, leadTimeDays=5, orderDays=["FRIDAY"]
    )
    assert updated["supplier"] == {
        "code": "HKF",
        "leadTimeDays": 5,
        "orderDays": ["FRIDAY"],
        "active": True,
        "version": "2",
    }
    bad = await run(gql, tenant.owner, UPDATE_SUPPLIER, id=sid, leadTimeDays=-1)
    assert bad["userErrors"] == [{"code": "INVALID", "field": ["leadTimeDays"]}]
    listed = await gql.ok("{ suppliers { totalCount edges { node { code } } } }", tenant.owner)
    assert listed["suppliers"] == {"totalCount": 1, "edges": [{"node": {"code": "HKF"}}]}


HELD_DRAFT = mutation(
    "draftPurchaseOrders",
    "DraftPurchaseOrdersInput",
    "purchaseOrders { id belowMinimumOrder total { amount } } "
    "heldOrders { lines units minOrderValue { amount currency } explanation "
    "location { code } supplier { code } orderValue { amount } shortfall { amount } } "
    "userErrors { code field }",
)


async def test_an_order_below_the_minimum_is_held_and_explained_then_drafted_on_purpose(
    gql, tenant
):
    sid = await supplier(gql, tenant, pack=1)
    raised = await run(
        gql,
        tenant.owner,
        mutation("updateSupplier", "UpdateSupplierInput", "userErrors { code field }"),
        id=sid,
        minOrderValue="5000",
    )
    assert raised["userErrors"] == []
    await sell_history(tenant, "S1", "A", 3)
    await run(
        gql,
        tenant.owner,
        SET_RULES,
        rules=[{"locationId": tenant.loc("S1"), "sku": "A", "supplierId": sid}],
    )
    flagged = await gql.ok(
        "query($loc: ID!) { replenishmentSuggestions(locationId: $loc) { edges { node { sku "
        "purchaseQuantity belowSupplierMinimum explanation } } } }",
        tenant.owner,
        {"loc": tenant.loc("S1")},
    )
    (suggested,) = [e["node"] for e in flagged["replenishmentSuggestions"]["edges"]]
    assert suggested["belowSupplierMinimum"] is True
    assert suggested["explanation"].endswith(
        "; alone below the supplier's minimum order of HKD 5000.00: held when drafting until "
        "its accepted purchases here reach it"
    )
    accepted = await run(gql, tenant.owner, ACCEPT, locationId=tenant.loc("S1"), sku="A")
    units = accepted["decision"]["purchaseQuantity"]
    assert units > 0

    held = await run(gql, tenant.owner, HELD_DRAFT, locationIds=[tenant.loc("S1")])
    assert held["purchaseOrders"] == [] and held["userErrors"] == []
    value = f"{3.5 * units:.2f}"
    assert held["heldOrders"] == [
        {
            "lines": 1,
            "units": units,
            "minOrderValue": {"amount": "5000.00", "currency": "HKD"},
            "explanation": f"Not drafted: 1 product(s), {units} unit(s) for supplier HKF come "
            "to less than its minimum order of HKD 5000.00. Accept more for this supplier and "
            "location, or draft with allowBelowMinimum: true.",
            "location": {"code": "S1"},
            "supplier": {"code": "HKF"},
            "orderValue": {"amount": value},
            "shortfall": {"amount": f"{5000 - 3.5 * units:.2f}"},
        }
    ]
    # a store manager of S1 (no costs:read) learns that it was held, not what it costs
    manager = tenant.staff(Role.STORE_MANAGER, ["S1"], staff_id=51)
    result = await gql(HELD_DRAFT, manager, {"input": {"locationIds": [tenant.loc("S1")]}})
    (seen,) = result.data["draftPurchaseOrders"]["heldOrders"]
    assert (seen["orderValue"], seen["shortfall"], seen["units"]) == (None, None, units)
    assert {e.extensions["code"] for e in result.errors} == {"FORBIDDEN"}

    drafted = await run(
        gql, tenant.owner, HELD_DRAFT, locationIds=[tenant.loc("S1")], allowBelowMinimum=True
    )
    assert drafted["heldOrders"] == []
    (order,) = drafted["purchaseOrders"]
    assert (order["belowMinimumOrder"], order["total"]) == (True, {"amount": value})
    async with tenant.db.owner_transaction() as s:
        after = (
            (
                await s.execute(
                    text(
                        "SELECT after FROM audit_events WHERE tenant_id = :t "
                        "AND action = 'purchase_order.draft' ORDER BY sequence"
                    ),
                    {"t": tenant.tenant_id},
                )
            )
            .scalars()
            .all()
        )
    assert [len(a["heldBelowMinimum"]) for a in after] == [1, 1, 0]
