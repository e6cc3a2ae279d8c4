"""The permission matrix of the contract, row by row, through the real schema."""

from __future__ import annotations

import pytest

from auth.permissions import Role

# The contract's table, written out independently of auth.permissions.
# "own" = only at the staff member's own locations.
MATRIX: dict[str, dict[Role, str]] = {
    "stock:read": {r: "yes" for r in Role},
    "stock:write": {
        Role.OWNER: "yes",
        Role.REGIONAL_MANAGER: "yes",
        Role.STORE_MANAGER: "own",
        Role.PURCHASER: "yes",
        Role.CLERK: "own",
        Role.AUDITOR: "no",
    },
    "transfers:read": {r: "yes" for r in Role},
    "transfers:write": {
        Role.OWNER: "yes",
        Role.REGIONAL_MANAGER: "yes",
        Role.STORE_MANAGER: "own",
        Role.PURCHASER: "yes",
        Role.CLERK: "own",
        Role.AUDITOR: "no",
    },
    "transfers:approve": {
        Role.OWNER: "yes",
        Role.REGIONAL_MANAGER: "yes",
        Role.STORE_MANAGER: "no",
        Role.PURCHASER: "no",
        Role.CLERK: "no",
        Role.AUDITOR: "no",
    },
    "costs:read": {
        Role.OWNER: "yes",
        Role.REGIONAL_MANAGER: "yes",
        Role.STORE_MANAGER: "no",
        Role.PURCHASER: "yes",
        Role.CLERK: "no",
        Role.AUDITOR: "yes",
    },
    "members:read": {
        Role.OWNER: "yes",
        Role.REGIONAL_MANAGER: "yes",
        Role.STORE_MANAGER: "yes",
        Role.PURCHASER: "no",
        Role.CLERK: "yes",
        Role.AUDITOR: "no",
    },
    "members:write": {
        Role.OWNER: "yes",
        Role.REGIONAL_MANAGER: "yes",
        Role.STORE_MANAGER: "yes",
        Role.PURCHASER: "no",
        Role.CLERK: "yes",
        Role.AUDITOR: "no",
    },
    "members:pii": {
        Role.OWNER: "yes",
        Role.REGIONAL_MANAGER: "yes",
        Role.STORE_MANAGER: "yes",
        Role.PURCHASER: "no",
        Role.CLERK: "no",
        Role.AUDITOR: "no",
    },
    "audit:read": {
        Role.OWNER: "yes",
        Role.REGIONAL_MANAGER: "no",
        Role.STORE_MANAGER: "no",
        Role.PURCHASER: "no",
        Role.CLERK: "no",
        Role.AUDITOR: "yes",
    },
    "admin": {Role.OWNER: "yes", **{r: "no" for r in Role if r is not Role.OWNER}},
}

VIEWER = "{ viewer { kind roles permissions locations { code } } }"
LEVELS = "{ stockLevels(first: 5) { edges { node { onHand } } } }"
COST = '{ product(sku: "A") { sku costPrice { amount currency } } }'
AUDIT = "{ auditEvents(first: 1) { edges { node { action } } } }"
ADJUST = """mutation($loc: ID!) { adjustStock(input: {locationId: $loc, sku: "A", delta: 1,
  reason: FOUND}) { stockLevels { onHand } userErrors { code field } } }"""


@pytest.mark.parametrize("role", list(Role))
async def test_viewer_permissions_match_the_contract(gql, tenant, role):
    caller = tenant.staff(role, ["S1"])
    data = await gql.ok(VIEWER, caller)
    expected = sorted(p for p, row in MATRIX.items() if row[role] != "no")
    assert data["viewer"]["permissions"] == expected
    assert data["viewer"]["roles"] == [role.value]
    own = any(row[role] == "own" for row in MATRIX.values())
    assert data["viewer"]["locations"] == ([{"code": "S1"}] if own else None)


@pytest.mark.parametrize("role", list(Role))
async def test_stock_read_and_write_by_rank(gql, tenant, role):
    caller = tenant.staff(role, ["S1"])
    read = await gql(LEVELS, caller)
    assert read.errors is None  # every rank reads stock everywhere

    for loc, own in (("S1", True), ("S2", False)):
        data = await gql.ok(ADJUST, caller, {"loc": tenant.loc(loc)})
        errors = data["adjustStock"]["userErrors"]
        rule = MATRIX["stock:write"][role]
        allowed = rule == "yes" or (rule == "own" and own)
        if allowed:
            assert errors == [], (role, loc)
        else:
            assert errors == [{"code": "FORBIDDEN", "field": ["locationId"]}], (role, loc)


