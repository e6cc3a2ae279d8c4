"""Stocktakes through the real schema: the variance is taken at count time, not at posting."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from auth.permissions import Role
from tests.helpers import ledger_mismatches, on_hand

STOCKTAKE_FIELDS = """
  stocktake { id kind status scope lines { product { sku } countedQuantity expectedAtCount
              ledgerSequenceAtCount variance movementSequence } }
  lines { product { sku } countedQuantity expectedAtCount variance }
  movements { sequence kind delta onHandAfter reference }
  userErrors { code field message }
"""

START = f"""
mutation($input: StartStocktakeInput!) {{
  startStocktake(input: $input) {{ {STOCKTAKE_FIELDS} }} }}"""
COUNT = f"""
mutation($input: RecordCountInput!) {{ recordCount(input: $input) {{ {STOCKTAKE_FIELDS} }} }}"""
POST = f"""
mutation($input: StocktakeTransitionInput!) {{
  postStocktake(input: $input) {{ {STOCKTAKE_FIELDS} }} }}"""
CANCEL = f"""
mutation($input: StocktakeTransitionInput!) {{
  cancelStocktake(input: $input) {{ {STOCKTAKE_FIELDS} }} }}"""
RECEIVE = """
mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { userErrors { code } } }"""
SALE = """
mutation($input: RecordSaleInput!) {
  recordSale(input: $input) { movements { sequence delta } userErrors { code } } }"""
MOVEMENTS = """
query($loc: ID, $sku: String) {
  stockMovements(first: 250, locationId: $loc, sku: $sku) {
    edges { node { sequence kind delta reference } } } }"""


async def receive(gql, tenant, loc: str, lines: dict[str, int]) -> None:
    data = await gql.ok(
        RECEIVE,
        tenant.owner,
        {
            "input": {
                "locationId": tenant.loc(loc),
                "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
            }
        },
    )
    assert data["receiveStock"]["userErrors"] == []


async def sell(gql, tenant, loc: str, receipt: str, sku: str, qty: int, caller=None) -> dict:
    data = await gql.ok(
        SALE,
        caller or tenant.owner,
        {
            "input": {
                "locationId": tenant.loc(loc),
                "receiptNumber": receipt,
                "lines": [{"sku": sku, "quantity": qty}],
            }
        },
    )
    assert data["recordSale"]["userErrors"] == []
    return data["recordSale"]


async def start(gql, tenant, caller=None, loc: str = "S1", **extra) -> dict:
    data = await gql.ok(
        START,
        caller or tenant.owner,
        {"input": {"locationId": tenant.loc(loc), "kind": extra.pop("kind", "FULL"), **extra}},
    )
    return data["startStocktake"]


async def count(gql, tenant, stocktake_id: str, counts: dict[str, int], caller=None) -> dict:
    data = await gql.ok(
        COUNT,
        caller or tenant.owner,
        {
            "input": {
                "id": stocktake_id,
                "lines": [{"sku": s, "countedQuantity": q} for s, q in counts.items()],
            }
        },
    )
    return data["recordCount"]


async def transition(gql, tenant, mutation: str, stocktake_id: str, caller=None, key=None) -> dict:
    variables = {"input": {"id": stocktake_id, "idempotencyKey": key}}
    data = await gql.ok(POST if mutation == "post" else CANCEL, caller or tenant.owner, variables)
    return data["postStocktake" if mutation == "post" else "cancelStocktake"]


async def level(tenant, loc: str, sku: str) -> int:
    return await on_hand(tenant.db, tenant.tenant_id, tenant.locations[loc], tenant.products[sku])


async def test_sales_between_count_and_post_are_not_shrinkage(gql, tenant):
    await receive(gql, tenant, "S1", {"A": 20, "B": 5})
    st = await start(gql, tenant)
    assert st["userErrors"] == []
    sid = st["stocktake"]["id"]
    assert {ln["product"]["sku"] for ln in st["stocktake"]["lines"]} == {"A", "B"}
    # The shelf holds 17 of A: 3 were stolen (the true shrinkage); B is right.
    counted = await count(gql, tenant, sid, {"A": 17, "B": 5})
    assert counted["userErrors"] == []
    assert [(ln["expectedAtCount"], ln["variance"]) for ln in counted["lines"]] == [
        (20, -3),
        (5, 0),
    ]
    # The shop keeps trading between the count and the posting.
    await sell(gql, tenant, "S1", "R-1", "A", 2)
    await sell(gql, tenant, "S1", "R-2", "A", 3)
    await receive(gql, tenant, "S1", {"A": 4})
    posted = await transition(gql, tenant, "post", sid)
    assert posted["userErrors"] == []
    assert posted["stocktake"]["status"] == "POSTED"
    # Only the shrinkage is posted, not the 5 sold or the 4 received since the count.
    assert [(m["kind"], m["delta"]) for m in posted["movements"]] == [("STOCKTAKE", -3)]
    assert posted["movements"][0]["reference"] == sid
    assert await level(tenant, "S1", "A") == 17 - 5 + 4
    assert await level(tenant, "S1", "B") == 5
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_a_sale_synced_late_from_an_offline_till_is_not_shrinkage(gql, tenant):
    await receive(gql, tenant, "S1", {"C": 10})
    sid = (await start(gql, tenant, kind="CYCLE", skus=["C"]))["stocktake"]["id"]
    # The till sold 1 ten minutes ago but was offline; the shelf shows 9, nothing is lost.
    await count(gql, tenant, sid, {"C": 9})
    earlier = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    late = await gql.ok(
        SALE,
        tenant.owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "receiptNumber": "OFFLINE-1",
                "occurredAt": earlier,
                "lines": [{"sku": "C", "quantity": 1}],
            }
        },
    )
    assert late["recordSale"]["userErrors"] == []
    await sell(gql, tenant, "S1", "ONLINE-2", "C", 2)  # a sale after the count: not shrinkage
    posted = await transition(gql, tenant, "post", sid)
    assert posted["userErrors"] == []
    assert posted["movements"] == []  # counted 9 = 10 − 1 sold before the count
    assert await level(tenant, "S1", "C") == 7
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_recount_replaces_the_line(gql, tenant):
    await receive(gql, tenant, "S1", {"A": 10})
    sid = (await start(gql, tenant))["stocktake"]["id"]
    await count(gql, tenant, sid, {"A": 4})
    await sell(gql, tenant, "S1", "R-1", "A", 1)
    again = await count(gql, tenant, sid, {"A": 8})
    # The recount is compared with on hand at the recount (9), not at the first count.
    assert [
        (ln["countedQuantity"], ln["expectedAtCount"], ln["variance"]) for ln in again["lines"]
    ] == [(8, 9, -1)]
    lines = [ln for ln in again["stocktake"]["lines"] if ln["countedQuantity"] is not None]
    assert len(lines) == 1
    posted = await transition(gql, tenant, "post", sid)
    assert [m["delta"] for m in posted["movements"]] == [-1]
    assert await level(tenant, "S1", "A") == 8
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def _categorise(tenant, categories: dict[str, str]) -> None:
    async with tenant.db.owner_transaction() as session:
        for sku, category in categories.items():
            await session.execute(
                text("UPDATE products SET category = :c WHERE tenant_id = :t AND sku = :s"),
                {"c": category, "t": tenant.tenant_id, "s": sku},
            )


async def test_full_and_cycle_selection(gql, tenant):
    await _categorise(tenant, {"A": "drinks", "B": "drinks", "C": "snacks"})
    await receive(gql, tenant, "S1", {"A": 5, "B": 5, "C": 5})
    await receive(gql, tenant, "S2", {"A": 1})

    def skus(payload: dict) -> list[str]:
        return sorted(ln["product"]["sku"] for ln in payload["stocktake"]["lines"])

    cycle = await start(gql, tenant, kind="CYCLE", category="drinks")
    assert cycle["userErrors"] == [] and skus(cycle) == ["A", "B"]
    assert cycle["stocktake"]["kind"] == "CYCLE"
    out_of_scope = await count(gql, tenant, cycle["stocktake"]["id"], {"C": 5})
    assert out_of_scope["userErrors"] == [
        {
            "code": "INVALID",
            "field": ["lines", "0", "sku"],
            "message": "C is not in this cycle count",
        }
    ]
    await count(gql, tenant, cycle["stocktake"]["id"], {"A": 5})
    assert (await transition(gql, tenant, "post", cycle["stocktake"]["id"]))["userErrors"] == []

    full = await start(gql, tenant, loc="S2")
    assert skus(full) == ["A"]  # only what is stocked at S2
    # A was counted (and posted) just now: a "not counted for 30 days" cycle skips it.
    stale = await start(gql, tenant, kind="CYCLE", notCountedForDays=30)
    assert skus(stale) == ["B", "C"]
    await transition(gql, tenant, "cancel", stale["stocktake"]["id"])
    async with tenant.db.owner_transaction() as session:
        await session.execute(
            text("UPDATE stocktake_lines SET counted_at = :at WHERE tenant_id = :t"),
            {"at": datetime.now(UTC) - timedelta(days=40), "t": tenant.tenant_id},
        )
    stale = await start(gql, tenant, kind="CYCLE", notCountedForDays=30, category="drinks")
    assert skus(stale) == ["A", "B"]
    await transition(gql, tenant, "cancel", stale["stocktake"]["id"])
    listed = await start(gql, tenant, kind="CYCLE", skus=["C"])
    assert skus(listed) == ["C"]
    await transition(gql, tenant, "cancel", listed["stocktake"]["id"])
    nothing = await start(gql, tenant, kind="CYCLE", category="toys")
    assert nothing["userErrors"][0]["code"] == "INVALID"
    mixed = await start(gql, tenant, kind="FULL", category="drinks")
    assert mixed["userErrors"][0]["code"] == "INVALID"


async def test_post_twice_cancel_and_one_open_count_per_location(gql, tenant):
    await receive(gql, tenant, "S1", {"A": 3})
    sid = (await start(gql, tenant))["stocktake"]["id"]
    assert (await start(gql, tenant))["userErrors"][0]["code"] == "ALREADY_EXISTS"
    empty = await transition(gql, tenant, "post", sid)
    assert empty["userErrors"][0]["code"] == "INVALID"  # nothing counted yet
    await count(gql, tenant, sid, {"A": 1})
    first = await transition(gql, tenant, "post", sid, key="post-1")
    assert first["userErrors"] == [] and [m["delta"] for m in first["movements"]] == [-2]
    replay = await transition(gql, tenant, "post", sid, key="post-1")
    assert replay["movements"] == first["movements"]
    twice = await transition(gql, tenant, "post", sid)
    assert twice["userErrors"][0]["code"] == "INVALID_TRANSITION"
    assert (await transition(gql, tenant, "cancel", sid))["userErrors"][0][
        "code"
    ] == "INVALID_TRANSITION"
    assert (await count(gql, tenant, sid, {"A": 1}))["userErrors"][0][
        "code"
    ] == "INVALID_TRANSITION"
    assert await level(tenant, "S1", "A") == 1

    other = (await start(gql, tenant))["stocktake"]["id"]
    await count(gql, tenant, other, {"A": 0})
    cancelled = await transition(gql, tenant, "cancel", other)
    assert cancelled["stocktake"]["status"] == "CANCELLED"
    assert (await transition(gql, tenant, "post", other))["userErrors"][0][
        "code"
    ] == "INVALID_TRANSITION"
    assert await level(tenant, "S1", "A") == 1  # nothing posted
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_permissions_by_rank_and_own_locations(gql, tenant):
    await receive(gql, tenant, "S1", {"A": 3})
    clerk = tenant.staff(Role.CLERK, ["S1"], staff_id=11)
    manager_s2 = tenant.staff(Role.STORE_MANAGER, ["S2"], staff_id=12)
    auditor = tenant.staff(Role.AUDITOR, staff_id=13)
    denied = await start(gql, tenant, caller=clerk, loc="S2")
    assert denied["userErrors"][0]["code"] == "FORBIDDEN"
    started = await start(gql, tenant, caller=clerk)
    assert started["userErrors"] == []
    sid = started["stocktake"]["id"]
    for caller in (manager_s2, auditor):
        refused = await count(gql, tenant, sid, {"A": 2}, caller=caller)
        assert refused["userErrors"][0]["code"] == "FORBIDDEN"
        for mutation in ("post", "cancel"):
            refused = await transition(gql, tenant, mutation, sid, caller=caller)
            assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    assert (await count(gql, tenant, sid, {"A": 2}, caller=clerk))["userErrors"] == []
    # Everyone reads stock (and stocktakes) everywhere.
    read = await gql.ok("query($id: ID!) { stocktake(id: $id) { status } }", auditor, {"id": sid})
    assert read["stocktake"] == {"status": "OPEN"}
    assert (await transition(gql, tenant, "post", sid, caller=clerk))["userErrors"] == []
    no_read = tenant.app(scopes="transfers:read")
    result = await gql("query($id: ID!) { stocktake(id: $id) { status } }", no_read, {"id": sid})
    assert result.errors[0].extensions["code"] == "FORBIDDEN"


async def test_other_tenants_ids_are_not_found(gql, tenant, other_tenant):
    await receive(gql, other_tenant, "S1", {"A": 3})
    foreign = (await start(gql, other_tenant))["stocktake"]["id"]
    assert (await count(gql, tenant, foreign, {"A": 1}))["userErrors"][0]["code"] == "NOT_FOUND"
    for mutation in ("post", "cancel"):
        assert (await transition(gql, tenant, mutation, foreign))["userErrors"][0][
            "code"
        ] == "NOT_FOUND"
    data = await gql.ok(
        "query($id: ID!) { stocktake(id: $id) { id } node(id: $id) { id } }",
        tenant.owner,
        {"id": foreign},
    )
    assert data == {"stocktake": None, "node": None}
    listed = await gql.ok("{ stocktakes { edges { node { id } } } }", tenant.owner)
    assert listed["stocktakes"]["edges"] == []
    started = await gql.ok(
        START,
        tenant.owner,
        {"input": {"locationId": other_tenant.loc("S1"), "kind": "FULL"}},
    )
    assert started["startStocktake"]["userErrors"][0]["code"] == "NOT_FOUND"
    record = await gql.ok(
        'query($l: ID!) { countRecord(locationId: $l, month: "2026-11") { month } }',
        tenant.owner,
        {"l": other_tenant.loc("S1")},
    )
    assert record["countRecord"] is None
    # the other tenant's stocktake is untouched
    mine = await gql.ok(
        "query($id: ID!) { stocktake(id: $id) { status } }", other_tenant.owner, {"id": foreign}
    )
    assert mine["stocktake"] == {"status": "OPEN"}


RECORD = """
query($l: ID!, $m: String!) {
  countRecord(locationId: $l, month: $m) {
    month location { code }
    stocktakes { id status totals { linesCounted netVarianceUnits } }
    totals { linesCounted netVarianceUnits lossUnits gainUnits
             netVarianceCost { amount currency } lossCost { amount } gainCost { amount } }
  }
}"""


async def test_monthly_count_record_in_units_and_at_cost(gql, tenant):
    await receive(gql, tenant, "S1", {"A": 10, "B": 10, "C": 10})
    first = (await start(gql, tenant))["stocktake"]["id"]
    await count(gql, tenant, first, {"A": 7, "C": 10})  # A: -3 at 4.00
    await transition(gql, tenant, "post", first)
    second = (await start(gql, tenant, kind="CYCLE", skus=["B"]))["stocktake"]["id"]
    await count(gql, tenant, second, {"B": 12})  # B: +2 at 9.50
    await transition(gql, tenant, "post", second)
    month = datetime.now(ZoneInfo("Asia/Hong_Kong")).strftime("%Y-%m")
    data = await gql.ok(RECORD, tenant.owner, {"l": tenant.loc("S1"), "m": month})
    record = data["countRecord"]
    assert record["month"] == month and record["location"] == {"code": "S1"}
    assert [s["totals"] for s in record["stocktakes"]] == [
        {"linesCounted": 2, "netVarianceUnits": -3},
        {"linesCounted": 1, "netVarianceUnits": 2},
    ]
    totals = record["totals"]
    assert totals["linesCounted"] == 3
    assert (totals["netVarianceUnits"], totals["lossUnits"], totals["gainUnits"]) == (-1, 3, 2)
    assert totals["netVarianceCost"] == {"amount": "7.0000", "currency": "HKD"}
    assert totals["lossCost"] == {"amount": "12.0000"}
    assert totals["gainCost"] == {"amount": "19.0000"}

    clerk = tenant.staff(Role.CLERK, ["S1"], staff_id=21)
    hidden = await gql(RECORD, clerk, {"l": tenant.loc("S1"), "m": month})
    assert hidden.data["countRecord"]["totals"]["netVarianceUnits"] == -1
    assert hidden.data["countRecord"]["totals"]["netVarianceCost"] is None
    codes = {e.extensions["code"] for e in hidden.errors}
    assert codes == {"FORBIDDEN"}
    paths = {tuple(e.path) for e in hidden.errors}
    assert ("countRecord", "totals", "netVarianceCost") in paths

    empty = await gql.ok(RECORD, tenant.owner, {"l": tenant.loc("S1"), "m": "2001-01"})
    assert empty["countRecord"]["stocktakes"] == []
    bad = await gql(RECORD, tenant.owner, {"l": tenant.loc("S1"), "m": "November"})
    assert bad.errors[0].extensions["code"] == "INVALID"


async def test_concurrent_counting_and_sales_post_exactly_the_shrinkage(gql, tenant):
    """Counts and sales race at one location; every line's expectation matches the ledger."""
    await receive(gql, tenant, "S1", {"A": 100, "B": 100, "C": 100})
    sid = (await start(gql, tenant))["stocktake"]["id"]
    rng = random.Random(11)
    counted = {"A": 80, "B": 90, "C": 70}

    async def sale(i: int) -> None:
        await sell(gql, tenant, "S1", f"C-{i}", rng.choice("ABC"), rng.randint(1, 2))

    async def counter(sku: str, quantity: int) -> None:
        result = await count(gql, tenant, sid, {sku: quantity})
        assert result["userErrors"] == []

    tasks = [sale(i) for i in range(24)]
    tasks += [counter(sku, q) for sku, q in counted.items()]
    tasks += [counter("A", counted["A"]), counter("C", counted["C"])]  # recounts race too
    rng.shuffle(tasks)
    await asyncio.gather(*tasks)
    before_post = await gql.ok(
        "query($id: ID!) { stocktake(id: $id) { lines { product { sku } countedQuantity "
        "expectedAtCount ledgerSequenceAtCount variance } } }",
        tenant.owner,
        {"id": sid},
    )
    lines = {ln["product"]["sku"]: ln for ln in before_post["stocktake"]["lines"]}
    await asyncio.gather(*(sale(i) for i in range(24, 36)))
    posted = await transition(gql, tenant, "post", sid)
    assert posted["userErrors"] == []
    for sku in "ABC":
        moves = (await gql.ok(MOVEMENTS, tenant.owner, {"loc": tenant.loc("S1"), "sku": sku}))[
            "stockMovements"
        ]["edges"]
        moves = [m["node"] for m in moves]
        line = lines[sku]
        at = int(line["ledgerSequenceAtCount"])
        trading = [m for m in moves if m["kind"] != "STOCKTAKE"]
        # the expectation is exactly the ledger up to the count's sequence
        assert line["expectedAtCount"] == sum(
            m["delta"] for m in trading if int(m["sequence"]) <= at
        )
        sold_after = sum(m["delta"] for m in trading if int(m["sequence"]) > at)
        # what was posted is counted - expected: the shrinkage only
        posted_delta = sum(m["delta"] for m in moves if m["kind"] == "STOCKTAKE")
        assert posted_delta == counted[sku] - line["expectedAtCount"] == line["variance"]
        # and on hand is the count moved by the trading since it
        assert await level(tenant, "S1", sku) == counted[sku] + sold_after
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []
