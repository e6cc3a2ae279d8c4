"""Read shapes beyond Q1 and Q2, for both servers, as pre-built request bodies.

- Q3 two root fields: one location's first 100 levels with product and location, and
  that location by its code (PostGraphile: the levels and ``allLocations`` by code).
- Q4 20 objects by global ID, 10 stock levels and 10 products: ``nodes(ids:)``
  (PostGraphile has no ``nodes``: 20 aliased ``node(id:)``, its global ID field).
- Q5 Q1 written with named and inline fragments.
- Q6 a stream of documents that inline their values instead of using variables (the
  location and ``first`` in the text, 50 × 61 different documents, more than either
  server's document caches hold), as many POS clients send them.

Each shape is a list of bodies made here with a fixed seed; wrk's Lua picks one at
random per request, so both servers get the same mix.
"""

from __future__ import annotations

import json
import random
from typing import Any

import httpx

from bench.dataset import Dataset
from bench.loadgen import Shape

READ = ("q3", "q4", "q5", "q6")  # the shapes made here
BODIES = 400  # per shape with variables: random picks of locations and IDs
LUA_BODIES = """
function new_op() return {i = math.random(#BODIES)} end
function make_body(op, page, cursor) return BODIES[op.i] end
"""
SOME_EDGES = '"edges"%s*:%s*%[{'
SOME_NODES = '"nodes"%s*:%s*%[{'
SOME_SKU = '"sku"'
FIRSTS = range(20, 81)  # Q6: 61 page sizes × every location

SG_Q3 = (
    "query($loc: ID!, $code: String!) { stockLevels(first: 100, locationIds: [$loc]) "
    "{ edges { node { onHand product { sku nameZh nameEn } location { code nameZh } } } } "
    "location(code: $code) { code nameEn kind } }"
)
SG_Q4 = (
    "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on StockLevel { onHand reserved } "
    "... on Product { sku nameEn } } }"
)
SG_Q5 = (
    "query($loc: ID!) { stockLevels(first: 50, locationIds: [$loc]) "
    "{ edges { node { ...Level } } } } "
    "fragment Level on StockLevel { onHand ... on StockLevel { reserved } product { ...Item } } "
    "fragment Item on Product { sku nameZh nameEn }"
)
SG_Q6 = (
    '{{ stockLevels(first: {first}, locationIds: ["{loc}"]) '
    "{{ edges {{ node {{ onHand product {{ sku nameZh nameEn }} }} }} }} }}"
)


def location_code(index: int) -> str:
    """The code bench/dataset.py gives the index-th location (in id order, from 0)."""
    return f"L{index + 1:03d}"


def _body(query: str, variables: dict[str, Any] | None = None) -> str:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    return json.dumps(payload, ensure_ascii=False)


def _shape(bodies: list[str], expect: str) -> Shape:
    return Shape(LUA_BODIES, 1, expect, {"BODIES": bodies})


def _post(endpoint: str, headers: dict[str, str], query: str) -> dict[str, Any]:
    r = httpx.post(endpoint, json={"query": query}, headers=headers, timeout=60)
    body = r.json()
    if r.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"probe failed: {r.status_code} {r.text[:500]}")
    data: dict[str, Any] = body["data"]
    return data


def sg_shapes(data: Dataset, endpoint: str, headers: dict[str, str]) -> dict[str, Shape]:
    """stockgraph's Q3–Q6; IDs for Q4 are read from the server itself."""
    rng = random.Random(3)
    levels = [
        e["node"]["id"]
        for loc in data.location_gids[:4]
        for e in _post(
            endpoint,
            headers,
            f'{{ stockLevels(first: 250, locationIds: ["{loc}"]) '
            "{ edges { node { id } } } }",
        )["stockLevels"]["edges"]
    ]
    products = [
        e["node"]["id"]
        for e in _post(endpoint, headers, "{ products(first: 250) { edges { node { id } } } }")[
            "products"
        ]["edges"]
    ]
    n = len(data.location_gids)
    q3, q4, q5 = [], [], []
    for _ in range(BODIES):
        i = rng.randrange(n)
        q3.append(_body(SG_Q3, {"loc": data.location_gids[i], "code": location_code(i)}))
        ids = rng.sample(levels, 10) + rng.sample(products, 10)
        rng.shuffle(ids)
        q4.append(_body(SG_Q4, {"ids": ids}))
        q5.append(_body(SG_Q5, {"loc": data.location_gids[rng.randrange(n)]}))
    q6 = [_body(SG_Q6.format(first=f, loc=loc)) for loc in data.location_gids for f in FIRSTS]
    rng.shuffle(q6)
    return {
        "q3": _shape(q3, SOME_EDGES),
        "q4": _shape(q4, SOME_SKU),
        "q5": _shape(q5, SOME_EDGES),
        "q6": _shape(q6, SOME_EDGES),
    }


