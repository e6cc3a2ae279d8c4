"""Moving-average valuation through the real schema, against figures computed by hand."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from auth.permissions import Role
from tests.graphql.test_stocktakes import count, start, transition
from tests.graphql.transfer_ops import lines, ok
from tests.helpers import ledger_mismatches

RECEIVE = """mutation($input: ReceiveStockInput!) {
  receiveStock(input: $input) { movements { unitCost { amount } } userErrors { code } } }"""
SALE = """mutation($input: RecordSaleInput!) {
  recordSale(input: $input) { movements { kind delta unitCost { amount currency }
    valueChange { amount } } userErrors { code } } }"""
LEVEL = """query($loc: ID!, $sku: String!) { stockLevel(locationId: $loc, sku: $sku) {
  onHand averageCost { amount currency } stockValue { amount } } }"""
MOVEMENTS = """query($loc: ID) { stockMovements(first: 250, locationId: $loc) {
  edges { node { kind delta unitCost { amount } valueChange { amount } } } } }"""

# The ledger's value of every level against the level's own, straight from the tables.
VALUE_MISMATCHES = text(
    """
    SELECT s.location_id, s.product_id, s.stock_value, COALESCE(m.value, 0) AS ledger
    FROM stock_levels s
    LEFT JOIN (
        SELECT location_id, product_id, SUM(delta * unit_cost) AS value FROM stock_movements
        WHERE tenant_id = :t GROUP BY location_id, product_id
    ) m ON m.location_id = s.location_id AND m.product_id = s.product_id
    WHERE s.tenant_id = :t AND s.stock_value <> COALESCE(m.value, 0)
    """
)


async def value_mismatches(db, tenant_id: int) -> list[tuple]:
    async with db.owner_transaction() as session:
        return [tuple(r) for r in await session.execute(VALUE_MISMATCHES, {"t": tenant_id})]


async def receive(gql, tenant, loc: str, sku: str, qty: int, cost: str | None) -> dict:
    line = {"sku": sku, "quantity": qty, "unitCost": cost}
    data = await gql.ok(
        RECEIVE, tenant.owner, {"input": {"locationId": tenant.loc(loc), "lines": [line]}}
    )
    assert data["receiveStock"]["userErrors"] == []
    return data["receiveStock"]


async def sell(gql, tenant, loc: str, receipt: str, sku: str, qty: int) -> dict:
    variables = {
        "input": {
            "locationId": tenant.loc(loc),
            "receiptNumber": receipt,
            "lines": [{"sku": sku, "quantity": qty}],
        }
    }
    data = await gql.ok(SALE, tenant.owner, variables)
    assert data["recordSale"]["userErrors"] == []
    return data["recordSale"]


async def level(gql, tenant, loc: str, sku: str) -> dict:
    data = await gql.ok(LEVEL, tenant.owner, {"loc": tenant.loc(loc), "sku": sku})
    return data["stockLevel"]


async def test_receipts_transfer_sales_and_stocktake_gain_give_the_hand_computed_value(gql, tenant):
    # S1: 10 @ 4.00, 5 @ 5.50, 3 @ 6.10 → 18 units worth 85.80, average 4.7667
    await receive(gql, tenant, "S1", "A", 10, "4.00")
    await receive(gql, tenant, "S1", "A", 5, "5.50")
    await receive(gql, tenant, "S1", "A", 3, "6.10")
    lv = await level(gql, tenant, "S1", "A")
    assert lv["averageCost"] == {"amount": "4.7667", "currency": "HKD"}
    assert Decimal(lv["stockValue"]["amount"]) == Decimal("85.80")

    # a sale of 4 leaves at the average: cost of goods sold 4 × 4.7667 = 19.0668
    sale = await sell(gql, tenant, "S1", "R-1", "A", 4)
    (moved,) = sale["movements"]
    assert moved["unitCost"] == {"amount": "4.7667", "currency": "HKD"}
    assert Decimal(moved["valueChange"]["amount"]) == Decimal("-19.0668")

    # 6 units go S1 → S2: they leave at 4.7667 and arrive at 4.7667
    t = await ok(
        gql,
        tenant.owner,
        "createTransfer",
        fromLocationId=tenant.loc("S1"),
        toLocationId=tenant.loc("S2"),
        lines=lines(A=6),
        submit=True,
    )
    for step in ("approve", "ship"):
        await ok(gql, tenant.owner, f"{step}Transfer", id=t["id"])
    await ok(gql, tenant.owner, "receiveTransfer", id=t["id"], lines=lines(A=6))
    s2 = await level(gql, tenant, "S2", "A")
    assert s2["averageCost"]["amount"] == "4.7667"
    assert Decimal(s2["stockValue"]["amount"]) == Decimal("28.6002")

    # S2: + 2 @ 5.00 → 8 units worth 38.6002, average 38.6002 / 8 = 4.825025 → 4.8250
    await receive(gql, tenant, "S2", "A", 2, "5.00")
    assert (await level(gql, tenant, "S2", "A"))["averageCost"]["amount"] == "4.8250"
    # S2 sells 3 at 4.8250 → 24.1252 left on 5 units
    await sell(gql, tenant, "S2", "R-2", "A", 3)
    # a stocktake finds 7: the 2 found units enter at the average, 9.6500
    st = await start(gql, tenant, loc="S2")
    sid = st["stocktake"]["id"]
    await count(gql, tenant, sid, {"A": 7})
    posted = await transition(gql, tenant, "post", sid)
    assert posted["userErrors"] == []

    s1 = await level(gql, tenant, "S1", "A")
    s2 = await level(gql, tenant, "S2", "A")
    assert (s1["onHand"], Decimal(s1["stockValue"]["amount"])) == (8, Decimal("38.1330"))
    assert (s2["onHand"], Decimal(s2["stockValue"]["amount"])) == (7, Decimal("33.7752"))
    assert s2["averageCost"]["amount"] == "4.8250"

    # the same figures from the ledger alone: closing value and cost of goods sold
    data = await gql.ok(MOVEMENTS, tenant.owner, {"loc": None})
    nodes = [e["node"] for e in data["stockMovements"]["edges"]]
    closing = sum(Decimal(n["valueChange"]["amount"]) for n in nodes)
    cogs = -sum(Decimal(n["valueChange"]["amount"]) for n in nodes if n["kind"] == "SALE")
    assert closing == Decimal("71.9082")
    assert cogs == Decimal("33.5418")
    assert await value_mismatches(tenant.db, tenant.tenant_id) == []
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_a_receipt_without_a_cost_enters_at_the_average_and_a_new_level_at_catalogue_cost(
    gql, tenant
):
    # product B's catalogue cost is 9.50: a first receipt without a cost enters at it
    received = await receive(gql, tenant, "S1", "B", 4, None)
    assert received["movements"][0]["unitCost"]["amount"] == "9.5000"
    await receive(gql, tenant, "S1", "B", 4, "10.50")
    await receive(gql, tenant, "S1", "B", 2, None)  # at the average 10.0000
    lv = await level(gql, tenant, "S1", "B")
    assert lv["averageCost"]["amount"] == "10.0000"
    assert Decimal(lv["stockValue"]["amount"]) == Decimal("100.00")
    assert await value_mismatches(tenant.db, tenant.tenant_id) == []


async def test_an_oversell_is_costed_at_the_average_and_the_next_receipt_settles(gql, tenant):
    await receive(gql, tenant, "S1", "C", 2, "3.00")
    await sell(gql, tenant, "S1", "R-9", "C", 5)  # 3 units short, all at 3.0000
    lv = await level(gql, tenant, "S1", "C")
    assert (lv["onHand"], Decimal(lv["stockValue"]["amount"])) == (-3, Decimal("-9.00"))
    await receive(gql, tenant, "S1", "C", 5, "3.30")  # 2 units left worth -9 + 16.50 = 7.50
    lv = await level(gql, tenant, "S1", "C")
    assert (lv["onHand"], lv["averageCost"]["amount"]) == (2, "3.7500")
    assert await value_mismatches(tenant.db, tenant.tenant_id) == []


async def test_cost_fields_are_null_and_forbidden_without_costs_read(gql, tenant):
    await receive(gql, tenant, "S1", "A", 3, "4.00")
    clerk = tenant.staff(Role.CLERK, ["S1"], staff_id=21)
    result = await gql(LEVEL, clerk, {"loc": tenant.loc("S1"), "sku": "A"})
    assert result.data["stockLevel"]["onHand"] == 3
    assert result.data["stockLevel"]["averageCost"] is None
    assert result.data["stockLevel"]["stockValue"] is None
    codes = {(tuple(e.path), e.extensions["code"]) for e in result.errors}
    assert codes == {
        (("stockLevel", "averageCost"), "FORBIDDEN"),
        (("stockLevel", "stockValue"), "FORBIDDEN"),
    }
    app = tenant.app("stock:read")
    result = await gql(MOVEMENTS, app, {"loc": tenant.loc("S1")})
    node = result.data["stockMovements"]["edges"][0]["node"]
    assert node["delta"] == 3 and node["unitCost"] is None and node["valueChange"] is None
    assert {e.extensions["code"] for e in result.errors} == {"FORBIDDEN"}
    auditor = tenant.staff(Role.AUDITOR, staff_id=22)
    lv = (await gql.ok(LEVEL, auditor, {"loc": tenant.loc("S1"), "sku": "A"}))["stockLevel"]
    assert lv["averageCost"]["amount"] == "4.0000"


async def test_valuation_is_isolated_between_tenants(gql, tenant, other_tenant):
    await receive(gql, tenant, "S1", "A", 3, "4.00")
    await receive(gql, other_tenant, "S1", "A", 1, "99.00")
    lv = await level(gql, tenant, "S1", "A")
    assert Decimal(lv["stockValue"]["amount"]) == Decimal("12.00")
    # the other tenant's location id resolves to nothing for this tenant
    data = await gql.ok(LEVEL, tenant.owner, {"loc": other_tenant.loc("S1"), "sku": "A"})
    assert data["stockLevel"] is None


async def test_concurrent_receipts_and_sales_cost_as_if_posted_one_by_one(gql, tenant):
    """Many clients at once: the averages equal a replay of the ledger in sequence order."""
    import asyncio
    import random

    from domain.valuation.average import Position

    rng = random.Random(12)
    gate = asyncio.Semaphore(4)  # a few connections: the server is shared

    async def one(i: int) -> None:
        async with gate:
            if i % 3 == 2:
                await sell(gql, tenant, "S1", f"C-{i}", "A", rng.randint(1, 4))
            else:
                await receive(gql, tenant, "S1", "A", rng.randint(1, 9), f"{rng.uniform(3, 6):.4f}")

    await asyncio.gather(*(one(i) for i in range(45)))
    async with tenant.db.owner_transaction() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT kind, delta, unit_cost FROM stock_movements WHERE tenant_id = :t "
                    "ORDER BY sequence"
                ),
                {"t": tenant.tenant_id},
            )
        ).all()
        level = (
            await session.execute(
                text(
                    "SELECT on_hand, stock_value, average_cost FROM stock_levels "
                    "WHERE tenant_id = :t AND location_id = :l"
                ),
                {"t": tenant.tenant_id, "l": tenant.locations["S1"]},
            )
        ).one()
    assert len(rows) == 45
    position = Position(0, Decimal(0), Decimal("4.0000"))  # A's catalogue cost
    for row in rows:
        given = row.unit_cost if row.kind == "RECEIPT" else None
        cost, position = position.move(row.kind, row.delta, given)
        assert cost == row.unit_cost
    assert (level.on_hand, level.stock_value, level.average_cost) == (
        position.on_hand,
        position.value,
        position.average,
    )
    assert await value_mismatches(tenant.db, tenant.tenant_id) == []
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []
