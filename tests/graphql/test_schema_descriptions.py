"""The schema describes itself: what GraphiQL shows an integrator is the documentation.

Every type, field, argument, input field and enum value has a description; every
custom scalar names the specification it follows (``specifiedByURL``).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, introspection_from_schema

from api.graphql import build_schema
from auth.fields import permissions_of
from tests.graphql.test_stock_concurrency import RECEIVE

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}
SCALAR_SPECS = {
    "BigInt": "https://protobuf.dev/programming-guides/json/",
    "Date": "https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
    "DateTime": "https://scalars.graphql.org/andimarek/date-time.html",
    "Decimal": "https://speleotrove.com/decimal/daconvs.html",
    "JSON": "https://www.rfc-editor.org/rfc/rfc8259",
    "Upload": "https://github.com/jaydenseric/graphql-multipart-request-spec",
}


def _introspect() -> list[dict[str, Any]]:
    """The introspection answer GraphiQL reads, for the schema the server runs."""
    data = introspection_from_schema(
        build_schema()._schema, descriptions=True, specified_by_url=True
    )
    return [dict(t) for t in data["__schema"]["types"] if not t["name"].startswith("__")]


def _undescribed(types: list[dict[str, Any]]) -> list[str]:
    """Every element without a description, named as Type, Type.field, Type.field(arg)."""
    missing: list[str] = []

    def check(name: str, element: dict[str, Any]) -> None:
        if not (element.get("description") or "").strip():
            missing.append(name)

    for t in types:
        if t["name"] in BUILT_IN:
            continue
        check(t["name"], t)
        for f in t.get("fields") or []:
            check(f"{t['name']}.{f['name']}", f)
            for a in f["args"]:
                check(f"{t['name']}.{f['name']}({a['name']})", a)
        for f in t.get("inputFields") or []:
            check(f"{t['name']}.{f['name']}", f)
        for v in t.get("enumValues") or []:
            check(f"{t['name']}.{v['name']}", v)
    return missing


def test_every_schema_element_has_a_description():
    missing = _undescribed(_introspect())
    assert missing == [], f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_a_field_that_needs_a_permission_names_it():
    """GraphiQL shows the description, not the permission class: it must say which."""
    schema = build_schema()._schema
    unnamed = [
        f"{type_name}.{name} needs {perm.value}"
        for type_name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not type_name.startswith("__")
        for name, field in t.fields.items()
        for perm in permissions_of(field)
        if perm.value not in (field.description or "")
    ]
    assert unnamed == [], "\n".join(unnamed)


def test_the_check_sees_a_missing_description():
    types = [
        {
            "name": "T",
            "description": "A type.",
            "fields": [{"name": "f", "description": "", "args": [{"name": "a"}]}],
            "inputFields": None,
            "enumValues": None,
        },
        {"name": "E", "description": None, "enumValues": [{"name": "V", "description": "v"}]},
    ]
    assert _undescribed(types) == ["T.f", "T.f(a)", "E"]


def test_every_custom_scalar_names_its_specification():
    scalars = {
        t["name"]: t for t in _introspect() if t["kind"] == "SCALAR" and t["name"] not in BUILT_IN
    }
    assert {n: s["specifiedByURL"] for n, s in scalars.items()} == SCALAR_SPECS
    date_time = scalars["DateTime"]["description"]
    assert "UTC offset" in date_time and "INVALID" in date_time


LEVELS = """
query($below: Boolean) {
  stockLevels(locationIds: [$loc], belowReorderPoint: $below) {
    totalCount edges { node { product { sku } available reorderPoint } }
  }
}"""
SET_POINT = """
mutation($input: SetReorderPointInput!) {
  setReorderPoint(input: $input) { userErrors { code } } }"""


async def test_below_reorder_point_means_at_or_below(gql, tenant):
    owner = tenant.owner
    s1 = tenant.loc("S1")
    receipt = {"locationId": s1, "lines": [{"sku": s, "quantity": 5} for s in "ABC"]}
    await gql.ok(RECEIVE, owner, {"input": receipt})
    for sku, point in (("A", 4), ("B", 5), ("C", 6)):  # above, exactly at, below
        data = await gql.ok(
            SET_POINT, owner, {"input": {"locationId": s1, "sku": sku, "reorderPoint": point}}
        )
        assert data["setReorderPoint"]["userErrors"] == []

    async def skus(below: bool) -> list[tuple[str, int, int]]:
        query = LEVELS.replace("$loc", f'"{s1}"')
        data = await gql.ok(query, owner, {"below": below})
        nodes = [e["node"] for e in data["stockLevels"]["edges"]]
        assert data["stockLevels"]["totalCount"] == len(nodes)
        return sorted((n["product"]["sku"], n["available"], n["reorderPoint"]) for n in nodes)

    assert await skus(True) == [("B", 5, 5), ("C", 5, 6)]
    assert await skus(False) == [("A", 5, 4)]
    description = next(
        a["description"]
        for t in _introspect()
        if t["name"] == "Query"
        for f in t["fields"]
        if f["name"] == "stockLevels"
        for a in f["args"]
        if a["name"] == "belowReorderPoint"
    )
    assert "at or below" in description
