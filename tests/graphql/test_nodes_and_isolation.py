"""Global IDs, node/nodes, foreign tenants, pagination, one statement per type per level."""

from __future__ import annotations

import base64

import pytest

from domain import ids
from tests.graphql.test_stock_concurrency import ADJUST, RECEIVE

NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Location { code } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
LEVEL = 'query($loc: ID!) { stockLevel(locationId: $loc, sku: "A") { id onHand } }'


async def _stocked(gql, tenant) -> dict:
    data = await gql.ok(
        RECEIVE,
        tenant.owner,
        {"input": {"locationId": tenant.loc("S1"), "lines": [{"sku": "A", "quantity": 5}]}},
    )
    return data["receiveStock"]


async def test_node_resolves_every_type_of_the_tenant(gql, tenant):
    change = await _stocked(gql, tenant)
    level_id = (await gql.ok(LEVEL, tenant.owner, {"loc": tenant.loc("S1")}))["stockLevel"]["id"]
    movement = await gql.ok(
        "{ stockMovements(first: 1) { edges { node { id sequence } } } }", tenant.owner
    )
    movement_id = movement["stockMovements"]["edges"][0]["node"]["id"]
    audit = await gql.ok("{ auditEvents(first: 1) { edges { node { id } } } }", tenant.owner)
    audit_id = audit["auditEvents"]["edges"][0]["node"]["id"]
    want = {
        tenant.loc("S1"): "Location",
        tenant.gid("Product", tenant.products["A"]): "Product",
        level_id: "StockLevel",
        movement_id: "StockMovement",
        audit_id: "AuditEvent",
    }
    for gid, typename in want.items():
        data = await gql.ok(NODE, tenant.owner, {"id": gid})
        assert data["node"]["__typename"] == typename and data["node"]["id"] == gid
    data = await gql.ok(NODES, tenant.owner, {"ids": list(want)})
    assert [n["__typename"] for n in data["nodes"]] == list(want.values())
    assert change["stockLevels"][0]["onHand"] == 5


async def test_foreign_ids_behave_exactly_like_random_ids(gql, tenant, other_tenant):
    await _stocked(gql, other_tenant)
    foreign_level = (await gql.ok(LEVEL, other_tenant.owner, {"loc": other_tenant.loc("S1")}))[
        "stockLevel"
    ]["id"]
    their_movement = (
        await gql.ok("{ stockMovements(first: 1) { edges { node { id } } } }", other_tenant.owner)
    )["stockMovements"]["edges"][0]["node"]["id"]
    their_audit = (
        await gql.ok("{ auditEvents(first: 1) { edges { node { id } } } }", other_tenant.owner)
    )["auditEvents"]["edges"][0]["node"]["id"]
    foreign = [
        their_movement,
        their_audit,
        other_tenant.loc("S1"),
        other_tenant.gid("Product", other_tenant.products["A"]),
        foreign_level,
    ]
    random_ids = [
        ids.encode("Location", 9_000_000_001),
        ids.encode("Product", 9_000_000_002),
        ids.encode("StockLevel", 9_000_000_003),
        base64.b64encode(b"Location:abc").decode(),
    ]
    me = tenant.owner
    for gid in foreign + random_ids:
        result = await gql(NODE, me, {"id": gid})
        assert result.errors is None and result.data == {"node": None}, gid
    data = await gql.ok(NODES, me, {"ids": foreign + random_ids})
    assert data["nodes"] == [None] * (len(foreign) + len(random_ids))
    # a string that is no ID at all is the caller's mistake, said so (nothing of a tenant)
    for text in ("not-an-id", ""):
        result = await gql(NODE, me, {"id": text})
        assert result.data == {"node": None}
        assert [e.extensions for e in result.errors or []] == [{"code": "INVALID", "field": ["id"]}]

    for loc in (other_tenant.loc("S1"), ids.encode("Location", 9_000_000_001)):
        assert await gql.ok(LEVEL, me, {"loc": loc}) == {"stockLevel": None}
        adjust = await gql.ok(
            ADJUST, me, {"input": {"locationId": loc, "sku": "A", "delta": 1, "reason": "FOUND"}}
        )
        assert adjust["adjustStock"]["userErrors"] == [
            {
                "code": "NOT_FOUND",
                "field": ["locationId"],
                "message": "no such location",
                "currentOnHand": None,
            }
        ]
        receive = await gql.ok(
            RECEIVE, me, {"input": {"locationId": loc, "lines": [{"sku": "A", "quantity": 1}]}}
        )
        assert receive["receiveStock"]["userErrors"][0]["code"] == "NOT_FOUND"
    levels = await gql.ok(
        "query($l: [ID!]) { stockLevels(locationIds: $l) { totalCount } }",
        me,
        {"l": [other_tenant.loc("S1")]},
    )
    assert levels["stockLevels"]["totalCount"] == 0
    # and the other tenant's stock is untouched
    theirs = await gql.ok(LEVEL, other_tenant.owner, {"loc": other_tenant.loc("S1")})
    assert theirs["stockLevel"]["onHand"] == 5


