"""Point of sale over GraphQL: devices, offline batches exactly once, returns, voids."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from auth.caller import Caller
from auth.permissions import Role
from domain.tenancy import service as tenancy
from tests.graphql.pos_ops import (
    DISABLE,
    REGISTER,
    RETURN,
    STATUS,
    SYNC,
    VOID,
    register,
    sale,
    sync,
)
from tests.helpers import count_rows, ledger_mismatches, on_hand

RECEIVE = """mutation($input: ReceiveStockInput!) { receiveStock(input: $input) {
  userErrors { code } } }"""
RECORD_SALE = """mutation($input: RecordSaleInput!) { recordSale(input: $input) {
  userErrors { code field } } }"""


async def _receive(gql, tenant, location: str, sku: str, quantity: int) -> None:
    data = await gql.ok(
        RECEIVE,
        tenant.owner,
        {
            "input": {
                "locationId": tenant.loc(location),
                "lines": [{"sku": sku, "quantity": quantity}],
            }
        },
    )
    assert data["receiveStock"]["userErrors"] == []


async def test_register_and_sync_exactly_once(gql, db, tenant):
    device, till = await register(gql, tenant)
    assert device["status"] == "ACTIVE" and device["location"] == {"code": "S1"}
    await _receive(gql, tenant, "S1", "A", 5)
    sales = [
        sale("A", 2),
        sale("B", 1, "20.00", method="OCTOPUS", reference="OCT-1", terminal="R9"),
    ]
    first = await sync(gql, till, device["id"], sales)
    assert (first["accepted"], first["duplicates"], first["rejected"]) == (2, 0, 0)
    again = await sync(gql, till, device["id"], list(reversed(sales)))
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 2, 0)
    by_client = {r["clientSaleId"]: r for r in first["results"]}
    for r in again["results"]:
        assert r["status"] == "DUPLICATE"
        assert r["sale"] == by_client[r["clientSaleId"]]["sale"]
    assert await on_hand(db, tenant.tenant_id, tenant.locations["S1"], tenant.products["A"]) == 3
    # B had none: the sale is recorded and flagged, never refused.
    b = next(r for r in first["results"] if r["clientSaleId"] == sales[1]["clientSaleId"])
    assert b["sale"]["oversold"] is True and b["sale"]["total"]["amount"] == "20.00"
    assert await on_hand(db, tenant.tenant_id, tenant.locations["S1"], tenant.products["B"]) == -1
    assert await count_rows(db, "pos_sales", tenant.tenant_id) == 2
    assert await count_rows(db, "pos_tenders", tenant.tenant_id) == 2
    assert await ledger_mismatches(db, tenant.tenant_id) == []
    status = (await gql.ok(STATUS, till, {"id": device["id"]}))["deviceSyncStatus"]
    assert status["salesCount"] == 2 and status["lastSyncAt"] is not None
    latest = max(sales, key=lambda s: s["occurredAt"])
    assert status["lastClientSaleId"] == latest["clientSaleId"]


async def test_one_bad_sale_never_fails_the_others(gql, db, tenant):
    device, till = await register(gql, tenant)
    good = sale("A", 1)
    unknown = sale("NOPE", 1)
    short = sale("A", 2)
    short["tenders"][0]["amount"] = "19.99"
    not_uuid = sale("A", 1, client="till-7")
    elsewhere = sale("A", 1)
    elsewhere["locationId"] = tenant.loc("S2")
    result = await sync(gql, till, device["id"], [unknown, good, short, not_uuid, elsewhere])
    codes = [(r["status"], [e["code"] for e in r["userErrors"]]) for r in result["results"]]
    assert codes == [
        ("REJECTED", ["NOT_FOUND"]),
        ("ACCEPTED", []),
        ("REJECTED", ["INVALID"]),
        ("REJECTED", ["INVALID"]),
        ("REJECTED", ["FORBIDDEN"]),
    ]
    assert result["results"][0]["userErrors"][0]["field"] == ["sales", "0", "lines", "0", "sku"]
    assert result["results"][2]["userErrors"][0]["field"] == ["sales", "2", "tenders"]
    assert await count_rows(db, "pos_sales", tenant.tenant_id) == 1
    assert await count_rows(db, "sales", tenant.tenant_id) == 1
    # A rejected sale, corrected, is accepted under the same client sale ID.
    short["tenders"][0]["amount"] = "20.00"
    fixed = await sync(gql, till, device["id"], [short])
    assert fixed["results"][0]["status"] == "ACCEPTED"
    # The same sale twice in one batch, and a bad one twice.
    twice = sale("C", 1, "5.50")
    bad = sale("NOPE", 1)
    result = await sync(gql, till, device["id"], [twice, bad, twice, bad])
    assert [r["status"] for r in result["results"]] == [
        "ACCEPTED",
        "REJECTED",
        "DUPLICATE",
        "REJECTED",
    ]
    assert result["results"][2]["sale"] == result["results"][0]["sale"]
    assert await ledger_mismatches(db, tenant.tenant_id) == []


async def test_barcodes_and_discounts(gql, db, tenant):
    device, till = await register(gql, tenant)
    async with db.owner_transaction() as session:
        await session.execute(
            text(
                "UPDATE products SET barcode = '4891234567890' WHERE tenant_id = :t AND sku = 'B'"
            ),
            {"t": tenant.tenant_id},
        )
    discounted = sale("A", 3)  # 3 x 10.00, 5.00 off the line
    discounted["lines"][0]["discount"] = "5.00"
    discounted["lines"].append({"barcode": "4891234567890", "quantity": 1})  # 20.00, list price
    discounted["tenders"] = [
        {"method": "CASH", "amount": "15.00"},
        {"method": "FPS", "amount": "30.00", "providerReference": "FPS-1"},
    ]
    result = await sync(gql, till, device["id"], [discounted])
    [r] = result["results"]
    assert r["status"] == "ACCEPTED", r
    assert r["sale"]["total"]["amount"] == "45.00"
    loc = tenant.locations["S1"]
    assert await on_hand(db, tenant.tenant_id, loc, tenant.products["B"]) == -1
    assert await count_rows(db, "pos_tenders", tenant.tenant_id) == 2


async def test_device_token_sells_only_at_its_location(gql, tenant):
    device, till = await register(gql, tenant, "S1")
    other, _ = await register(gql, tenant, "S2", "Till 2")
    theirs = await sync(gql, till, other["id"], [sale()])
    assert [e["code"] for e in theirs["userErrors"]] == ["FORBIDDEN"]
    direct = await gql.ok(
        RECORD_SALE,
        till,
        {
            "input": {
                "locationId": tenant.loc("S2"),
                "receiptNumber": "X1",
                "lines": [{"sku": "A", "quantity": 1}],
            }
        },
    )
    assert [e["code"] for e in direct["recordSale"]["userErrors"]] == ["FORBIDDEN"]
    clerk = tenant.staff(Role.CLERK, ["S2"])
    by_clerk = await sync(gql, clerk, device["id"], [sale()])
    assert [e["code"] for e in by_clerk["userErrors"]] == ["FORBIDDEN"]


async def test_disabled_device_stops(gql, db, tenant):
    device, till = await register(gql, tenant)
    clerk = tenant.staff(Role.CLERK, ["S1"])
    denied = await gql.ok(DISABLE, clerk, {"input": {"id": device["id"]}})
    assert [e["code"] for e in denied["disableDevice"]["userErrors"]] == ["FORBIDDEN"]
    done = await gql.ok(DISABLE, tenant.owner, {"input": {"id": device["id"]}})
    assert done["disableDevice"]["device"]["status"] == "DISABLED"
    refused = await sync(gql, till, device["id"], [sale()])
    assert [e["code"] for e in refused["userErrors"]] == ["INVALID_TRANSITION"]
    async with db.owner_transaction() as session:
        active = (
            await session.execute(
                text("SELECT active FROM partner_apps WHERE client_id = :c"),
                {"c": device["clientId"]},
            )
        ).scalar_one()
    assert active is False


async def test_concurrent_replays_apply_once(gql, db, tenant):
    device, till = await register(gql, tenant)
    device2, _ = await register(gql, tenant, "S1", "Till 2")
    batch = [sale("A", 1), sale("B", 2, "20.00"), sale("C", 1, "5.50")]
    results = await asyncio.gather(
        *(sync(gql, till, device["id"], list(batch) if i % 2 else batch[::-1]) for i in range(6))
    )
    assert sum(r["accepted"] for r in results) == 3
    assert sum(r["duplicates"] for r in results) == 15
    assert await count_rows(db, "pos_sales", tenant.tenant_id) == 3
    assert await count_rows(db, "pos_tenders", tenant.tenant_id) == 3
    assert await ledger_mismatches(db, tenant.tenant_id) == []
    assert device2["id"] != device["id"]


async def test_return_and_void_exactly_once(gql, db, tenant):
    device, till = await register(gql, tenant)
    await _receive(gql, tenant, "S1", "A", 10)
    bought = sale("A", 3, method="ALIPAYHK", reference="AP-1")
    other = sale("A", 2)
    await sync(gql, till, device["id"], [bought, other])
    loc, prod = tenant.locations["S1"], tenant.products["A"]
    assert await on_hand(db, tenant.tenant_id, loc, prod) == 5
    ret = {
        "clientReturnId": str(uuid.uuid4()),
        "clientSaleId": bought["clientSaleId"],
        "lines": [{"sku": "A", "quantity": 2}],
        "refunds": [{"method": "ALIPAYHK", "amount": "20.00", "providerReference": "AP-1R"}],
        "reason": "wrong size",
    }
    first = (await gql.ok(RETURN, till, {"input": ret}))["recordReturn"]
    assert first["status"] == "ACCEPTED" and first["reversal"]["lines"] == [
        {"sku": "A", "quantity": 2}
    ]
    again = (await gql.ok(RETURN, till, {"input": ret}))["recordReturn"]
    assert again["status"] == "DUPLICATE" and again["reversal"]["id"] == first["reversal"]["id"]
    assert await on_hand(db, tenant.tenant_id, loc, prod) == 7
    too_many = {**ret, "clientReturnId": str(uuid.uuid4())}
    refused = (await gql.ok(RETURN, till, {"input": too_many}))["recordReturn"]
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID", ["lines", "0", "quantity"])
    ]
    void = {"clientVoidId": str(uuid.uuid4()), "clientSaleId": other["clientSaleId"], "reason": "x"}
    voided = (await gql.ok(VOID, till, {"input": void}))["voidSale"]
    assert voided["status"] == "ACCEPTED" and voided["reversal"]["amount"] == "20.00"
    assert (await gql.ok(VOID, till, {"input": void}))["voidSale"]["status"] == "DUPLICATE"
    twice = {**void, "clientVoidId": str(uuid.uuid4())}
    codes = [
        e["code"] for e in (await gql.ok(VOID, till, {"input": twice}))["voidSale"]["userErrors"]
    ]
    assert codes == ["INVALID_TRANSITION"]
    has_return = {**void, "clientVoidId": str(uuid.uuid4()), "clientSaleId": bought["clientSaleId"]}
    codes = [
        e["code"]
        for e in (await gql.ok(VOID, till, {"input": has_return}))["voidSale"]["userErrors"]
    ]
    assert codes == ["INVALID_TRANSITION"]
    assert await on_hand(db, tenant.tenant_id, loc, prod) == 9
    # one refund row for the return, one reversal of the voided sale's tender
    assert await count_rows(db, "pos_tenders", tenant.tenant_id) == 4
    assert await ledger_mismatches(db, tenant.tenant_id) == []
    status = (await gql.ok(STATUS, till, {"id": device["id"]}))["deviceSyncStatus"]
    assert (status["salesCount"], status["voidedCount"], status["returnsCount"]) == (2, 1, 1)


async def test_returns_and_voids_in_batches_exactly_once(gql, db, tenant):
    device, till = await register(gql, tenant)
    s2, till2 = await register(gql, tenant, "S2", "Till 2")
    await _receive(gql, tenant, "S1", "A", 10)
    earlier = sale("A", 2)
    await sync(gql, till, device["id"], [earlier])
    elsewhere = sale("A", 1)
    await sync(gql, till2, s2["id"], [elsewhere])
    bought = sale("A", 3)
    returned = {
        "clientReturnId": str(uuid.uuid4()),
        "clientSaleId": bought["clientSaleId"],
        "lines": [{"sku": "A", "quantity": 1}],
        "refunds": [{"method": "CASH", "amount": "10.00"}],
        "reason": "damaged box",
    }
    voided = {
        "clientVoidId": str(uuid.uuid4()),
        "clientSaleId": earlier["clientSaleId"],
        "reason": "x",
    }
    foreign = {
        **voided,
        "clientVoidId": str(uuid.uuid4()),
        "clientSaleId": elsewhere["clientSaleId"],
    }
    batch = {"returns": [returned], "voids": [voided, foreign]}
    first = await sync(gql, till, device["id"], [bought], **batch)
    assert first["accepted"] == 1
    assert [r["status"] for r in first["returnResults"]] == ["ACCEPTED"]
    assert [r["status"] for r in first["voidResults"]] == ["ACCEPTED", "REJECTED"]
    assert first["voidResults"][1]["userErrors"] == [
        {"code": "FORBIDDEN", "field": ["voids", "1", "clientSaleId"]}
    ]
    again = await sync(gql, till, device["id"], [bought], **batch)
    assert again["duplicates"] == 1
    assert [r["status"] for r in again["returnResults"]] == ["DUPLICATE"]
    assert again["returnResults"][0]["reversal"] == first["returnResults"][0]["reversal"]
    assert [r["status"] for r in again["voidResults"]] == ["DUPLICATE", "REJECTED"]
    loc, prod = tenant.locations["S1"], tenant.products["A"]
    assert await on_hand(db, tenant.tenant_id, loc, prod) == 10 - 2 - 3 + 1 + 2
    assert await count_rows(db, "pos_reversals", tenant.tenant_id) == 2
    assert await ledger_mismatches(db, tenant.tenant_id) == []


START = """mutation($input: StartStocktakeInput!) { startStocktake(input: $input) {
  stocktake { id } userErrors { code } } }"""
COUNT = (
    """mutation($input: RecordCountInput!) { recordCount(input: $input) { userErrors { code } } }"""
)
POST = """mutation($input: StocktakeTransitionInput!) {
  postStocktake(input: $input) { userErrors { code } } }"""
MOVES = """query($loc: ID!) { stockMovements(locationId: $loc, sku: "A", first: 20) {
  edges { node { kind delta reason reference } } } }"""


async def test_late_sale_after_posted_count_is_compensated(gql, db, tenant):
    """Receive 14, count 10, post; a 4-unit sale dated 5 minutes before the count arrives."""
    device, till = await register(gql, tenant)
    await _receive(gql, tenant, "S1", "A", 14)
    start = await gql.ok(
        START,
        tenant.owner,
        {"input": {"locationId": tenant.loc("S1"), "kind": "CYCLE", "skus": ["A"]}},
    )
    stocktake = start["startStocktake"]["stocktake"]["id"]
    counted = await gql.ok(
        COUNT,
        tenant.owner,
        {"input": {"id": stocktake, "lines": [{"sku": "A", "countedQuantity": 10}]}},
    )
    assert counted["recordCount"]["userErrors"] == []
    async with db.owner_transaction() as session:
        counted_at = (
            await session.execute(
                text("SELECT counted_at FROM stocktake_lines WHERE tenant_id = :t"),
                {"t": tenant.tenant_id},
            )
        ).scalar_one()
    posted = await gql.ok(POST, tenant.owner, {"input": {"id": stocktake}})
    assert posted["postStocktake"]["userErrors"] == []
    loc, prod = tenant.locations["S1"], tenant.products["A"]
    assert await on_hand(db, tenant.tenant_id, loc, prod) == 10
    late = sale("A", 4, when=counted_at - timedelta(minutes=5))
    result = await sync(gql, till, device["id"], [late])
    assert result["accepted"] == 1
    # The count stands: the 4 sold units were already off the shelf when it was taken.
    assert await on_hand(db, tenant.tenant_id, loc, prod) == 10
    moves = await gql.ok(MOVES, tenant.owner, {"loc": tenant.loc("S1")})
    kinds = [
        (e["node"]["kind"], e["node"]["delta"], e["node"]["reason"])
        for e in moves["stockMovements"]["edges"]
    ]
    assert ("STOCKTAKE", 4, "LATE_SALE") in kinds and ("SALE", -4, None) in kinds
    compensation = next(
        e["node"] for e in moves["stockMovements"]["edges"] if e["node"]["reason"] == "LATE_SALE"
    )
    assert compensation["reference"] == stocktake
    # A second late sale: only what is left of the recorded loss (none) is given back.
    more = sale("A", 1, when=counted_at - timedelta(minutes=1))
    await sync(gql, till, device["id"], [more])
    assert await on_hand(db, tenant.tenant_id, loc, prod) == 9
    # A sale after the count is ordinary trading.
    after = sale("A", 1, when=datetime.now(UTC))
    await sync(gql, till, device["id"], [after])
    assert await on_hand(db, tenant.tenant_id, loc, prod) == 8
    assert await ledger_mismatches(db, tenant.tenant_id) == []


NODE = "query($id: ID!) { node(id: $id) { id } }"
DEVICES = "{ devices(first: 10) { edges { node { id name } } } }"


async def test_isolation_of_devices_and_reversals(gql, tenant, other_tenant):
    device, till = await register(gql, tenant)
    await sync(gql, till, device["id"], [bought := sale("A", 1)])
    ret = {
        "clientReturnId": str(uuid.uuid4()),
        "clientSaleId": bought["clientSaleId"],
        "lines": [{"sku": "A", "quantity": 1}],
        "refunds": [{"method": "CASH", "amount": "10.00"}],
        "reason": "changed mind",
    }
    reversal = (await gql.ok(RETURN, till, {"input": ret}))["recordReturn"]["reversal"]
    outsider = other_tenant.owner
    for gid in (device["id"], reversal["id"]):
        assert (await gql.ok(NODE, tenant.owner, {"id": gid}))["node"] == {"id": gid}
        assert (await gql.ok(NODE, outsider, {"id": gid}))["node"] is None
    assert (await gql.ok(DEVICES, outsider))["devices"]["edges"] == []
    assert (await gql.ok(STATUS, outsider, {"id": device["id"]}))["deviceSyncStatus"] is None
    foreign = await gql.ok(SYNC, outsider, {"input": {"deviceId": device["id"], "sales": [sale()]}})
    assert [e["code"] for e in foreign["syncSales"]["userErrors"]] == ["NOT_FOUND"]
    theirs = await gql.ok(RETURN, outsider, {"input": {**ret, "clientReturnId": str(uuid.uuid4())}})
    assert [e["code"] for e in theirs["recordReturn"]["userErrors"]] == ["NOT_FOUND"]
    void = {
        "clientVoidId": str(uuid.uuid4()),
        "clientSaleId": bought["clientSaleId"],
        "reason": "x",
    }
    voided = await gql.ok(VOID, outsider, {"input": void})
    assert [e["code"] for e in voided["voidSale"]["userErrors"]] == ["NOT_FOUND"]
    disabled = await gql.ok(DISABLE, outsider, {"input": {"id": device["id"]}})
    assert [e["code"] for e in disabled["disableDevice"]["userErrors"]] == ["NOT_FOUND"]
    there = {"input": {"locationId": tenant.loc("S1"), "name": "Till X"}}
    registered = await gql.ok(REGISTER, outsider, there)
    assert [e["code"] for e in registered["registerDevice"]["userErrors"]] == ["NOT_FOUND"]


async def test_batch_size_bounds(gql, db, tenant):
    device, till = await register(gql, tenant)
    empty = await sync(gql, till, device["id"], [])
    assert [e["code"] for e in empty["userErrors"]] == ["INVALID"]
    too_many = await sync(gql, till, device["id"], [sale() for _ in range(501)])
    assert [e["code"] for e in too_many["userErrors"]] == ["INVALID"]
    assert await count_rows(db, "pos_sales", tenant.tenant_id) == 0


async def test_a_sale_names_its_location_and_products_or_says_which_is_unknown(
    gql, tenant, other_tenant
):
    """The location, the products and the currency are looked up in one statement; the
    answers are those of separate lookups: the location first, then the first unknown
    line, and a foreign tenant's location or SKU is as unknown as a missing one."""

    async def sell(caller, location: str, skus: list[str], receipt: str = "L1") -> list:
        data = await gql.ok(
            RECORD_SALE,
            caller,
            {
                "input": {
                    "locationId": location,
                    "receiptNumber": receipt,
                    "lines": [{"sku": s, "quantity": 1} for s in skus],
                }
            },
        )
        return [(e["code"], e["field"]) for e in data["recordSale"]["userErrors"]]

    foreign = other_tenant.loc("S1")
    assert await sell(tenant.owner, foreign, ["A"]) == [("NOT_FOUND", ["locationId"])]
    assert await sell(tenant.owner, foreign, ["nope"]) == [("NOT_FOUND", ["locationId"])]
    assert await sell(tenant.owner, tenant.loc("S1"), ["A", "nope", "B"]) == [
        ("NOT_FOUND", ["lines", "1", "sku"])
    ]
    assert await sell(tenant.owner, tenant.loc("S1"), ["A", "x" * 65]) == [
        ("NOT_FOUND", ["lines", "1", "sku"])
    ]
    other_only = "OTHER-ONLY"
    async with other_tenant.db.owner_transaction() as session:
        await tenancy.create_product(
            session,
            Caller.system(other_tenant.tenant_id),
            tenancy.NewProduct(other_only, "只", "Only"),
        )
    assert await sell(tenant.owner, tenant.loc("S1"), [other_only]) == [
        ("NOT_FOUND", ["lines", "0", "sku"])
    ]
    clerk = tenant.staff(Role.CLERK, ["S2"])  # no access to S1: refused before any line
    assert await sell(clerk, tenant.loc("S1"), ["nope"]) == [("FORBIDDEN", ["locationId"])]
    assert await sell(tenant.owner, tenant.loc("S1"), ["A", "B", "A"], "L2") == []
    at = tenant.locations["S1"]
    assert await on_hand(tenant.db, tenant.tenant_id, at, tenant.products["A"]) == -2
    assert await on_hand(tenant.db, tenant.tenant_id, at, tenant.products["B"]) == -1


