"""Hostile scalars get INVALID, never "Unexpected error.": BigInt out of range, Decimal
exponents, NUL and lone surrogates in String and ID; and the audit trail stores any
input sanitised, so a denied mutation is recorded whatever its input holds."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from api.graphql import build_schema
from auth.permissions import Role
from domain.audit.service import AuditEntry, append, verify
from schema.context import Context
from tests.graphql.test_stock_concurrency import ADJUST, RECEIVE
from tests.helpers import count_rows

MOVEMENTS = "query { stockMovements(first: 1, afterSequence: %s) { totalCount } }"
MOVEMENTS_VAR = "query($s: BigInt) { stockMovements(first: 1, afterSequence: $s) { totalCount } }"


@pytest.fixture(scope="module")
def production():
    return build_schema(production=True, introspection=False)


async def run(schema, db, caller, query, variables=None):
    ctx = Context(db=db, caller=caller, request_id="test")
    return await schema.execute(query, variable_values=variables, context_value=ctx)


def only_invalid(result, *, naming: str | None = None) -> str:
    assert result.data is None or all(v is None for v in result.data.values()), result.data
    assert result.errors, result
    for error in result.errors:
        assert error.extensions and error.extensions.get("code") == "INVALID", error
        assert "Unexpected error" not in error.message
    message = result.errors[0].message
    if naming is not None:
        assert naming in message, message
    return message


@pytest.mark.parametrize(
    "literal", ["9223372036854775808", "-9223372036854775809", "1" * 100_000, '"1e5"', "1.5"]
)
async def test_bigint_literals_out_of_range_are_invalid(production, tenant, literal):
    result = await run(production, tenant.db, tenant.owner, MOVEMENTS % literal)
    only_invalid(result)


@pytest.mark.parametrize("value", ["9223372036854775808", 2**64, "1" * 1000, "x", True])
async def test_bigint_variables_out_of_range_are_invalid(production, tenant, value):
    result = await run(production, tenant.db, tenant.owner, MOVEMENTS_VAR, {"s": value})
    only_invalid(result, naming="$s")


@pytest.mark.parametrize(
    "value", ["1e400", "1e-1000000", "-1e400", "1" * 101, "0." + "0" * 60 + "1", "1e41"]
)
async def test_decimals_beyond_bounds_are_invalid_and_nothing_is_written(production, tenant, value):
    line = {"sku": "A", "quantity": 1, "unitCost": value}
    variables = {"input": {"locationId": tenant.loc("S1"), "lines": [line]}}
    result = await run(production, tenant.db, tenant.owner, RECEIVE, variables)
    only_invalid(result, naming="$input")
    written = value if value[0].isdigit() or value[0] == "-" else json.dumps(value)
    literal = RECEIVE.replace("mutation($input: ReceiveStockInput!)", "mutation").replace(
        "receiveStock(input: $input)",
        f'receiveStock(input: {{locationId: "{tenant.loc("S1")}", '
        f'lines: [{{sku: "A", quantity: 1, unitCost: {written}}}]}})',
    )
    only_invalid(await run(production, tenant.db, tenant.owner, literal))
    assert await count_rows(tenant.db, "stock_movements", tenant.tenant_id) == 0


async def test_ordinary_decimals_still_work(gql, tenant):
    line = {"sku": "A", "quantity": 2, "unitCost": "12.3456"}
    data = await gql.ok(
        RECEIVE, tenant.owner, {"input": {"locationId": tenant.loc("S1"), "lines": [line]}}
    )
    assert data["receiveStock"]["userErrors"] == []


@pytest.mark.parametrize("bad", ["a\u0000b", "\ud800", "x\udfffy"])
async def test_nul_and_lone_surrogates_in_strings_are_invalid(production, tenant, bad):
    adjust = {
        "locationId": tenant.loc("S1"),
        "sku": "A",
        "delta": 1,
        "reason": "FOUND",
        "note": bad,
    }
    result = await run(production, tenant.db, tenant.owner, ADJUST, {"input": adjust})
    only_invalid(result, naming="note")
    location = tenant.loc("S1")
    literal = (
        f'query {{ stockLevel(locationId: "{location}", sku: {json.dumps(bad)}) {{ onHand }} }}'
    )
    refused = await run(production, tenant.db, tenant.owner, literal)
    if bad == "a\u0000b":
        only_invalid(refused)
    else:  # the parser itself refuses a lone surrogate escape in a literal
        assert [e.message.split(":")[0] for e in refused.errors] == ["Syntax Error"]
    node = await run(
        production, tenant.db, tenant.owner, "query($id: ID!) { node(id: $id) { id } }", {"id": bad}
    )
    only_invalid(node, naming="$id")
    assert await count_rows(tenant.db, "stock_movements", tenant.tenant_id) == 0


async def test_a_denied_mutation_with_odd_input_is_audited(production, tenant):
    clerk = tenant.staff(Role.CLERK, ["S2"], staff_id=42)
    note = "\u0001\u001b[31m" + "x" * 20_000
    adjust = {
        "locationId": tenant.loc("S1"),
        "sku": "A",
        "delta": -1,
        "reason": "DAMAGE",
        "note": note,
    }
    result = await run(production, tenant.db, clerk, ADJUST, {"input": adjust})
    assert result.errors is None
    assert result.data["adjustStock"]["userErrors"][0]["code"] == "FORBIDDEN"
    async with tenant.db.owner_transaction() as s:
        row = (
            await s.execute(
                text(
                    "SELECT outcome, after FROM audit_events WHERE tenant_id = :t "
                    "AND action = 'stock.adjust'"
                ),
                {"t": tenant.tenant_id},
            )
        ).one()
    assert row.outcome == "denied"


async def test_the_audit_trail_stores_any_input_sanitised(tenant):
    caller = tenant.owner
    hostile = {"note": "a\u0000b\ud800c", "k\u0000ey": ["\udfff"], "long": "y" * 50_000}
    async with tenant.db.owner_transaction() as s:
        await append(s, caller, AuditEntry("test.hostile", None, None, None, hostile, "r\u0000"))
    async with tenant.db.owner_transaction() as s:
        row = (
            await s.execute(
                text(
                    "SELECT after, reason FROM audit_events WHERE action = 'test.hostile' "
                    "AND tenant_id = :t"
                ),
                {"t": tenant.tenant_id},
            )
        ).one()
        assert row.after["note"] == "a\ufffdb\ufffdc"
        assert row.after["k\ufffdey"] == ["\ufffd"]
        assert len(row.after["long"]) == 10_001
        assert row.reason == "r\ufffd"
        assert (await verify(s, tenant.tenant_id)).valid
