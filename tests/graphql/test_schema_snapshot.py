"""The checked-in SDL is the contract integrators read; it must match the code."""

from __future__ import annotations

from pathlib import Path

from api.graphql import build_schema

ROOT = Path(__file__).resolve().parents[2]

CONTRACT_QUERY_FIELDS = {
    "node",
    "nodes",
    "viewer",
    "location",
    "locations",
    "product",
    "products",
    "stockLevel",
    "stockLevels",
    "stockMovements",
    "auditEvents",
}
CONTRACT_MUTATIONS = {"receiveStock", "adjustStock", "recordSale"}


def test_schema_graphql_is_current():
    exported = build_schema().as_str() + "\n"
    checked_in = (ROOT / "schema.graphql").read_text()
    assert checked_in == exported, "run `make schema` and commit schema.graphql"


def test_contract_names_are_present():
    sdl = build_schema().as_str()
    query = sdl[sdl.index("type Query {") :].split("\n}\n", 1)[0]
    for name in CONTRACT_QUERY_FIELDS:
        assert f"  {name}(" in query or f"  {name}:" in query, name
    mutation = build_schema()._schema.mutation_type
    assert mutation is not None
    for name in CONTRACT_MUTATIONS:  # one `input` argument (described, so not on one line)
        assert list(mutation.fields[name].args) == ["input"], name
    for fragment in (
        "type StockLevel implements Node",
        "onHand: Int!",
        "reserved: Int!",
        "available: Int!",
        "inTransit: Int!",
        "incoming: Int!",
        "version: BigInt!",
        "type StockMovement implements Node",
        "onHandAfter: Int!",
        "type StockChangePayload",
        "userErrors: [UserError!]!",
        "enum MovementKind",
        "TRANSFER_OUT",
        "STOCKTAKE",
        "enum AdjustmentReason",
        "COUNT_CORRECTION",
        "THEFT",
        "expectedOnHand: Int",
        "idempotencyKey: String",
        "enum LocationKind",
        "TEMPORARY_WAREHOUSE",
        "scalar BigInt",
        "type Money",
        "amount: Decimal!",
        "currency: CurrencyCode!",
    ):
        assert fragment in sdl, fragment