async def test_a_sale_recorded_with_its_lookup_is_the_same_sale(gql, db, tenant):
    """Without a member, the sale's row is written by the statement that looks up its
    references; with one, by a statement of its own. Both rows are alike (total at the
    given or retail price, currency, payments), and a refusal after the lookup leaves
    no row behind: the same receipt can be recorded afterwards."""

    async def sell(caller, receipt: str, member: str | None = None, **extra) -> list:
        lines = [
            {"sku": "A", "quantity": 2, "unitPrice": "12.505"},
            {"sku": "B", "quantity": 3},
        ]
        data = await gql.ok(
            RECORD_SALE,
            caller,
            {
                "input": {
                    "locationId": tenant.loc("S1"),
                    "receiptNumber": receipt,
                    "lines": lines,
                    "payments": [{"method": "octopus", "amount": "40.00"}],
                    **({"memberId": member} if member else {}),
                    **extra,
                }
            },
        )
        return [(e["code"], e["field"]) for e in data["recordSale"]["userErrors"]]

    async def row(receipt: str) -> tuple | None:
        async with db.owner_transaction() as s:
            found = (
                await s.execute(
                    text(
                        "SELECT total, currency, payments, member_id FROM sales "
                        "WHERE tenant_id = :t AND receipt_number = :r"
                    ),
                    {"t": tenant.tenant_id, "r": receipt},
                )
            ).one_or_none()
        return tuple(found) if found is not None else None

    member = await gql.ok(
        """mutation($input: CreateMemberInput!) { createMember(input: $input) {
             member { id } userErrors { code } } }""",
        tenant.owner,
        {"input": {"name": "陳大文", "phone": "+85291234567"}},
    )
    member_id = member["createMember"]["member"]["id"]

    # refused after the lookup (no stock:write at S1): nothing is left, not even the row
    clerk = tenant.staff(Role.CLERK, ["S2"])
    assert await sell(clerk, "T1") == [("FORBIDDEN", ["locationId"])]
    assert await row("T1") is None
    assert await sell(tenant.owner, "T1") == []
    assert await sell(tenant.owner, "T2", member_id) == []
    together, apart = await row("T1"), await row("T2")
    assert together is not None and apart is not None
    assert together[:3] == apart[:3]
    assert together[3] is None and apart[3] is not None
    assert together[0] == Decimal("85.01")  # 2 × 12.505 + 3 × B's retail 20.00, to the cent
    assert together[1] == "HKD"
    assert together[2] == [{"method": "octopus", "amount": "40.00", "reference": None}]
    # a receipt recorded already, either way
    assert await sell(tenant.owner, "T1") == [("ALREADY_EXISTS", ["receiptNumber"])]
    assert await sell(tenant.owner, "T2", member_id) == [("ALREADY_EXISTS", ["receiptNumber"])]


async def test_a_sale_is_two_statements_between_begin_and_commit(gql, tenant, count_statements):
    """When its levels exist, a sale's lookup records it and locks them, and one more
    statement moves them and writes its movements, events and audit event."""
    lines = [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 3}]
    await gql.ok(
        """mutation($input: ReceiveStockInput!) { receiveStock(input: $input) {
             userErrors { code } } }""",
        tenant.owner,
        {"input": {"locationId": tenant.loc("S1"), "lines": lines}},
    )
    count_statements.statements.clear()
    data = await gql.ok(
        RECORD_SALE,
        tenant.owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "receiptNumber": "TWO",
                "lines": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}],
            }
        },
    )
    assert data["recordSale"]["userErrors"] == []
    firsts = [" ".join(s.split())[:24] for s in count_statements.statements]
    assert len(firsts) == 4, firsts
    assert firsts[0].startswith("BEGIN; SELECT set_config")
    assert firsts[1].startswith("WITH refs AS")
    assert firsts[2].startswith("WITH moved AS")
    assert firsts[3] == "COMMIT"