@pytest.mark.parametrize("role", list(Role))
async def test_cost_price_and_audit_by_rank(gql, tenant, role):
    caller = tenant.staff(role, ["S1"])
    result = await gql(COST, caller)
    if MATRIX["costs:read"][role] == "yes":
        assert result.errors is None
        assert result.data["product"]["costPrice"] == {"amount": "4.0000", "currency": "HKD"}
    else:
        assert result.data["product"] == {"sku": "A", "costPrice": None}
        assert [e.extensions["code"] for e in result.errors] == ["FORBIDDEN"]
        assert result.errors[0].path == ["product", "costPrice"]
    audit = await gql(AUDIT, caller)
    if MATRIX["audit:read"][role] == "yes":
        assert audit.errors is None and audit.data["auditEvents"]["edges"]
    else:
        assert audit.data is None
        assert audit.errors[0].extensions["code"] == "FORBIDDEN"


async def test_cost_price_denied_through_aliases_fragments_and_nesting(gql, tenant):
    clerk = tenant.staff(Role.CLERK, ["S1"])
    await gql.ok(ADJUST, tenant.owner, {"loc": tenant.loc("S1")})
    query = """
    fragment P on Product { c2: costPrice { amount } }
    query {
      a: product(sku: "A") {
        sku c1: costPrice { amount } ...P ... on Product { costPrice { amount } }
      }
      stockLevels(first: 1) { edges { node { product { ...P retailPrice { amount } } } } }
      products(first: 2) { edges { node { sku ... { costPrice { amount } } } } }
    }"""
    result = await gql(query, clerk)
    assert result.data["a"] == {"sku": "A", "c1": None, "c2": None, "costPrice": None}
    assert result.data["stockLevels"]["edges"][0]["node"]["product"] == {
        "c2": None,
        "retailPrice": {"amount": "10.00"},
    }
    assert [e["node"] for e in result.data["products"]["edges"]] == [
        {"sku": "A", "costPrice": None},
        {"sku": "B", "costPrice": None},
    ]
    paths = sorted(tuple(str(p) for p in e.path) for e in result.errors)
    assert paths == sorted(
        [
            ("a", "c1"),
            ("a", "c2"),
            ("a", "costPrice"),
            ("stockLevels", "edges", "0", "node", "product", "c2"),
            ("products", "edges", "0", "node", "costPrice"),
            ("products", "edges", "1", "node", "costPrice"),
        ]
    )
    assert {e.extensions["code"] for e in result.errors} == {"FORBIDDEN"}

    owner = await gql(query, tenant.owner)
    assert owner.errors is None
    assert owner.data["a"]["c1"] == {"amount": "4.0000"}


async def test_app_scopes_and_app_locations(gql, tenant):
    reader = tenant.app("stock:read")
    data = await gql.ok(ADJUST, reader, {"loc": tenant.loc("S1")})
    assert data["adjustStock"]["userErrors"][0]["code"] == "FORBIDDEN"
    limited = tenant.app("stock:read stock:write", locations=["S2"])
    assert (await gql.ok(ADJUST, limited, {"loc": tenant.loc("S2")}))["adjustStock"][
        "userErrors"
    ] == []
    assert (await gql.ok(ADJUST, limited, {"loc": tenant.loc("S1")}))["adjustStock"]["userErrors"][
        0
    ]["code"] == "FORBIDDEN"
    members_only = tenant.app("members:read")
    denied = await gql(LEVELS, members_only)
    assert denied.errors[0].extensions["code"] == "FORBIDDEN"
    no_cost = await gql(COST, tenant.app("stock:read"))
    assert no_cost.data["product"]["costPrice"] is None


async def test_unauthenticated_gets_unauthenticated(gql):
    result = await gql(LEVELS, None)
    assert result.data is None
    assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
    introspection = await gql("{ __schema { queryType { name } } __typename }", None)
    assert introspection.errors is None


@pytest.mark.parametrize(
    "query",
    [
        "query { ...__x } fragment __x on Query { locations { totalCount } }",
        "query { ... on Query { locations { totalCount } } }",
        "query { __typename ...F } fragment F on Query { viewer { kind } }",
        "{ __schema { queryType { name } } locations { totalCount } }",
    ],
)
async def test_real_fields_cannot_hide_behind_introspection(gql, query):
    result = await gql(query, None)
    assert result.data is None
    assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
