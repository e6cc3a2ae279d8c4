"""Query limits, caches that really hit, and the production switches."""

from __future__ import annotations

from api.graphql import build_schema
from api.policy import policy
from auth.permissions import Role
from schema.context import Context
from tests.graphql.test_stock_concurrency import ADJUST, RECEIVE


async def _run(schema, query: str, caller, db):
    return await schema.execute(query, context_value=Context(db=db, caller=caller, request_id="t"))


async def test_depth_alias_and_token_limits(gql, tenant):
    ok_depth = "{ stockLevels { edges { node { location { code } product { sku } } } } }"
    assert (await gql(ok_depth, tenant.owner)).errors is None
    too_deep = (
        "{ stockLevels { edges { node { location { code } product { sku } } } } "
        + " ".join(f"a{i}: viewer {{ kind }}" for i in range(31))
        + " }"
    )
    result = await gql(too_deep, tenant.owner)
    assert result.errors and "aliases" in result.errors[0].message.lower()
    nested = (
        '{ node(id: "x") { '
        + "... on StockLevel { location { " * 14
        + "code"
        + " } }" * 14
        + " } }"
    )
    result = await gql(nested, tenant.owner)
    assert result.errors and "exceeds maximum operation depth" in result.errors[0].message
    huge = "{ " + " ".join(["__typename"] * 6000) + " }"
    result = await gql(huge, tenant.owner)
    assert result.errors and "token" in result.errors[0].message.lower()


async def test_validation_cache_hits_on_repeated_documents(gql, tenant):
    rules = policy()  # the one the tests' schema runs under
    query = "{ locations(first: 1) { totalCount } }"
    await gql.ok(query, tenant.owner)
    parsed, validated = rules._parse.cache_info().hits, rules._validate.cache_info().hits
    for _ in range(3):
        await gql.ok(query, tenant.owner)
    assert rules._validate.cache_info().hits == validated + 3
    assert rules._parse.cache_info().hits == parsed + 3


async def test_production_hides_introspection_suggestions_and_internals(db, tenant):
    schema = build_schema(production=True, introspection=False)
    intro = await _run(schema, "{ __schema { types { name } } }", tenant.owner, db)
    assert intro.errors and "introspection" in intro.errors[0].message.lower()
    typo = await _run(schema, "{ locatoins { totalCount } }", tenant.owner, db)
    assert typo.errors and "Did you mean" not in typo.errors[0].message
    dev_typo = await _run(build_schema(), "{ locatoins { totalCount } }", tenant.owner, db)
    assert "Did you mean" in dev_typo.errors[0].message
    anonymous = await _run(schema, "{ __typename }", None, db)
    assert anonymous.errors[0].extensions == {"code": "UNAUTHENTICATED"}
    # business errors and permission errors are not masked
    clerk = tenant.staff(Role.CLERK)
    denied = await _run(schema, '{ product(sku: "A") { costPrice { amount } } }', clerk, db)
    assert denied.errors[0].extensions["code"] == "FORBIDDEN"


async def test_compare_and_set_refuses_a_stale_expectation(gql, tenant):
    owner = tenant.owner
    await gql.ok(
        RECEIVE,
        owner,
        {"input": {"locationId": tenant.loc("S1"), "lines": [{"sku": "A", "quantity": 7}]}},
    )
    stale = await gql.ok(
        ADJUST,
        owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "sku": "A",
                "delta": -2,
                "reason": "COUNT_CORRECTION",
                "expectedOnHand": 6,
            }
        },
    )
    assert stale["adjustStock"]["userErrors"] == [
        {
            "code": "VERSION_CONFLICT",
            "field": ["expectedOnHand"],
            "message": "on hand is 7, not the expected 6",
            "currentOnHand": 7,
        }
    ]
    fresh = await gql.ok(
        ADJUST,
        owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "sku": "A",
                "delta": -2,
                "reason": "COUNT_CORRECTION",
                "expectedOnHand": 7,
            }
        },
    )
    assert fresh["adjustStock"]["stockLevels"][0]["onHand"] == 5
    assert fresh["adjustStock"]["movements"][0]["kind"] == "ADJUSTMENT"


