"""Query cost, the width pre-check, the cost buckets and the byte-bounded caches."""

from __future__ import annotations

import time

import pytest
from graphql import parse

from api.cost import MUTATION_COST, actual_cost, requested_cost, too_wide
from api.graphql import build_schema
from api.policy import AST_BYTES_PER_CHAR, ENTRY_SHARE, policy
from api.throttle import Throttle


@pytest.fixture(scope="module")
def schema():  # type: ignore[no-untyped-def]
    return build_schema()._schema


@pytest.mark.parametrize(
    ("document", "variables", "cost"),
    [
        ("{ viewer { kind } }", None, 1),
        ("{ products(first: 10) { edges { node { sku } } } }", None, 12),
        ("{ products { totalCount edges { cursor node { sku } } } }", None, 52),
        ("query($n: Int) { products(first: $n) { edges { node { sku } } } }", {"n": 3}, 5),
        ("query($n: Int) { products(first: $n) { edges { node { sku } } } }", {}, 52),
        (
            "{ a: stockMovements(first: 250) { edges { node { id } } } "
            "b: stockMovements(first: 250) { edges { node { id } } } }",
            None,
            504,
        ),
        ('{ nodes(ids: ["a", "b", "c"]) { id } }', None, 3),
        ("query($i: [ID!]!) { nodes(ids: $i) { id } }", {"i": ["a"] * 40}, 40),
        (
            "{ products(first: 2) { edges { node { ...F } } } } fragment F on Product { sku }",
            None,
            4,
        ),
    ],
)
def test_requested_cost(schema, document, variables, cost) -> None:  # type: ignore[no-untyped-def]
    assert requested_cost(schema, parse(document), None, variables) == cost


def test_one_parsed_document_is_costed_by_its_variables_each_time(schema) -> None:  # type: ignore[no-untyped-def]
    """Costs are remembered per parsed document: a page size or a list of IDs given in
    a variable still changes the cost; anything else a variable holds does not."""
    pages = parse(
        "query($n: Int, $loc: ID!) { stockLevels(first: $n, locationIds: [$loc]) "
        "{ edges { node { onHand product { sku } } } } }"
    )
    # 2 for the connection, then per level: the node and its product, 1 each
    assert requested_cost(schema, pages, None, {"n": 3, "loc": "a"}) == 2 + 3 * 2
    assert requested_cost(schema, pages, None, {"n": 10, "loc": "a"}) == 2 + 10 * 2
    assert requested_cost(schema, pages, None, {"n": 3, "loc": "b"}) == 2 + 3 * 2
    assert requested_cost(schema, pages, None, {"n": True, "loc": "b"}) == 2 + 50 * 2
    assert requested_cost(schema, pages, None, {"loc": "b"}) == 2 + 50 * 2
    by_ids = parse("query($ids: [ID!]!) { nodes(ids: $ids) { id } }")
    assert requested_cost(schema, by_ids, None, {"ids": ["a", "b"]}) == 2
    assert requested_cost(schema, by_ids, None, {"ids": ["a", "b", "c", "d", "e"]}) == 5
    assert requested_cost(schema, by_ids, None, {"ids": ["x", "y"]}) == 2
    data = {"stockLevels": {"edges": [{"node": {"onHand": 1, "product": {"sku": "A"}}}]}}
    assert actual_cost(schema, pages, None, {"n": 3, "loc": "a"}, data) == 2 + 1 + 1
    assert actual_cost(schema, pages, None, {"n": 3}, {"stockLevels": None}) == 0


def test_a_mutation_root_field_costs_ten(schema) -> None:  # type: ignore[no-untyped-def]
    document = parse(
        "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code } } }"
    )
    assert requested_cost(schema, document, None, None) == MUTATION_COST + 1


def test_actual_cost_counts_what_came_back(schema) -> None:  # type: ignore[no-untyped-def]
    document = parse("{ products(first: 50) { edges { node { sku } } } viewer { kind } }")
    data = {"products": {"edges": [{"node": {"sku": "A"}}, {"node": {"sku": "B"}}]}, "viewer": None}
    assert requested_cost(schema, document, None, None) == 53
    assert actual_cost(schema, document, None, None, data) == 4


def test_fragment_cycles_do_not_hang(schema) -> None:  # type: ignore[no-untyped-def]
    document = parse(
        "{ viewer { ...A } } fragment A on Viewer { kind ...B } fragment B on Viewer { ...A }"
    )
    assert requested_cost(schema, document, None, None) == 1
    assert too_wide(document, 100, 1000) is None


def test_the_width_pre_check() -> None:
    copies = parse("{ " + " ".join(["products { edges { node { sku } } }"] * 300) + " }")
    start = time.perf_counter()
    error = too_wide(copies, 100, 1000)
    assert error is not None and error.extensions == {"code": "SELECTION_TOO_WIDE"}
    assert time.perf_counter() - start < 0.05
    repeated = parse("{ " + " ".join(["products { edges { node { sku } } }"] * 90) + " }")
    assert too_wide(repeated, 100, 1000) is not None  # the overlap rule's work
    spread = parse(
        "{ ...F0 } "
        + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(20))
        + " fragment F20 on Query { viewer { kind } }"
    )
    assert too_wide(spread, 100, 1000) is not None  # 2^20 fields once expanded
    fine = parse("{ a: viewer { kind } b: viewer { kind } products { totalCount } }")
    assert too_wide(fine, 100, 1000) is None


def test_a_bucket_refuses_refunds_and_restores() -> None:
    now = [0.0]
    bucket = Throttle(100, 10, clock=lambda: now[0])
    key = (1, "app:a")
    assert bucket.take(key, 80).available == 20
    refused = bucket.take(key, 50)
    assert refused.retry_after == 3  # 30 points short at 10 a second
    assert bucket.refund(key, 70).available == 90
    now[0] += 1.0
    assert bucket.take(key, 100).retry_after == 0  # full again after a second
    assert bucket.take((1, "app:b"), 100).retry_after == 0  # another client's own bucket


def test_the_document_cache_is_bounded_by_bytes(schema) -> None:  # type: ignore[no-untyped-def]
    rules = policy(max_tokens=100_000, cache_bytes=4_000_000)
    for i in range(200):
        rules.validate(schema, "{ viewer { kind } }" + " " * 1000 + f"# {i}")
    info = rules.cache_info()["parse"]
    assert info.bytes <= 4_000_000 and info.entries < 200
    big = "{ viewer { kind } }" + " " * (4_000_000 // ENTRY_SHARE // AST_BYTES_PER_CHAR)
    rules.parse(big)
    rules.parse(big)
    assert rules.cache_info()["parse"].hits == info.hits  # too big a share: not kept


def test_documents_are_not_cached_for_a_caller_without_a_token(schema) -> None:  # type: ignore[no-untyped-def]
    rules = policy(max_tokens=100_001)
    before = rules.cache_info()["parse"].entries
    rules.validate(schema, "{ __typename } # anonymous", keep=False)
    assert rules.cache_info()["parse"].entries == before


def test_nodes_by_id_cost_one_each(schema) -> None:  # type: ignore[no-untyped-def]
    document = parse('{ nodes(ids: ["a", "b", "c"]) { id } }')
    assert actual_cost(schema, document, None, None, {"nodes": [{"id": "a"}, None, None]}) == 1