def pgl_shapes(
    data: Dataset, endpoint: str, list_field: str, product_field: str, location_field: str
) -> tuple[dict[str, Shape], dict[str, str]]:
    """PostGraphile's equivalents of Q3–Q6 (its generated names), and one query of each."""
    rng = random.Random(3)
    node_id, node_arg = _node_names(endpoint)
    tenant = f'tenantId: "{data.tenant_id}"'
    order = "orderBy: [PRODUCT_ID_ASC]"
    levels = [
        n[node_id]
        for n in _post(
            endpoint,
            {},
            f"{{ {list_field}(first: 1000, condition: {{{tenant}}}) {{ nodes {{ {node_id} }} }} }}",
        )[list_field]["nodes"]
    ]
    products = [
        n[node_id]
        for n in _post(
            endpoint,
            {},
            f"{{ allProducts(first: 250, condition: {{{tenant}}}) {{ nodes {{ {node_id} }} }} }}",
        )["allProducts"]["nodes"]
    ]
    q3_text = (
        f"query($loc: BigInt!, $code: String!) {{ {list_field}(first: 100, "
        f"condition: {{{tenant}, locationId: $loc}}, {order}) {{ nodes {{ onHand "
        f"{product_field} {{ sku nameZh nameEn }} {location_field} {{ code nameZh }} }} }} "
        f"allLocations(condition: {{{tenant}, code: $code}}) {{ nodes {{ code nameEn kind }} }} }}"
    )
    aliases = " ".join(
        f"n{k}: node({node_arg}: $i{k}) {{ {node_id} ... on StockLevel {{ onHand reserved }} "
        "... on Product { sku nameEn } }"
        for k in range(20)
    )
    q4_text = "query(" + ", ".join(f"$i{k}: ID!" for k in range(20)) + ") { " + aliases + " }"
    q5_text = (
        f"query($loc: BigInt!) {{ {list_field}(first: 50, condition: {{{tenant}, "
        f"locationId: $loc}}, {order}) {{ nodes {{ ...Level }} }} }} "
        f"fragment Level on StockLevel {{ onHand ... on StockLevel {{ reserved }} "
        f"{product_field} {{ ...Item }} }} fragment Item on Product {{ sku nameZh nameEn }}"
    )

    def q6_text(first: int, loc: int) -> str:
        return (
            f'{{ {list_field}(first: {first}, condition: {{{tenant}, locationId: "{loc}"}}, '
            f"{order}) {{ nodes {{ onHand {product_field} {{ sku nameZh nameEn }} }} }} }}"
        )

    n = len(data.location_ids)
    q3, q4, q5 = [], [], []
    for _ in range(BODIES):
        i = rng.randrange(n)
        q3.append(_body(q3_text, {"loc": str(data.location_ids[i]), "code": location_code(i)}))
        ids = rng.sample(levels, 10) + rng.sample(products, 10)
        rng.shuffle(ids)
        q4.append(_body(q4_text, {f"i{k}": v for k, v in enumerate(ids)}))
        q5.append(_body(q5_text, {"loc": str(data.location_ids[rng.randrange(n)])}))
    q6 = [_body(q6_text(f, loc)) for loc in data.location_ids for f in FIRSTS]
    rng.shuffle(q6)
    shapes = {
        "q3": _shape(q3, SOME_NODES),
        "q4": _shape(q4, SOME_SKU),
        "q5": _shape(q5, SOME_NODES),
        "q6": _shape(q6, SOME_NODES),
    }
    queries = {"q3": q3_text, "q4": q4_text, "q5": q5_text, "q6": q6_text(50, 1)}
    return shapes, queries


def _node_names(endpoint: str) -> tuple[str, str]:
    """PostGraphile's global ID field (v5: ``id``, the column being ``rowId``) and the
    argument of its ``node`` field."""
    query = """{ __type(name: "Query") { fields { name args { name } } }
      level: __type(name: "StockLevel") { fields { name } } }"""
    data = _post(endpoint, {}, query)
    node = next(f for f in data["__type"]["fields"] if f["name"] == "node")
    level_fields = {f["name"] for f in data["level"]["fields"]}
    return ("nodeId" if "nodeId" in level_fields else "id"), node["args"][0]["name"]


def probe(endpoint: str, headers: dict[str, str], shapes: dict[str, Shape]) -> None:
    """One body of each shape through Python, checked, before wrk is let loose on it."""
    for key, shape in shapes.items():
        bodies = (shape.data or {})["BODIES"]
        assert isinstance(bodies, list)
        r = httpx.post(
            endpoint,
            content=bodies[0].encode(),
            headers={**headers, "Content-Type": "application/json"},
            timeout=60,
        )
        body = r.json()
        if r.status_code != 200 or body.get("errors") or not body.get("data"):
            raise RuntimeError(f"probe of {key} failed: {r.status_code} {r.text[:500]}")
        text = json.dumps(body)
        if ("sku" if key == "q4" else "onHand") not in text:
            raise RuntimeError(f"probe of {key}: nothing read: {text[:300]}")