async def test_audit_events_are_not_nodes_without_audit_read(gql, tenant):
    from auth.permissions import Role

    audit = await gql.ok("{ auditEvents(first: 1) { edges { node { id } } } }", tenant.owner)
    audit_id = audit["auditEvents"]["edges"][0]["node"]["id"]
    clerk = tenant.staff(Role.CLERK, ["S1"])
    assert await gql.ok(NODE, clerk, {"id": audit_id}) == {"node": None}


async def test_connections_page_with_cursors_and_cap(gql, tenant):
    q = (
        "query($a: String) { products(first: 2, after: $a) { totalCount "
        "edges { cursor node { sku } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
    )
    page1 = (await gql.ok(q, tenant.owner, {"a": None}))["products"]
    assert [e["node"]["sku"] for e in page1["edges"]] == ["A", "B"]
    assert page1["totalCount"] == 3 and page1["pageInfo"]["hasNextPage"] is True
    page2 = (await gql.ok(q, tenant.owner, {"a": page1["pageInfo"]["endCursor"]}))["products"]
    assert [e["node"]["sku"] for e in page2["edges"]] == ["C"]
    assert page2["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": page2["edges"][-1]["cursor"],
    }
    too_many = await gql("{ products(first: 251) { totalCount } }", tenant.owner)
    assert too_many.errors[0].extensions["code"] == "INVALID"
    bad_cursor = await gql('{ products(after: "%%%") { totalCount } }', tenant.owner)
    assert bad_cursor.errors[0].extensions["code"] == "INVALID"


@pytest.mark.parametrize("value", ["3", 3])
async def test_bigint_accepts_strings_and_integers(gql, tenant, value):
    for _ in range(5):
        await _stocked(gql, tenant)
    q = "query($s: BigInt) { stockMovements(afterSequence: $s) { edges { node { sequence } } } }"
    data = await gql.ok(q, tenant.owner, {"s": value})
    sequences = [e["node"]["sequence"] for e in data["stockMovements"]["edges"]]
    assert sequences and all(isinstance(s, str) and int(s) > 3 for s in sequences)


async def test_one_statement_per_type_per_level(gql, tenant, count_statements):
    for loc in ("S1", "S2", "WH"):
        for sku in ("A", "B", "C"):
            await gql.ok(
                ADJUST,
                tenant.owner,
                {
                    "input": {
                        "locationId": tenant.loc(loc),
                        "sku": sku,
                        "delta": 2,
                        "reason": "FOUND",
                    }
                },
            )
    count_statements.statements.clear()
    data = await gql.ok(
        """{ stockLevels(first: 50) { edges { node { onHand
        location { code name } product { sku nameZh } } } }
        stockMovements(first: 50) {
          edges { node { sequence location { code } product { sku } } } } }""",
        tenant.owner,
    )
    assert len(data["stockLevels"]["edges"]) == 9
    assert len(data["stockMovements"]["edges"]) == 9
    selects = [
        s
        for s in count_statements.statements
        if s.lstrip().upper().startswith("SELECT") and "set_config" not in s
    ]
    (levels,) = count_statements.selects("stock_levels")
    assert "JOIN products" in levels  # the levels' products come in their own statement
    assert len(count_statements.selects("stock_movements")) == 1
    # locations: one batched statement, shared by both lists; products: the movements'
    # are the levels' products, already read with them, so none is read again
    assert len(count_statements.selects("locations")) == 1
    assert count_statements.selects("products") == []
    assert len(selects) == 3


async def test_prices_come_in_the_tenants_currency(gql, db):
    from decimal import Decimal

    from auth.caller import Caller
    from auth.permissions import Role
    from domain.tenancy import service as tenancy

    async with db.owner_transaction() as s:
        t = await tenancy.create_tenant(
            s,
            "macau-" + __import__("uuid").uuid4().hex[:6],
            "澳門",
            currency="MOP",
            timezone="Asia/Macau",
        )
        await tenancy.create_product(
            s,
            Caller.system(t.tenant_id),
            tenancy.NewProduct(
                "EGG-TART",
                "蛋撻",
                "Egg tart",
                retail_price=Decimal("12.00"),
                cost_price=Decimal("4.50"),
            ),
        )
    owner = Caller.for_staff(t.tenant_id, 1, Role.OWNER, frozenset())
    data = await gql.ok(
        '{ product(sku: "EGG-TART") { retailPrice { amount currency } '
        "costPrice { currency } } products { edges { node { retailPrice "
        "{ currency } } } } }",
        owner,
    )
    assert data["product"] == {
        "retailPrice": {"amount": "12.00", "currency": "MOP"},
        "costPrice": {"currency": "MOP"},
    }
    assert data["products"]["edges"][0]["node"]["retailPrice"]["currency"] == "MOP"