async def test_oversized_and_odd_inputs_are_user_errors_and_audited(gql, tenant):
    owner = tenant.owner
    cases = [
        (
            RECEIVE,
            {
                "locationId": tenant.loc("S1"),
                "lines": [{"sku": "A", "quantity": 1}],
                "reference": "R" * 201,
            },
            "receiveStock",
            ["reference"],
        ),
        (
            RECEIVE,
            {
                "locationId": tenant.loc("S1"),
                "lines": [{"sku": "A", "quantity": 1, "unitCost": "NaN"}],
            },
            "receiveStock",
            ["lines", "0", "unitCost"],
        ),
        (
            RECEIVE,
            {
                "locationId": tenant.loc("S1"),
                "lines": [{"sku": "A", "quantity": 1, "unitCost": "1e20"}],
            },
            "receiveStock",
            ["lines", "0", "unitCost"],
        ),
        (
            RECEIVE,
            {"locationId": tenant.loc("S1"), "lines": [{"sku": "A", "quantity": 10**7}]},
            "receiveStock",
            ["lines", "0", "quantity"],
        ),
        (
            RECEIVE,
            {"locationId": tenant.loc("S1"), "lines": [{"sku": "X" * 2000, "quantity": 1}]},
            "receiveStock",
            ["lines", "0", "sku"],
        ),
        (
            RECEIVE,
            {
                "locationId": tenant.loc("S1"),
                "lines": [{"sku": "A", "quantity": 1}],
                "idempotencyKey": "k" * 500,
            },
            "receiveStock",
            ["idempotencyKey"],
        ),
        (
            ADJUST,
            {
                "locationId": tenant.loc("S1"),
                "sku": "A",
                "delta": 1,
                "reason": "FOUND",
                "note": "n" * 1001,
            },
            "adjustStock",
            ["note"],
        ),
    ]
    for query, value, name, field in cases:
        result = await gql(query, owner, {"input": value})
        assert result.errors is None, (field, result.errors)
        assert result.data[name]["userErrors"][0]["field"] == field
    from tests.helpers import count_rows

    assert await count_rows(tenant.db, "stock_movements", tenant.tenant_id) == 0
    from domain.audit.service import verify

    async with tenant.db.owner_transaction() as s:
        assert (await verify(s, tenant.tenant_id)).valid


async def test_cursors_of_another_list_are_invalid(gql, tenant):
    owner = tenant.owner
    await gql.ok(
        RECEIVE,
        owner,
        {"input": {"locationId": tenant.loc("S1"), "lines": [{"sku": "A", "quantity": 1}]}},
    )
    product_cursor = (await gql.ok("{ products(first: 1) { pageInfo { endCursor } } }", owner))[
        "products"
    ]["pageInfo"]["endCursor"]
    level_cursor = (await gql.ok("{ stockLevels(first: 1) { pageInfo { endCursor } } }", owner))[
        "stockLevels"
    ]["pageInfo"]["endCursor"]
    for query, cursor in (
        ("stockLevels", product_cursor),
        ("stockMovements", product_cursor),
        ("auditEvents", level_cursor),
        ("products", level_cursor),
    ):
        result = await gql(f'{{ {query}(after: "{cursor}") {{ edges {{ cursor }} }} }}', owner)
        assert result.errors[0].extensions["code"] == "INVALID", query


async def test_input_validation_is_reported_as_user_errors(gql, tenant):
    owner = tenant.owner
    zero = await gql.ok(
        ADJUST,
        owner,
        {"input": {"locationId": tenant.loc("S1"), "sku": "A", "delta": 0, "reason": "OTHER"}},
    )
    assert zero["adjustStock"]["userErrors"][0]["field"] == ["delta"]
    unknown = await gql.ok(
        RECEIVE,
        owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "lines": [{"sku": "A", "quantity": 1}, {"sku": "NOPE", "quantity": 1}],
            }
        },
    )
    assert unknown["receiveStock"]["userErrors"][0] == {
        "code": "NOT_FOUND",
        "field": ["lines", "1", "sku"],
        "message": "no product with SKU 'NOPE'",
    }
    negative = await gql.ok(
        RECEIVE,
        owner,
        {"input": {"locationId": tenant.loc("S1"), "lines": [{"sku": "A", "quantity": -4}]}},
    )
    assert negative["receiveStock"]["userErrors"][0]["field"] == ["lines", "0", "quantity"]
    empty = await gql.ok(RECEIVE, owner, {"input": {"locationId": tenant.loc("S1"), "lines": []}})
    assert empty["receiveStock"]["userErrors"][0]["code"] == "INVALID"
