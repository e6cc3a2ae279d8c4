"""KPIs against figures computed by hand, and who may read them."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from auth.permissions import Role
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from tests.graphql.test_members import CREATE
from tests.graphql.transfer_ops import lines, ok

HK = ZoneInfo("Asia/Hong_Kong")
INVENTORY = """query($from: Date!, $to: Date!, $loc: ID) {
  inventoryKpis(from: $from, to: $to, locationId: $loc) {
    currency days unitsSold unitsOversold costOfGoodsSold openingValue closingValue
    stockOutSkuDays skuDays stockOutRate fillRate inventoryTurnover daysOfCover sellThrough
    shrinkage { reason units value } transferLeadTimeHours transfersReceived forecastAccuracy } }"""
MEMBERS = """query($from: Date!, $to: Date!) { memberKpis(from: $from, to: $to) {
  buyers repeatBuyers repurchaseRate lifetimeValue { segment members lifetimeValue }
  offersSent offersRedeemed offerConversion } }"""
SALE = (
    """mutation($input: RecordSaleInput!) { recordSale(input: $input) { userErrors { code } } }"""
)


def day(offset: int) -> str:
    return (datetime.now(HK).date() + timedelta(days=offset)).isoformat()


def noon(offset: int) -> datetime:
    return datetime.combine(datetime.now(HK).date() + timedelta(days=offset), time(12), HK)


async def move(tenant, kind: MovementKind, delta: int, when: datetime, **extra) -> None:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        posting = Posting(
            location_id=tenant.locations["S1"],
            product_id=tenant.products["A"],
            kind=kind,
            delta=delta,
            occurred_at=when,
            allow_negative=kind is MovementKind.SALE,
            **extra,
        )
        await post(session, tenant.owner, [posting])


async def test_inventory_kpis_match_the_hand_computed_figures(gql, tenant):
    four = Decimal("4.00")
    await move(tenant, MovementKind.RECEIPT, 10, noon(-5), unit_cost=four)  # opening 10 = 40
    await move(tenant, MovementKind.SALE, -6, noon(-3))  # end of day: 4
    await move(tenant, MovementKind.RECEIPT, 2, noon(-2), unit_cost=four)
    await move(tenant, MovementKind.SALE, -8, noon(-2))  # 2 oversold; end of day: -2
    await move(tenant, MovementKind.RECEIPT, 5, noon(-1), unit_cost=four)
    await move(tenant, MovementKind.DAMAGE, -1, noon(-1), reason="DAMAGE")  # end of day: 2

    data = await gql.ok(INVENTORY, tenant.owner, {"from": day(-3), "to": day(-1), "loc": None})
    k = data["inventoryKpis"]
    assert (k["currency"], k["days"], k["unitsSold"], k["unitsOversold"]) == ("HKD", 3, 14, 2)
    assert Decimal(k["costOfGoodsSold"]) == 56
    assert (Decimal(k["openingValue"]), Decimal(k["closingValue"])) == (40, 8)
    assert (k["stockOutSkuDays"], k["skuDays"], k["stockOutRate"]) == (1, 3, "0.3333")
    assert k["fillRate"] == "0.8571"  # 12 ÷ 14
    assert k["inventoryTurnover"] == "2.3333"  # 56 ÷ ((40 + 8) ÷ 2)
    assert k["daysOfCover"] == "0.4286"  # 8 ÷ (56 ÷ 3)
    assert k["sellThrough"] == "0.8235"  # 14 ÷ (10 + 2 + 5)
    assert [(s["reason"], s["units"], Decimal(s["value"])) for s in k["shrinkage"]] == [
        ("DAMAGE", 1, 4)
    ]
    assert k["forecastAccuracy"] is None
    other = await gql.ok(
        INVENTORY, tenant.owner, {"from": day(-3), "to": day(-1), "loc": tenant.loc("S2")}
    )
    assert other["inventoryKpis"]["unitsSold"] == 0
    assert other["inventoryKpis"]["fillRate"] is None

    clerk = tenant.staff(Role.CLERK, ["S1"], staff_id=41)
    refused = await gql(INVENTORY, clerk, {"from": day(-3), "to": day(-1), "loc": None})
    assert refused.errors[0].extensions["code"] == "FORBIDDEN"
    backwards = await gql(INVENTORY, tenant.owner, {"from": day(-1), "to": day(-3), "loc": None})
    assert backwards.errors[0].extensions["code"] == "INVALID"


async def test_transfer_lead_time_counts_received_transfers(gql, tenant):
    await move(tenant, MovementKind.RECEIPT, 5, noon(-1), unit_cost=Decimal("1"))
    t = await ok(
        gql,
        tenant.owner,
        "createTransfer",
        fromLocationId=tenant.loc("S1"),
        toLocationId=tenant.loc("S2"),
        lines=lines(A=2),
        submit=True,
    )
    for step in ("approve", "ship"):
        await ok(gql, tenant.owner, f"{step}Transfer", id=t["id"])
    await ok(gql, tenant.owner, "receiveTransfer", id=t["id"], lines=lines(A=2))
    data = await gql.ok(INVENTORY, tenant.owner, {"from": day(0), "to": day(0), "loc": None})
    k = data["inventoryKpis"]
    assert k["transfersReceived"] == 1
    assert 0 <= Decimal(k["transferLeadTimeHours"]) < 1


async def test_member_kpis_repurchase_rate_and_lifetime_value(gql, tenant, other_tenant):
    ids = []
    for name in ("陳大文", "李小明"):
        created = await gql.ok(CREATE, tenant.owner, {"input": {"name": name}})
        ids.append(created["createMember"]["member"]["id"])
    for i, (member, price) in enumerate([(ids[0], "10"), (ids[0], "30"), (ids[1], "20")]):
        variables = {
            "input": {
                "locationId": tenant.loc("S1"),
                "receiptNumber": f"M-{i}",
                "memberId": member,
                "lines": [{"sku": "A", "quantity": 1, "unitPrice": price}],
            }
        }
        assert (await gql.ok(SALE, tenant.owner, variables))["recordSale"]["userErrors"] == []
    k = (await gql.ok(MEMBERS, tenant.owner, {"from": day(0), "to": day(0)}))["memberKpis"]
    assert (k["buyers"], k["repeatBuyers"], k["repurchaseRate"]) == (2, 1, "0.5000")
    assert sum(s["members"] for s in k["lifetimeValue"]) == 2
    (segment,) = k["lifetimeValue"]
    assert Decimal(segment["lifetimeValue"]) == Decimal("30.00")  # (40 + 20) ÷ 2
    assert (k["offersSent"], k["offerConversion"]) == (0, None)
    theirs = await gql.ok(MEMBERS, other_tenant.owner, {"from": day(0), "to": day(0)})
    assert theirs["memberKpis"]["buyers"] == 0
