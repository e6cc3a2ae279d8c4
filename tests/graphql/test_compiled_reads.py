"""Compiled reads (api/compiled.py) against the full path, document by document.

Every document runs through strawberry (the full path) and through its compiled plan
with the same caller and the same variables, on the real database; the two responses
must serialise to the same JSON, byte for byte, and the plan must really answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from sqlalchemy import text

from api.compiled import (
    MAX_DOCUMENT_CHARS,
    OUTCOMES,
    PLAN_BYTES_PER_CHAR,
    PLAN_TRIED,
    CompiledReads,
    GiveUp,
    NotCompilable,
    Run,
    _run_object,
    compilable,
    compile_plan,
    execute,
)
from auth.caller import Caller
from auth.permissions import Role
from db.session import Database, plain_url
from domain import ids
from domain.tenancy import service as tenancy
from schema.catalog import Product
from schema.context import Context
from schema.loading import reads_unless
from schema.stock import StockLevel
from tests.conftest import TenantFixture
from tests.graphql.test_members import CONSENT, ERASE, PHONE
from tests.graphql.test_members import _create as _create_member
from tests.graphql.test_stock_concurrency import ADJUST, RECEIVE, SALE
from tests.graphql.test_stocktakes import count as count_stocktake
from tests.graphql.test_stocktakes import start as start_stocktake
from tests.graphql.test_stocktakes import transition as end_stocktake
from tests.graphql.transfer_ops import lines as transfer_lines
from tests.graphql.transfer_ops import ok as transfer_ok

SET_POINT = """
mutation($input: SetReorderPointInput!) {
  setReorderPoint(input: $input) { stockLevel { reorderPoint } userErrors { code } }
}"""

# The README's first query.
Q1 = (
    "{ stockLevels(first: 5, belowReorderPoint: true) { edges { node { onHand available "
    "location { code nameZh } product { sku nameEn } } } } }"
)


def _ctx(db: Any, caller: Caller | None) -> Context:
    return Context(db=db, caller=caller, request_id="compiled-test")


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


async def full(gql: Any, doc: str, caller: Caller, variables: dict[str, Any] | None = None) -> Any:
    return await gql.schema.execute(
        doc, variable_values=variables, context_value=_ctx(gql.db, caller)
    )


async def compiled(
    gql: Any,
    doc: str,
    caller: Caller,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> Any:
    plan = compile_plan(gql.schema._schema, doc, operation_name)
    return await execute(plan, gql.schema, _ctx(gql.db, caller), variables)


# (type, field) pairs the differential test has read through plans
COVERED: set[tuple[str, str]] = set()


async def same_both_ways(
    gql: Any, doc: str, caller: Caller, variables: dict[str, Any] | None = None
) -> Any:
    """The full path's data; the compiled path must answer (no GiveUp) with the same."""
    result = await full_path_only(gql, doc, caller, variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    mine = await compiled(gql, doc, caller, variables)
    assert _json(mine) == _json(result.data), doc
    COVERED.update(compile_plan(gql.schema._schema, doc, None).fields)
    return result.data


async def full_path_only(
    gql: Any, doc: str, caller: Caller, variables: dict[str, Any] | None = None
) -> Any:
    """strawberry's own executor, with no plan tried (the scope says one already was)."""
    context = _ctx(gql.db, caller)
    context.request = SimpleNamespace(scope={PLAN_TRIED: True})
    return await gql.schema.execute(doc, variable_values=variables, context_value=context)


def compilable_fields(schema: GraphQLSchema) -> set[tuple[str, str]]:
    """Every (type, field) a plan may read, from the declarations, reachable from Query."""
    found: set[tuple[str, str]] = set()
    seen: set[str] = set()
    query_type = schema.query_type
    assert query_type is not None
    todo: list[GraphQLObjectType] = [query_type]
    while todo:
        type_ = todo.pop()
        if type_.name in seen:
            continue
        seen.add(type_.name)
        for name, field_def in type_.fields.items():
            if not compilable(type_, name):
                continue
            found.add((type_.name, name))
            inner = get_named_type(field_def.type)
            if isinstance(inner, GraphQLObjectType):
                todo.append(inner)
            elif isinstance(inner, GraphQLInterfaceType | GraphQLUnionType):
                todo.extend(schema.get_possible_types(inner))
    return found


@dataclass
class Stocked:
    tenant: TenantFixture
    level_cursor_2: str  # the endCursor of the first two stock levels
    movement_cursor_3: str  # the endCursor of the first three movements
    product_cursor_1: str  # the endCursor of the first product
    third_sequence: str
    ids: dict[str, list[str]]  # global IDs by type name: two stock levels, movements, …
    missing_product: str  # the ID of a product that does not exist
    records: dict[str, list[str]]  # global IDs of what record_more made, by type name
    record_cursors: dict[str, str]  # the endCursor of each list's first item, by root


async def stock_up(gql: Any, tenant: TenantFixture) -> Stocked:
    """A fourth product (barcode, category, MOP price, no cost), a temporary warehouse,
    receipts, an adjustment, a sale and reorder points; then ``record_more``."""
    async with tenant.db.owner_transaction() as session:
        system = Caller.system(tenant.tenant_id)
        tenant.products["D"] = await tenancy.create_product(
            session,
            system,
            tenancy.NewProduct(
                "D",
                "產品D",
                "Product D",
                barcode="4890000000017",
                category="Snacks",
                retail_price=Decimal("8.80"),
                retail_price_mop=Decimal("9.10"),
            ),
        )
        tenant.locations["TW"] = await tenancy.create_location(
            session,
            system,
            tenancy.NewLocation("TW", "臨時倉", "Fair warehouse", "TEMPORARY_WAREHOUSE"),
        )
    owner = tenant.owner
    receipts = {
        "S1": [("A", 10), ("B", 3), ("C", 7)],
        "S2": [("A", 4), ("D", 2)],
        "WH": [("A", 100), ("B", 50), ("C", 25), ("D", 12)],
    }
    for loc, lines in receipts.items():
        data = await gql.ok(
            RECEIVE,
            owner,
            {
                "input": {
                    "locationId": tenant.loc(loc),
                    "reference": f"PO-{loc}",
                    "lines": [{"sku": s, "quantity": q} for s, q in lines],
                }
            },
        )
        assert data["receiveStock"]["userErrors"] == []
    adjusted = await gql.ok(
        ADJUST,
        owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "sku": "B",
                "delta": -1,
                "reason": "DAMAGE",
                "note": "dropped",
            }
        },
    )
    assert adjusted["adjustStock"]["userErrors"] == []
    sold = await gql.ok(
        SALE,
        owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "receiptNumber": "R-1",
                "lines": [{"sku": "A", "quantity": 2, "unitPrice": "9.90"}],
            }
        },
    )
    assert sold["recordSale"]["userErrors"] == []
    for loc, sku, point in (("S1", "B", 5), ("S2", "A", 10), ("WH", "A", 5)):
        data = await gql.ok(
            SET_POINT,
            owner,
            {"input": {"locationId": tenant.loc(loc), "sku": sku, "reorderPoint": point}},
        )
        assert data["setReorderPoint"]["userErrors"] == []
    levels = await gql.ok(
        "{ stockLevels(first: 2) { pageInfo { endCursor } edges { node { id } } } }", owner
    )
    movements = await gql.ok(
        "{ stockMovements(first: 3) { pageInfo { endCursor } edges { node { sequence id } } } }",
        owner,
    )
    products = await gql.ok(
        "{ products(first: 2) { pageInfo { endCursor } edges { node { id } } } }", owner
    )
    locations = await gql.ok("{ locations(first: 2) { edges { node { id } } } }", owner)
    products_1 = await gql.ok("{ products(first: 1) { pageInfo { endCursor } } }", owner)

    def node_ids(data: dict[str, Any]) -> list[str]:
        return [e["node"]["id"] for e in next(iter(data.values()))["edges"]]

    records = await record_more(gql, tenant)
    roots = [
        "transfers",
        "stocktakes",
        "members",
    ]
    firsts = await gql.ok(
        "{ "
        + " ".join(f"{root}(first: 1) {{ pageInfo {{ endCursor }} }}" for root in roots)
        + " }",
        owner,
    )

    return Stocked(
        tenant=tenant,
        level_cursor_2=levels["stockLevels"]["pageInfo"]["endCursor"],
        movement_cursor_3=movements["stockMovements"]["pageInfo"]["endCursor"],
        product_cursor_1=products_1["products"]["pageInfo"]["endCursor"],
        third_sequence=movements["stockMovements"]["edges"][2]["node"]["sequence"],
        ids={
            "StockLevel": node_ids(levels),
            "StockMovement": node_ids(movements)[:2],
            "Product": node_ids(products),
            "Location": node_ids(locations),
        },
        missing_product=ids.encode("Product", 2**40),
        records=records,
        record_cursors={root: page["pageInfo"]["endCursor"] for root, page in firsts.items()},
    )


async def record_more(gql: Any, tenant: TenantFixture) -> dict[str, list[str]]:
    """Records besides the stock, for the documents that read them. None changes a
    stock figure the other tests pin."""
    records = await record_transfers(gql, tenant)
    records.update(await record_stocktakes(gql, tenant))
    records.update(await record_members(gql, tenant))
    return records


async def record_transfers(gql: Any, tenant: TenantFixture) -> dict[str, list[str]]:
    """A draft, one waiting for approval, and one approved, shipped (WH's A and C) and
    partly received (S1's C), with a rejection and a write-off."""
    owner = tenant.owner
    purchaser = tenant.staff(Role.PURCHASER, staff_id=21)
    regional = tenant.staff(Role.REGIONAL_MANAGER, staff_id=22)
    draft = await transfer_ok(
        gql,
        owner,
        "createTransfer",
        fromLocationId=tenant.loc("WH"),
        toLocationId=tenant.loc("S2"),
        lines=transfer_lines(A=1, B=1),
        submit=False,
    )
    moved = await transfer_ok(
        gql,
        purchaser,
        "createTransfer",
        fromLocationId=tenant.loc("WH"),
        toLocationId=tenant.loc("S1"),
        lines=transfer_lines(C=3, A=2),
        note="weekend restock",
    )
    await transfer_ok(gql, regional, "approveTransfer", id=moved["id"], comment="ok")
    await transfer_ok(gql, owner, "shipTransfer", id=moved["id"])
    await transfer_ok(
        gql,
        owner,
        "receiveTransfer",
        id=moved["id"],
        lines=[{"sku": "C", "quantity": 1, "rejectedQuantity": 1, "rejectionReason": "crushed"}],
    )
    await transfer_ok(
        gql,
        owner,
        "resolveTransferDiscrepancy",
        id=moved["id"],
        lines=transfer_lines(C=1),
        reason="THEFT",
        note="not in the van",
    )
    waiting = await transfer_ok(
        gql,
        purchaser,
        "createTransfer",
        fromLocationId=tenant.loc("S2"),
        toLocationId=tenant.loc("WH"),
        lines=transfer_lines(D=1),
    )
    return {
        "Transfer": [moved["id"], waiting["id"], draft["id"]],
        "ApprovalRequest": [moved["approvalRequest"]["id"]],
    }


async def record_stocktakes(gql: Any, tenant: TenantFixture) -> dict[str, list[str]]:
    """One posted (WH: one A lost), one open with a count (S2), one cancelled (S1)."""
    posted = (await start_stocktake(gql, tenant, loc="WH", kind="CYCLE", skus=["A", "D"]))[
        "stocktake"
    ]["id"]
    assert (await count_stocktake(gql, tenant, posted, {"A": 97, "D": 12}))["userErrors"] == []
    assert (await end_stocktake(gql, tenant, "post", posted))["userErrors"] == []
    counting = (
        await start_stocktake(gql, tenant, loc="S2", kind="CYCLE", category="Snacks", note="n")
    )["stocktake"]["id"]
    assert (await count_stocktake(gql, tenant, counting, {"D": 2}))["userErrors"] == []
    dropped = (await start_stocktake(gql, tenant, loc="S1", kind="CYCLE", notCountedForDays=30))[
        "stocktake"
    ]["id"]
    assert (await end_stocktake(gql, tenant, "cancel", dropped))["userErrors"] == []
    return {"Stocktake": [posted, counting, dropped]}


async def record_members(gql: Any, tenant: TenantFixture) -> dict[str, list[str]]:
    """One with a home store, tags, consents and a purchase (S2's D); one without; one
    erased."""
    owner = tenant.owner
    member = await _create_member(
        gql,
        tenant,
        homeLocationId=tenant.loc("S1"),
        tags=["gold"],
        consents=[{"channel": "SMS", "granted": True, "wordingVersion": "v1"}],
    )
    manager = tenant.staff(Role.STORE_MANAGER, ["S2"], staff_id=23)
    consent = {"memberId": member["id"], "channel": "EMAIL", "granted": True}
    assert (await gql.ok(CONSENT, manager, {"input": consent}))["setMemberConsent"][
        "userErrors"
    ] == []
    sold = await gql.ok(
        SALE,
        owner,
        {
            "input": {
                "locationId": tenant.loc("S2"),
                "receiptNumber": "R-M1",
                "lines": [{"sku": "D", "quantity": 1, "unitPrice": "8.80"}],
                "memberId": member["id"],
            }
        },
    )
    assert sold["recordSale"]["userErrors"] == []
    plain = await _create_member(gql, tenant, name="李小明", phone=None, email=None, birthday=None)
    erased = await _create_member(gql, tenant, name="王美玲")
    assert (await gql.ok(ERASE, owner, {"id": erased["id"]}))["eraseMember"]["userErrors"] == []
    return {"Member": [member["id"], plain["id"], erased["id"]]}


@pytest.fixture
async def stocked(gql: Any, tenant: TenantFixture) -> Stocked:
    return await stock_up(gql, tenant)


LEVEL_FIELDS = """
fragment LevelFields on StockLevel {
  id onHand reserved available inTransit incoming reorderPoint version updatedAt
  __typename
}"""

PRODUCT_FIELDS = """
fragment ProductFields on Product {
  id sku barcode nameZh nameEn category
  zh: name en: name(locale: EN) hk: name(locale: ZH_HK)
  retailPrice { amount currency } retailPrices { amount currency __typename }
}"""


def documents(s: Stocked) -> list[tuple[str, str, dict[str, Any] | None]]:
    t = s.tenant
    return [
        ("q1 below reorder point", Q1, None),
        (
            "levels: aliases, named fragments, typename, page info, cursors, count",
            """query Levels($first: Int = 4) {
              __typename
              levels: stockLevels(first: $first) {
                __typename total: totalCount
                edges { __typename cursor node { ...LevelFields
                  where: location { code kind name(locale: EN) }
                  what: product { ...ProductFields } } }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
              }
            }"""
            + LEVEL_FIELDS
            + PRODUCT_FIELDS,
            None,
        ),
        (
            "levels: inline fragments on the type, on Node, without a condition; merged fields",
            """{ stockLevels { edges { node {
                ... on StockLevel { onHand product { sku } }
                ... on Node { id }
                ... { reserved location { ... on Location { code } ... on Node { id } } }
                onHand
                product { nameEn sku }
            } } } }""",
            None,
        ),
        (
            "levels: skus filter from a variable",
            """query($skus: [String!]) { stockLevels(skus: $skus) { totalCount
                edges { node { onHand location { code } product { sku name(locale: EN) } } } } }""",
            {"skus": ["A", "D"]},
        ),
        (
            "levels: one location and several",
            """query($one: [ID!], $two: [ID!]) {
              one: stockLevels(locationIds: $one) { totalCount edges { node { onHand
                product { sku } } } }
              two: stockLevels(locationIds: $two, first: 3) { totalCount
                edges { cursor node { onHand location { code } } }
                pageInfo { hasNextPage endCursor } } }""",
            {"one": [t.loc("S1")], "two": [t.loc("S2"), t.loc("WH")]},
        ),
        (
            "levels: belowReorderPoint false and true with totals",
            """{ above: stockLevels(belowReorderPoint: false) { totalCount
                  edges { node { available reorderPoint product { sku } } } }
                below: stockLevels(belowReorderPoint: true) { totalCount
                  edges { node { available reorderPoint location { code } } } } }""",
            None,
        ),
        (
            "levels: the page after a cursor of the previous page",
            """query($after: String, $first: Int = 3) {
              stockLevels(first: $first, after: $after) {
                edges { cursor node { onHand location { code } product { sku } } }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }""",
            {"after": s.level_cursor_2},
        ),
        (
            "levels: first 0",
            """{ stockLevels(first: 0) { totalCount edges { cursor }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
            None,
        ),
        (
            "stockLevel: nested location and product, and one that does not exist",
            """query($loc: ID!, $sku: String! = "A") {
              found: stockLevel(locationId: $loc, sku: $sku) { ...LevelFields
                location { id code nameZh nameEn name kind __typename }
                product { ...ProductFields } }
              missing: stockLevel(locationId: $loc, sku: "NOPE") { id }
              foreign: stockLevel(locationId: "NOWHERE", sku: "A") { id } }""".replace(
                "NOWHERE", ids.encode("Location", 9_000_000_001)
            )
            + LEVEL_FIELDS
            + PRODUCT_FIELDS,
            {"loc": t.loc("S1")},
        ),
        (
            "movements: every field",
            """{ stockMovements { totalCount edges { cursor node { __typename id sequence kind
                delta onHandAfter oversell reason note reference occurredAt recordedAt actor
                location { code name } product { sku retailPrices { amount currency } } } }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
            None,
        ),
        (
            "movements: location, sku and afterSequence filters",
            """query($loc: ID, $sku: String, $seq: BigInt) {
              bySku: stockMovements(sku: $sku) { edges { node { sequence delta
                location { code } } } }
              byLoc: stockMovements(locationId: $loc, first: 2) { edges { node { sequence kind
                product { sku } } } pageInfo { hasNextPage endCursor } }
              afterSeq: stockMovements(afterSequence: $seq) { edges { node { sequence } } } }""",
            {"loc": t.loc("S1"), "sku": "A", "seq": s.third_sequence},
        ),
        (
            "movements: the page after a cursor",
            """query($after: String) { stockMovements(first: 4, after: $after) {
                edges { cursor node { sequence reference } }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
            {"after": s.movement_cursor_3},
        ),
        (
            "products: every field, counts and page info",
            """{ products { totalCount edges { cursor node { ...ProductFields } }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
            + PRODUCT_FIELDS,
            None,
        ),
        (
            "products: search and the page after a cursor",
            """query($after: String, $q: String) {
              search: products(search: $q, first: 2) { totalCount edges { node { sku nameEn } } }
              next: products(first: 2, after: $after) { edges { cursor node { sku } }
                pageInfo { hasNextPage hasPreviousPage endCursor } } }""",
            {"after": s.product_cursor_1, "q": "Product"},
        ),
        (
            "product: aliases, a missing one, name with a variable locale",
            """query($sku: String = "D", $locale: Locale) {
              d: product(sku: $sku) { sku barcode category name(locale: $locale)
                retailPrice { amount currency } retailPrices { amount currency } }
              a: product(sku: "A") { sku retailPrices { currency } }
              none: product(sku: "NOPE") { sku } }""",
            {"locale": "EN"},
        ),
        (
            "product and location: variable defaults",
            """query($sku: String = "B", $code: String = "WH") {
              product(sku: $sku) { __typename sku nameZh }
              location(code: $code) { __typename code kind } }""",
            None,
        ),
        (
            "product and location: defaults overridden",
            """query($sku: String = "B", $code: String = "WH") {
              product(sku: $sku) { __typename sku nameZh }
              location(code: $code) { __typename code kind } }""",
            {"sku": "C", "code": "TW"},
        ),
        (
            "locations: kind filter, cursors, names",
            """{ stores: locations(kind: STORE) { totalCount edges { cursor node { id code name
                  en: name(locale: EN) nameZh nameEn kind } } pageInfo { hasNextPage } }
                all: locations(first: 2) { totalCount edges { node { code kind } }
                  pageInfo { hasNextPage endCursor } }
                temp: locations(kind: TEMPORARY_WAREHOUSE) { edges { node { code nameEn } } } }""",
            None,
        ),
        (
            "location: by code, and one that does not exist",
            """{ s1: location(code: "S1") { id code name(locale: EN) kind __typename }
                none: location(code: "NOPE") { id } }""",
            None,
        ),
        (
            "batched rows: row columns only, next to the same field with more",
            """{ stockLevels { edges { node {
                  rowsOnly: product { __typename sku barcode nameZh nameEn category }
                  more: product { id sku retailPrice { amount } }
                  where: location { code nameZh nameEn __typename }
                  kind: location { kind name(locale: EN) } } } }
                stockMovements(first: 3) { edges { node {
                  product { sku nameEn } location { code } } } } }""",
            None,
        ),
        (
            "every root at once, fragments spread twice",
            """query Everything {
              __typename
              stockLevels(first: 2) { edges { node { onHand product { ...P } } } }
              stockMovements(first: 2) { edges { node { kind product { ...P } } } }
              products(first: 2) { edges { node { ...P } } }
              product(sku: "A") { ...P }
              locations(first: 1) { edges { node { code } } }
              location(code: "S2") { code } }
            fragment P on Product { sku name(locale: EN) }""",
            None,
        ),
        (
            "nodes of four types: fragments per type, typename, an unknown type, a missing one",
            """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ...N
                ... on StockLevel { onHand available location { code } product { sku } }
                ... on StockMovement { sequence delta product { ...P } }
                ... on Location { code name(locale: EN) } } }
            fragment N on Node { ... on Product { ...P retailPrices { currency } } }
            fragment P on Product { sku nameZh }""",
            {
                "ids": [
                    *[i for ids in s.ids.values() for i in ids],
                    ids.encode("Nope", 1),  # a well-formed ID of no type of ours
                    ids.encode("Product", 99999),
                ]
            },
        ),
        (
            "node: one of each type beside a root list, the same rows read once",
            """query($level: ID!, $product: ID!, $loc: ID!) {
              level: node(id: $level) { id ... on StockLevel { onHand product { sku } } }
              product: node(id: $product) { ... on Product { sku retailPrice { amount } } }
              location: node(id: $loc) { __typename ... on Location { code kind } }
              stockLevels(first: 3) { edges { node { product { sku } } } } }""",
            {
                "level": s.ids["StockLevel"][0],
                "product": s.ids["Product"][1],
                "loc": s.ids["Location"][0],
            },
        ),
        *record_documents(s),
    ]


TRANSFER_FIELDS = """
fragment TransferFields on Transfer {
  __typename id status reference note createdBy requestedBy version createdAt updatedAt
  fromLocation { code name(locale: EN) } toLocation { id code kind __typename }
  lines { __typename quantity shippedQuantity receivedQuantity rejectedQuantity
    rejectionReason resolvedQuantity resolutionReason missingQuantity
    product { sku nameEn retailPrice { amount } } }
  approvalRequest { __typename id subjectType status requiredRank nextRank units requestedBy
    createdAt decidedAt decisions { __typename actor rank decision comment decidedAt }
    transfer { id status } }
}"""

STOCKTAKE_FIELDS = """
fragment StocktakeFields on Stocktake {
  __typename id kind status scope category notCountedForDays note startedBy startedAt
  postedBy postedAt cancelledAt
  location { code name }
  lines { __typename countedQuantity countedAt countedBy expectedAtCount
    ledgerSequenceAtCount variance movementSequence product { sku category } }
  totals { __typename linesCounted netVarianceUnits lossUnits gainUnits uncostedLines }
}"""

MEMBER_FIELDS = """
fragment MemberFields on Member {
  __typename id memberNumber name tier tags createdBy createdAt erasedAt
  homeLocation { code name(locale: EN) }
  consents { __typename channel granted wordingVersion recordedAt recordedBy clientId }
  consentHistory { __typename channel granted wordingVersion recordedAt recordedBy clientId
    staffId }
  purchases { totalCount edges { cursor node { __typename id receiptNumber occurredAt
      total { amount currency } oversold postedOn location { code nameEn }
      lines { __typename quantity unitPrice product { sku nameZh } } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
}"""


def record_documents(s: Stocked) -> list[tuple[str, str, dict[str, Any] | None]]:
    """What the owner and a clerk read of the records besides the stock."""
    docs = transfer_documents(s)
    docs += stocktake_documents(s)
    docs += member_documents(s)
    return docs


def transfer_documents(s: Stocked) -> list[tuple[str, str, dict[str, Any] | None]]:
    t, r = s.tenant, s.records
    return [
        (
            "transfers: every field, lines, approval, page info",
            """{ transfers { totalCount edges { cursor node { ...TransferFields } }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
            + TRANSFER_FIELDS,
            None,
        ),
        (
            "transfers: status and location filters, the page after a cursor",
            """query($loc: ID, $after: String, $status: TransferStatus = REQUESTED) {
              waiting: transfers(status: $status) { totalCount edges { node { id status
                approvalRequest { status nextRank decisions { rank } } } } }
              atS1: transfers(locationId: $loc) { totalCount edges { node { reference
                fromLocation { code } toLocation { code } } } }
              first: transfers(first: 1) { edges { node { id } } pageInfo { endCursor } }
              next: transfers(first: 1, after: $after) { edges { cursor node { id } }
                pageInfo { hasNextPage hasPreviousPage endCursor } } }""",
            {"loc": t.loc("S1"), "after": s.record_cursors["transfers"]},
        ),
        (
            "transfer: by ID with its lines, and one that does not exist",
            """query($id: ID!, $none: ID!) {
              transfer(id: $id) { ...TransferFields }
              draft: transfer(id: "DRAFT") { status approvalRequest { id } lines {
                quantity product { sku } } }
              none: transfer(id: $none) { id } }""".replace("DRAFT", r["Transfer"][2])
            + TRANSFER_FIELDS,
            {"id": r["Transfer"][0], "none": ids.encode("Transfer", 2**40)},
        ),
        (
            "nodes: transfers and an approval request beside a product, and missing ones",
            """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
                ... on Transfer { transferStatus: status fromLocation { code }
                  lines { quantity product { sku } } approvalRequest { id } }
                ... on ApprovalRequest { approvalStatus: status units decisions { decision }
                  transfer { id } }
                ... on Product { sku } } }""",
            {
                "ids": [
                    *r["Transfer"],
                    s.ids["Product"][0],
                    *r["ApprovalRequest"],
                    ids.encode("Transfer", 2**40),
                    ids.encode("ApprovalRequest", 2**40),
                ]
            },
        ),
        (
            "node: a transfer beside the transfers root, the same rows read once",
            """query($t: ID!) {
              t: node(id: $t) { ... on Transfer { reference toLocation { code } } }
              transfers(first: 2) { edges { node { id toLocation { code } } } } }""",
            {"t": r["Transfer"][0]},
        ),
    ]


def stocktake_documents(s: Stocked) -> list[tuple[str, str, dict[str, Any] | None]]:
    t, r = s.tenant, s.records
    return [
        (
            "stocktakes: every field, counted and uncounted lines, page info",
            """{ stocktakes { totalCount edges { cursor node { ...StocktakeFields
                  counted: lines(counted: true) { product { sku } countedQuantity }
                  toCount: lines(counted: false) { product { sku } } } }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
            + STOCKTAKE_FIELDS,
            None,
        ),
        (
            "stocktakes: status and location filters, the page after a cursor",
            """query($loc: ID, $after: String) {
              open: stocktakes(status: OPEN) { edges { node { id status location { code } } } }
              atWh: stocktakes(locationId: $loc) { edges { node { scope
                lines { variance product { sku } } } } }
              next: stocktakes(first: 1, after: $after) { edges { cursor node { id } }
                pageInfo { hasNextPage hasPreviousPage endCursor } } }""",
            {"loc": t.loc("WH"), "after": s.record_cursors["stocktakes"]},
        ),
        (
            "stocktake: by ID, and one that does not exist",
            """query($id: ID!, $none: ID!) { stocktake(id: $id) { ...StocktakeFields }
              none: stocktake(id: $none) { id } }"""
            + STOCKTAKE_FIELDS,
            {"id": r["Stocktake"][0], "none": ids.encode("Stocktake", 2**40)},
        ),
        (
            "nodes: stocktakes beside a transfer",
            """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
                ... on Stocktake { kind stocktakeStatus: status location { code }
                  totals { linesCounted } }
                ... on Transfer { reference } } }""",
            {"ids": [*r["Stocktake"], r["Transfer"][0], ids.encode("Stocktake", 2**40)]},
        ),
    ]


def member_documents(s: Stocked) -> list[tuple[str, str, dict[str, Any] | None]]:
    r = s.records
    return [
        (
            "members: every declared field, purchases, page info",
            """{ members { totalCount edges { cursor node { ...MemberFields } }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
            + MEMBER_FIELDS,
            None,
        ),
        (
            "members: a tag filter, the page after a cursor, by ID, and a missing one",
            """query($id: ID!, $none: ID!, $after: String, $tag: String = "gold") {
              gold: members(tag: $tag) { totalCount edges { node { name tags } } }
              next: members(first: 1, after: $after) { totalCount edges { node { memberNumber } }
                pageInfo { hasNextPage endCursor } }
              member(id: $id) { ...MemberFields
                firstPurchase: purchases(first: 1) { edges { node { receiptNumber } } } }
              none: member(id: $none) { id } }"""
            + MEMBER_FIELDS,
            {
                "id": r["Member"][0],
                "none": ids.encode("Member", 2**40),
                "after": s.record_cursors["members"],
            },
        ),
        (
            "nodes: transfers, members, stocktakes and an approval request beside a product",
            """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
                ... on Transfer { transferStatus: status fromLocation { code }
                  lines { quantity product { sku } } }
                ... on Member { memberNumber name tags homeLocation { code } }
                ... on Stocktake { kind stocktakeStatus: status location { code }
                  totals { linesCounted } }
                ... on ApprovalRequest { approvalStatus: status units decisions { decision }
                  transfer { id } }
                ... on Product { sku } } }""",
            {
                "ids": [
                    r["Transfer"][0],
                    r["Member"][0],
                    s.ids["Product"][0],
                    *r["Stocktake"],
                    *r["ApprovalRequest"],
                    r["Member"][2],
                    r["Transfer"][1],
                    ids.encode("Member", 2**40),
                ]
            },
        ),
        (
            "node: a transfer and a member beside their roots, the same rows read once",
            """query($t: ID!, $m: ID!) {
              t: node(id: $t) { ... on Transfer { reference toLocation { code } } }
              m: node(id: $m) { ... on Member { tags consents { channel granted } } }
              transfers(first: 2) { edges { node { id toLocation { code } } } }
              members(first: 2) { edges { node { id homeLocation { code } } } } }""",
            {"t": r["Transfer"][0], "m": r["Member"][0]},
        ),
    ]


# Read with costs:read (the owner, an auditor; not a clerk).
STOCKTAKE_COSTS = """query($id: ID!) { stocktake(id: $id) { status
  lines { variance product { sku } unitCost { amount currency } varianceCost { amount currency } }
  totals { netVarianceCost { amount currency } lossCost { amount currency }
    gainCost { amount currency } } } }"""


async def test_compiled_plans_answer_exactly_as_the_full_path(gql, stocked):
    docs = documents(stocked)
    assert len(docs) >= 15
    owner = stocked.tenant.owner
    clerk = stocked.tenant.staff(Role.CLERK, ["S1"])
    for name, doc, variables in docs:
        for caller in (owner, clerk):
            data = await same_both_ways(gql, doc, caller, variables)
            assert data, name
    for stocktake in stocked.records["Stocktake"]:
        for caller in (owner, stocked.tenant.staff(Role.AUDITOR)):
            await same_both_ways(gql, STOCKTAKE_COSTS, caller, {"id": stocktake})


async def test_the_differential_test_covers_every_compilable_field(gql, stocked):
    """Every field the schema declares compilable is read by a document of the
    differential test; a newly declared field fails here until a document reads it."""
    COVERED.clear()
    costs = stocked.tenant.app("stock:read costs:read")
    for _name, doc, variables in documents(stocked):
        await same_both_ways(gql, doc, stocked.tenant.owner, variables)
    await same_both_ways(
        gql, '{ product(sku: "A") { costPrice { amount currency } } }', costs, None
    )
    posted = stocked.records["Stocktake"][0]
    await same_both_ways(gql, STOCKTAKE_COSTS, costs, {"id": posted})
    declared = compilable_fields(gql.schema._schema)
    assert ("Query", "nodes") in declared and ("Product", "costPrice") in declared
    assert declared - COVERED == set()


async def test_the_documents_read_the_expected_values(gql, stocked):
    """The differential test compares two paths; this pins what both of them say."""
    t = stocked.tenant
    data = await compiled(gql, Q1, t.owner)
    rows = [
        (e["node"]["location"]["code"], e["node"]["product"]["sku"], e["node"]["onHand"])
        for e in data["stockLevels"]["edges"]
    ]
    assert rows == [("S1", "B", 2), ("S2", "A", 4)]
    docs = {name: doc for name, doc, _ in documents(stocked)}
    after = docs["levels: the page after a cursor of the previous page"]
    data = await compiled(gql, after, t.owner, {"after": stocked.level_cursor_2})
    page = data["stockLevels"]
    assert page["totalCount"] == 9
    assert [
        (e["node"]["location"]["code"], e["node"]["product"]["sku"]) for e in page["edges"]
    ] == [
        ("WH", "C"),
        ("WH", "D"),
        ("S1", "A"),
    ]
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is True
    named = docs["product: aliases, a missing one, name with a variable locale"]
    data = await compiled(gql, named, t.owner, {"locale": "EN"})
    assert data["d"] == {
        "sku": "D",
        "barcode": "4890000000017",
        "category": "Snacks",
        "name": "Product D",
        "retailPrice": {"amount": "8.80", "currency": "HKD"},
        "retailPrices": [
            {"amount": "8.80", "currency": "HKD"},
            {"amount": "9.10", "currency": "MOP"},
        ],
    }
    assert data["none"] is None and data["a"]["retailPrices"] == [{"currency": "HKD"}]


async def test_a_plan_learnt_once_answers_through_the_cache(gql, stocked):
    reads = CompiledReads(gql.schema)
    owner = stocked.tenant.owner
    assert await reads.try_execute(Q1, None, None, _ctx(gql.db, owner)) == (False, None)
    tid = owner.tenant_id
    assert reads.plan_for(Q1, None, tid) is None
    reads.learn(Q1, None, tid)
    assert reads.plan_for(Q1, None, tid) is not None
    assert reads.plan_for(Q1, None, tid + 1) is None  # plans are per tenant
    answered, data = await reads.try_execute(Q1, None, None, _ctx(gql.db, owner))
    assert answered is True
    assert data == (await full(gql, Q1, owner)).data
    assert (reads.hits, reads.fallbacks) == (1, 0)
    # a document that does not compile is remembered as such and never tried
    mutation = 'mutation { setReorderPoint(input: {locationId: "x", sku: "A", reorderPoint: 1}) { userErrors { code } } }'  # noqa: E501
    reads.learn(mutation, None, tid)
    assert (tid, mutation, None) in reads.refused and (tid, mutation, None) not in reads.plans
    assert await reads.try_execute(mutation, None, None, _ctx(gql.db, owner)) == (False, None)
    assert (reads.hits, reads.fallbacks) == (1, 0)


async def test_the_plan_cache_is_bounded(gql, stocked):
    reads = CompiledReads(gql.schema, size=2)
    docs = [f"{{ product(sku: {json.dumps(s)}) {{ sku }} }}" for s in ("A", "B", "C")]
    tid = stocked.tenant.tenant_id
    for doc in docs:
        reads.learn(doc, None, tid)
    assert list(reads.plans) == [(tid, docs[1], None), (tid, docs[2], None)]
    assert reads.bytes == PLAN_BYTES_PER_CHAR * (len(docs[1]) + len(docs[2]))
    answered, data = await reads.try_execute(
        docs[2], None, None, _ctx(gql.db, stocked.tenant.owner)
    )
    assert answered and data == {"product": {"sku": "C"}}


async def test_plans_are_bounded_by_bytes_and_refusals_kept_apart(gql, stocked):
    tid = stocked.tenant.tenant_id
    docs = [f'{{ product(sku: "{s}") {{ sku }} }}' + " " * 100 for s in "ABCD"]
    reads = CompiledReads(gql.schema, max_bytes=2 * PLAN_BYTES_PER_CHAR * len(docs[0]))
    for doc in docs:
        reads.learn(doc, None, tid)
    assert [key[1] for key in reads.plans] == docs[2:]
    assert reads.bytes == 2 * PLAN_BYTES_PER_CHAR * len(docs[0])
    # documents that do not compile never push plans out
    for n in range(50):
        mutation = f'mutation {{ setReorderPoint(input: {{locationId: "x{n}", sku: "A", reorderPoint: 1}}) {{ userErrors {{ code }} }} }}'  # noqa: E501
        reads.learn(mutation, None, tid)
    assert [key[1] for key in reads.plans] == docs[2:] and len(reads.refused) == 50


async def test_long_documents_are_run_but_not_remembered(gql, stocked):
    """The cache keeps its keys' text: a document with a large literal is not kept."""
    reads = CompiledReads(gql.schema)
    long = '{ product(sku: "A") { sku } }' + " " * MAX_DOCUMENT_CHARS
    reads.learn(long, None, stocked.tenant.tenant_id)
    assert reads.plans == {} and reads.refused == {}
    assert await reads.try_execute(long, None, None, _ctx(gql.db, stocked.tenant.owner)) == (
        False,
        None,
    )


async def test_operation_name_picks_the_operation(gql, stocked):
    doc = """query One { product(sku: "A") { sku } }
             query Two { location(code: "S2") { code kind } }"""
    owner = stocked.tenant.owner
    assert await compiled(gql, doc, owner, operation_name="Two") == {
        "location": {"code": "S2", "kind": "STORE"}
    }
    assert await compiled(gql, doc, owner, operation_name="One") == {"product": {"sku": "A"}}
    with pytest.raises(NotCompilable):
        compile_plan(gql.schema._schema, doc, None)  # ambiguous: no operation


async def test_cost_price_compiles_but_only_answers_callers_with_costs_read(gql, stocked):
    t = stocked.tenant
    doc = """{ product(sku: "A") { sku costPrice { amount currency } }
               stockLevels(first: 2) { edges { node { product { sku
                 costPrice { amount } } } } } }"""
    plan = compile_plan(gql.schema._schema, doc, None)  # compiles
    owner_data = await same_both_ways(gql, doc, t.owner, None)
    assert owner_data["product"] == {
        "sku": "A",
        "costPrice": {"amount": "4.0000", "currency": "HKD"},
    }
    auditor = t.staff(Role.AUDITOR)
    await same_both_ways(gql, doc, auditor, None)
    for caller in (t.app("stock:read"), t.staff(Role.CLERK, ["S1"])):
        with pytest.raises(GiveUp):
            await execute(plan, gql.schema, _ctx(gql.db, caller), None)
        result = await full(gql, doc, caller)
        assert result.data["product"] == {"sku": "A", "costPrice": None}
        errors = {tuple(e.path): e.extensions["code"] for e in result.errors}
        assert errors == {
            ("product", "costPrice"): "FORBIDDEN",
            ("stockLevels", "edges", 0, "node", "product", "costPrice"): "FORBIDDEN",
            ("stockLevels", "edges", 1, "node", "product", "costPrice"): "FORBIDDEN",
        }


@pytest.mark.parametrize(
    "doc",
    [
        'mutation { adjustStock(input: {locationId: "x", sku: "A", delta: 1, reason: FOUND}) '
        "{ userErrors { code } } }",
        "query($id: ID!) { member(id: $id) { id phone } }",
        "{ members(first: 1) { edges { node { id email birthday } } } }",
        '{ members(search: "陳") { totalCount } }',
        "query($s: String) { members(first: 1, search: $s) { edges { node { id } } } }",
        "query($id: ID!) { exportMember(id: $id) }",
        "{ approvalRequests { edges { node { id } } } }",
        "{ viewer { kind } }",
        "{ stockLevels { edges { node { onHand @include(if: true) } } } }",
        'query($yes: Boolean!) { product(sku: "A") @include(if: $yes) { sku } }',
        'query($no: Boolean!) { product(sku: "A") { sku @skip(if: $no) } }',
        "subscription { stockChanged { sequence } }",
        '{ countRecord(locationId: "x", month: "2026-01") { month } }',
        "{ ...Q } fragment Q on Query { viewer { kind } }",
        "{ __schema { queryType { name } } }",
        '{ __type(name: "Product") { name } }',
    ],
)
async def test_documents_outside_the_compiled_types_do_not_compile(gql, doc):
    with pytest.raises(NotCompilable):
        compile_plan(gql.schema._schema, doc, None)


def test_a_field_declared_reads_unless_an_argument_is_not_compiled_with_it():
    """``reads_unless``: a document that gives one of the named arguments, by value, by
    variable or as null, is not compiled; without them the field compiles."""

    @strawberry.type
    class Q:
        @strawberry.field(metadata=reads_unless("search"))
        def things(self, first: int | None = None, search: str | None = None) -> int:
            return 1

    schema = strawberry.Schema(query=Q)._schema
    assert compile_plan(schema, "{ things(first: 2) }", None).fields == {("Q", "things")}
    for doc in (
        '{ things(search: "x") }',
        "query($s: String) { things(first: 1, search: $s) }",
        "{ a: things b: things(search: null) }",
    ):
        with pytest.raises(NotCompilable):
            compile_plan(schema, doc, None)


async def test_cyclic_fragments_are_not_compiled(gql):
    doc = """{ product(sku: "A") { ...A } }
             fragment A on Product { sku ...B }
             fragment B on Product { nameZh ...A }"""
    with pytest.raises(NotCompilable):
        compile_plan(gql.schema._schema, doc, None)


async def test_a_learnt_plan_answers_a_foreign_tenant_with_its_own_rows(gql, stocked, other_tenant):
    t = stocked.tenant
    receipt = await gql.ok(
        RECEIVE,
        other_tenant.owner,
        {"input": {"locationId": other_tenant.loc("S2"), "lines": [{"sku": "C", "quantity": 77}]}},
    )
    assert receipt["receiveStock"]["userErrors"] == []
    doc = """{ stockLevels { totalCount edges { node { id onHand location { id code }
               product { id sku } } } }
             products { totalCount edges { node { id sku } } }
             stockMovements { edges { node { id delta product { id } } } } }"""
    reads = CompiledReads(gql.schema)
    mine = await full(gql, doc, t.owner)
    assert mine.errors is None
    reads.learn(doc, None, t.tenant_id)
    # plans are per tenant: one learnt by the first tenant is not used for another
    assert await reads.try_execute(doc, None, None, _ctx(gql.db, other_tenant.owner)) == (
        False,
        None,
    )
    reads.learn(doc, None, other_tenant.tenant_id)
    answered, theirs = await reads.try_execute(doc, None, None, _ctx(gql.db, other_tenant.owner))
    assert answered is True
    levels = theirs["stockLevels"]
    assert levels["totalCount"] == 1
    assert [e["node"] for e in levels["edges"]] == [
        {
            "id": levels["edges"][0]["node"]["id"],
            "onHand": 77,
            "location": {"id": other_tenant.loc("S2"), "code": "S2"},
            "product": {
                "id": other_tenant.gid("Product", other_tenant.products["C"]),
                "sku": "C",
            },
        }
    ]
    assert theirs["products"]["totalCount"] == 3
    assert {e["node"]["id"] for e in theirs["products"]["edges"]} == {
        other_tenant.gid("Product", pk) for pk in other_tenant.products.values()
    }
    assert [e["node"]["delta"] for e in theirs["stockMovements"]["edges"]] == [77]
    mine_ids = {e["node"]["id"] for e in mine.data["stockLevels"]["edges"]}
    assert mine_ids.isdisjoint({e["node"]["id"] for e in levels["edges"]})
    assert theirs == (await full(gql, doc, other_tenant.owner)).data
    # and the first tenant still gets its own rows from the same plan
    answered, again = await reads.try_execute(doc, None, None, _ctx(gql.db, t.owner))
    assert answered and again == mine.data
    assert again["stockLevels"]["totalCount"] == 9


async def test_a_caller_without_stock_read_gets_the_full_paths_forbidden(gql, stocked):
    t = stocked.tenant
    doc = "{ stockLevels { edges { node { onHand } } } }"
    reads = CompiledReads(gql.schema)
    reads.learn(doc, None, t.tenant_id)
    plan = reads.plan_for(doc, None, t.tenant_id)
    assert plan is not None
    no_stock = t.app("transfers:read costs:read")
    with pytest.raises(GiveUp):
        await execute(plan, gql.schema, _ctx(gql.db, no_stock), None)
    assert await reads.try_execute(doc, None, None, _ctx(gql.db, no_stock)) == (False, None)
    assert reads.fallbacks == 1
    result = await full(gql, doc, no_stock)
    assert result.data is None
    assert [(e.path, e.extensions["code"]) for e in result.errors] == [
        (["stockLevels"], "FORBIDDEN")
    ]
    # products and locations need no permission: the plan answers them for anyone
    await same_both_ways(gql, '{ products { totalCount } location(code: "S1") { code } }', no_stock)


async def test_no_caller_gives_up(gql, stocked):
    plan = compile_plan(gql.schema._schema, '{ product(sku: "A") { sku } }', None)
    with pytest.raises(GiveUp):
        await execute(plan, gql.schema, _ctx(gql.db, None), None)


async def test_an_invalid_cursor_gives_up_and_the_full_path_says_invalid(gql, stocked):
    owner = stocked.tenant.owner
    reads = CompiledReads(gql.schema)
    for root in ("stockLevels", "stockMovements", "products", "locations"):
        doc = f"query($after: String) {{ {root}(after: $after) {{ edges {{ cursor }} }} }}"
        await same_both_ways(gql, doc, owner, {"after": None})
        reads.learn(doc, None, owner.tenant_id)
        before = reads.fallbacks
        for bad in ("%%%", "bm90IGpzb24=", "WzEsMiwzXQ==", '"just a string"'):
            answered, data = await reads.try_execute(doc, None, {"after": bad}, _ctx(gql.db, owner))
            assert (answered, data) == (False, None), (root, bad)
        assert reads.fallbacks == before + 4
        result = await full(gql, doc, owner, {"after": "%%%"})
        assert result.data is None and result.errors[0].extensions["code"] == "INVALID"


async def test_first_beyond_the_cap_gives_up(gql, stocked):
    owner = stocked.tenant.owner
    doc = "query($n: Int) { stockLevels(first: $n) { totalCount } }"
    plan = compile_plan(gql.schema._schema, doc, None)
    assert await execute(plan, gql.schema, _ctx(gql.db, owner), {"n": 250}) == {
        "stockLevels": {"totalCount": 9}
    }
    reads = CompiledReads(gql.schema)
    reads.learn(doc, None, owner.tenant_id)
    assert await reads.try_execute(doc, None, {"n": 251}, _ctx(gql.db, owner)) == (False, None)
    result = await full(gql, doc, owner, {"n": 251})
    assert result.errors[0].extensions["code"] == "INVALID"


@pytest.mark.parametrize(
    "variables",
    [
        {"first": "three"},
        {"first": 1.5},
        {"first": 2**40},
        {"skus": [None]},
        {"skus": [{"sku": "A"}]},
        {"loc": None},
        {},
        {"first": 2, "locale": "FR"},
    ],
)
async def test_variables_that_do_not_coerce_give_up(gql, stocked, variables):
    t = stocked.tenant
    doc = """query($first: Int, $skus: [String!], $loc: ID!, $locale: Locale) {
      stockLevels(first: $first, skus: $skus, locationIds: [$loc]) {
        edges { node { onHand product { name(locale: $locale) } } } } }"""
    good = {"first": 2, "skus": ["A"], "loc": t.loc("S1"), "locale": "EN"}
    data = await same_both_ways(gql, doc, t.owner, good)
    assert data == {
        "stockLevels": {"edges": [{"node": {"onHand": 8, "product": {"name": "Product A"}}}]}
    }
    bad = {**good, **variables} if variables else {}
    plan = compile_plan(gql.schema._schema, doc, None)
    with pytest.raises(GiveUp):
        await execute(plan, gql.schema, _ctx(gql.db, t.owner), bad)
    result = await full(gql, doc, t.owner, bad)
    assert result.data is None and result.errors


async def test_a_row_the_full_path_would_fail_on_gives_up(gql, stocked):
    """A stock level whose location is not there (a non-null field would be null)."""
    t = stocked.tenant
    doc = "{ stockLevels { edges { node { onHand location { code } product { sku } } } } }"
    plan = compile_plan(gql.schema._schema, doc, None)
    level_plan = plan.root.fields[0].child.fields[0].child.fields[0].child  # type: ignore[union-attr]
    assert level_plan is not None and level_plan.type_name == "StockLevel"
    level = await gql.ok(
        'query($l: ID!) { stockLevel(locationId: $l, sku: "A") { id } }',
        t.owner,
        {"l": t.loc("S1")},
    )
    assert level["stockLevel"] is not None
    row = _LevelRow(location_id=t.locations["S1"], product_id=t.products["A"])
    ctx = _ctx(gql.db, t.owner)
    run = Run(gql.schema, ctx, {})
    (done,) = await _run_object(level_plan, [StockLevel.from_row(row)], run)
    assert done == {"onHand": 1, "location": {"code": "S1"}, "product": {"sku": "A"}}
    ghost = _LevelRow(location_id=9_000_000_001, product_id=t.products["A"])
    ctx = _ctx(gql.db, t.owner)
    with pytest.raises(GiveUp):
        await _run_object(level_plan, [StockLevel.from_row(ghost)], Run(gql.schema, ctx, {}))
    # a product of another tenant is just as absent
    foreign = _LevelRow(location_id=t.locations["S1"], product_id=t.products["A"] + 10_000_000)
    ctx = _ctx(gql.db, t.owner)
    with pytest.raises(GiveUp):
        await _run_object(level_plan, [StockLevel.from_row(foreign)], Run(gql.schema, ctx, {}))


async def test_a_null_in_a_non_null_leaf_gives_up(gql, stocked):
    t = stocked.tenant
    doc = '{ product(sku: "A") { sku nameZh name(locale: EN) } }'
    plan = compile_plan(gql.schema._schema, doc, None)
    product_plan = plan.root.fields[0].child
    assert product_plan is not None and product_plan.type_name == "Product"
    good = _ProductRow(id=t.products["A"], sku="A", name_zh="產品A", name_en="Product A")
    ctx = _ctx(gql.db, t.owner)
    (done,) = await _run_object(product_plan, [Product.from_row(good)], Run(gql.schema, ctx, {}))
    assert done == {"sku": "A", "nameZh": "產品A", "name": "Product A"}
    for broken in (
        _ProductRow(id=1, sku="A", name_zh=None, name_en="Product A"),  # String! leaf
        _ProductRow(id=1, sku=None, name_zh="產品A", name_en="Product A"),
        _ProductRow(id=1, sku="A", name_zh="產品A", name_en=None),  # a resolver's String!
    ):
        with pytest.raises(GiveUp):
            await _run_object(product_plan, [Product.from_row(broken)], Run(gql.schema, ctx, {}))


@dataclass
class _LevelRow:
    location_id: int
    product_id: int
    id: int = 1
    on_hand: int = 1
    reserved: int = 0
    in_transit: int = 0
    incoming: int = 0
    reorder_point: int | None = None
    version: int = 1
    updated_at: Any = None


@dataclass
class _ProductRow:
    id: int
    sku: Any
    name_zh: Any
    name_en: Any
    barcode: str | None = None
    category: str | None = None
    retail_price: Decimal | None = None
    retail_price_mop: Decimal | None = None
    cost_price: Decimal | None = None


async def test_compiled_q1_runs_one_select_per_table(gql, stocked, count_statements):
    owner = stocked.tenant.owner
    plan = compile_plan(gql.schema._schema, Q1, None)
    count_statements.statements.clear()
    data = await execute(plan, gql.schema, _ctx(gql.db, owner), None)
    assert len(data["stockLevels"]["edges"]) == 2
    (levels,) = count_statements.selects("stock_levels")
    assert "JOIN products" in levels  # the products the selection reads come along
    assert count_statements.selects("products") == []
    assert len(count_statements.selects("locations")) == 1
    begins = [s for s in count_statements.statements if s.lstrip().upper().startswith("BEGIN")]
    assert len(begins) == 1  # every read of a plan: one read transaction
    selects = [s for s in count_statements.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects

    # a bigger page with a total: still one statement per table, plus the count
    doc = """{ stockLevels(first: 50) { totalCount edges { node { onHand
               location { code } product { sku retailPrices { amount } } } } } }"""
    plan = compile_plan(gql.schema._schema, doc, None)
    count_statements.statements.clear()
    data = await execute(plan, gql.schema, _ctx(gql.db, owner), None)
    assert data["stockLevels"]["totalCount"] == 9 and len(data["stockLevels"]["edges"]) == 9
    assert len(count_statements.selects("stock_levels")) == 2  # the page and count(*)
    assert count_statements.selects("products") == []
    assert len(count_statements.selects("locations")) == 1

    # a selection without products reads the levels alone
    doc = "{ stockLevels(first: 50) { edges { node { onHand location { code } } } } }"
    plan = compile_plan(gql.schema._schema, doc, None)
    count_statements.statements.clear()
    await execute(plan, gql.schema, _ctx(gql.db, owner), None)
    (levels,) = count_statements.selects("stock_levels")
    assert "JOIN" not in levels


@pytest.fixture
async def small_db(database_url: str, app_database_url: str) -> AsyncIterator[Database]:
    """The API's pool at its smallest (2 + 2 connections): what many clients at once
    make of a bigger one."""
    small = Database.connect(plain_url(database_url), app_url=app_database_url, pool_size=2)
    yield small
    await small.dispose()


@pytest.mark.parametrize(
    "doc",
    [
        "{ products { totalCount edges { node { sku } } } }",
        '{ location(code: "S1") { code } }',
        "{ stockMovements(first: 5) { edges { node { delta product { sku } } } } }",
        "{ stockLevels(first: 5) { totalCount edges { node { onHand product { sku } } } } }",
    ],
)
async def test_more_concurrent_plans_than_pooled_connections_all_finish(
    gql, stocked, small_db, doc
):
    """A plan never holds one pooled connection while it waits for another, so many plans
    at once on a small pool all finish (none waits on a connection only another holds)."""
    owner = stocked.tenant.owner
    plan = compile_plan(gql.schema._schema, doc, None)
    expected = await execute(plan, gql.schema, _ctx(small_db, owner), None)
    assert expected == (await full(gql, doc, owner)).data

    async def one() -> Any:
        return await execute(plan, gql.schema, _ctx(small_db, owner), None)

    started = time.monotonic()
    results = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(12))), 5)
    assert results == [expected] * 12
    assert time.monotonic() - started < 5


async def test_every_plan_reads_in_one_transaction_sessions_included(
    gql, stocked, count_statements
):
    """Readers and sessions alike (products and stockMovements read through sessions) run
    in the plan's one read-only transaction: one BEGIN, whatever the roots."""
    owner = stocked.tenant.owner
    shared = "{ stockLevels(first: 5) { totalCount edges { node { location { code } } } } }"
    mixed = """{ stockLevels(first: 5) { edges { node { onHand } } }
                 products(first: 5) { totalCount edges { node { sku } } }
                 location(code: "S1") { code } }"""
    movements = "{ stockMovements(first: 5) { totalCount edges { node { product { sku } } } } }"
    for doc in (shared, mixed, movements):
        plan = compile_plan(gql.schema._schema, doc, None)
        count_statements.statements.clear()
        data = await execute(plan, gql.schema, _ctx(gql.db, owner), None)
        begins = [s for s in count_statements.statements if s.lstrip().upper().startswith("BEGIN")]
        assert len(begins) == 1, (doc, begins)
        assert data == (await full(gql, doc, owner)).data


async def test_an_unexpected_failure_is_logged_and_counted_and_the_full_path_answers(
    gql, stocked, caplog
):
    """A database that cannot be reached is no give-up: the plan's failure is logged at
    ERROR and counted as ``failed`` on /metrics, and the request goes to the full path."""
    doc = '{ product(sku: "A") { sku } }'
    reads = CompiledReads(gql.schema)
    plan = reads.learn(doc, None, stocked.tenant.tenant_id)
    assert plan is not None
    unreachable = Database.connect("postgresql://postgres@127.0.0.1:1/none", pool_size=1)
    before = OUTCOMES.labels("failed")._value.get()
    try:
        with caplog.at_level(logging.ERROR, logger="stockgraph.compiled"):
            answered = await reads.run(plan, None, _ctx(unreachable, stocked.tenant.owner))
    finally:
        await unreachable.dispose()
    assert answered == (False, None)
    assert reads.failures == 1 and reads.hits == 0
    assert OUTCOMES.labels("failed")._value.get() == before + 1
    assert [r.levelno for r in caplog.records if r.name == "stockgraph.compiled"] == [logging.ERROR]


CREATE_SUPPLIER = """mutation { createSupplier(input: {code: "HKF", nameZh: "港食品",
  nameEn: "HK Foods"}) { supplier { id } userErrors { code } } }"""


async def test_an_object_of_a_type_that_does_not_compile_gives_up(gql, stocked):
    """nodes(ids:) compiles for every type the selection can be read of; an object of
    another type (a supplier has no declared fields; a member's phone is not declared)
    makes the plan give up, and the full path answers it."""
    owner = stocked.tenant.owner
    created = await gql.ok(CREATE_SUPPLIER, owner)
    assert created["createSupplier"]["userErrors"] == []
    supplier = created["createSupplier"]["supplier"]["id"]
    member = stocked.records["Member"][0]
    product = stocked.ids["Product"][0]
    doc = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Member { name phone } } }"
    plan = compile_plan(gql.schema._schema, doc, None)
    children = plan.root.fields[0].children
    assert children is not None
    assert children["Supplier"] is None and children["Member"] is None
    assert children["Product"] is not None and children["Transfer"] is not None
    for one in (supplier, member):
        with pytest.raises(GiveUp):
            await execute(plan, gql.schema, _ctx(gql.db, owner), {"ids": [product, one]})
    answer = await full(gql, doc, owner, {"ids": [product, supplier, member]})
    assert answer.errors is None
    assert answer.data == {
        "nodes": [
            {"id": product},
            {"id": supplier},
            {"id": member, "name": "陳大文", "phone": PHONE},
        ]
    }
    ids_ = [*stocked.ids["Product"], *stocked.records["Transfer"]]
    data = await same_both_ways(gql, doc, owner, {"ids": ids_})
    assert [n["id"] for n in data["nodes"]] == ids_


async def test_the_transfer_documents_read_the_expected_values(gql, stocked):
    """What the transfer documents answer, pinned (on a plan)."""
    t, r = stocked.tenant, stocked.records
    docs = {name: (doc, v) for name, doc, v in documents(stocked)}
    doc, variables = docs["transfer: by ID with its lines, and one that does not exist"]
    data = await compiled(gql, doc, t.owner, variables)
    moved = data["transfer"]
    assert (moved["status"], moved["note"], moved["createdBy"], moved["requestedBy"]) == (
        "PARTIALLY_RECEIVED",
        "weekend restock",
        "staff:21",
        "staff:21",
    )
    assert (moved["fromLocation"]["code"], moved["toLocation"]["code"]) == ("WH", "S1")
    assert [
        (
            ln["product"]["sku"],
            ln["quantity"],
            ln["shippedQuantity"],
            ln["receivedQuantity"],
            ln["rejectedQuantity"],
            ln["rejectionReason"],
            ln["resolvedQuantity"],
            ln["resolutionReason"],
            ln["missingQuantity"],
        )
        for ln in moved["lines"]
    ] == [("C", 3, 3, 1, 1, "crushed", 1, "THEFT", 0), ("A", 2, 2, 0, 0, None, 0, None, 2)]
    approval = moved["approvalRequest"]
    assert (approval["status"], approval["requiredRank"], approval["nextRank"]) == (
        "APPROVED",
        "REGIONAL_MANAGER",
        None,
    )
    assert [(d["actor"], d["decision"], d["comment"]) for d in approval["decisions"]] == [
        ("staff:22", "APPROVE", "ok")
    ]
    assert approval["transfer"] == {"id": r["Transfer"][0], "status": "PARTIALLY_RECEIVED"}
    assert data["draft"] == {
        "status": "DRAFT",
        "approvalRequest": None,
        "lines": [
            {"quantity": 1, "product": {"sku": "A"}},
            {"quantity": 1, "product": {"sku": "B"}},
        ],
    }
    assert data["none"] is None


async def test_the_stocktake_documents_read_the_expected_values(gql, stocked):
    """What a posted stocktake's costs answer, pinned (on a plan)."""
    t, r = stocked.tenant, stocked.records
    data = await compiled(gql, STOCKTAKE_COSTS, t.owner, {"id": r["Stocktake"][0]})
    assert data["stocktake"] == {
        "status": "POSTED",
        "lines": [
            {
                "variance": -1,
                "product": {"sku": "A"},
                "unitCost": {"amount": "4.0000", "currency": "HKD"},
                "varianceCost": {"amount": "-4.0000", "currency": "HKD"},
            },
            {"variance": 0, "product": {"sku": "D"}, "unitCost": None, "varianceCost": None},
        ],
        "totals": {
            "netVarianceCost": {"amount": "-4.0000", "currency": "HKD"},
            "lossCost": {"amount": "4.0000", "currency": "HKD"},
            "gainCost": {"amount": "0", "currency": "HKD"},
        },
    }


async def test_a_clerk_gets_the_full_paths_forbidden_for_stocktake_costs(gql, stocked):
    """A stocktake's costs need costs:read: a clerk's plan gives up, the full path refuses."""
    reads = gql.schema.compiled_reads
    clerk = stocked.tenant.staff(Role.CLERK, ["S1"])
    before = reads.fallbacks
    result = await gql(STOCKTAKE_COSTS, clerk, {"id": stocked.records["Stocktake"][0]})
    assert reads.fallbacks == before + 1
    assert {tuple(e.path[-2:]) for e in result.errors} == {
        (0, "unitCost"),
        (0, "varianceCost"),
        (1, "unitCost"),
        (1, "varianceCost"),
        ("totals", "netVarianceCost"),
        ("totals", "lossCost"),
        ("totals", "gainCost"),
    }
    assert {e.extensions["code"] for e in result.errors} == {"FORBIDDEN"}


async def test_the_member_documents_read_the_expected_values(gql, stocked):
    """What the member documents answer to a clerk, pinned (on a plan)."""
    t = stocked.tenant
    docs = {name: (doc, v) for name, doc, v in documents(stocked)}
    doc, variables = docs["members: every declared field, purchases, page info"]
    data = await compiled(gql, doc, t.staff(Role.CLERK, ["S1"]), variables)
    members = [e["node"] for e in data["members"]["edges"]]
    assert [(m["name"], m["erasedAt"] is not None) for m in members] == [
        ("陳大文", False),
        ("李小明", False),
        ("", True),  # erased: no name left
    ]
    first = members[0]
    assert first["tags"][:2] == ["gold", "favourite:Snacks"]  # hand-set, then computed
    assert first["homeLocation"]["code"] == "S1"
    assert [(c["channel"], c["granted"]) for c in first["consents"]] == [
        ("SMS", True),
        ("EMAIL", True),
        ("CHAT", False),
    ]
    assert [c["staffId"] for c in first["consentHistory"]] == [
        t.gid("Staff", 999),
        t.gid("Staff", 23),
    ]
    (sale,) = [e["node"] for e in first["purchases"]["edges"]]
    assert (sale["receiptNumber"], sale["total"], sale["location"]["code"]) == (
        "R-M1",
        {"amount": "8.80", "currency": "HKD"},
        "S2",
    )
    assert sale["lines"] == [
        {
            "__typename": "SaleLine",
            "quantity": 1,
            "unitPrice": "8.80",
            "product": {"sku": "D", "nameZh": "產品D"},
        }
    ]
    assert members[1]["homeLocation"] is None and members[1]["purchases"]["totalCount"] == 0


# (scopes the caller lacks one of, the document, the record type of its $id, the root)
FORBIDDEN_CASES = [
    (
        "stock:read members:read",
        "{ transfers { totalCount edges { node { id } } } }",
        None,
        "transfers",
    ),
    (
        "stock:read members:read",
        "query($id: ID!) { transfer(id: $id) { status } }",
        "Transfer",
        "transfer",
    ),
    (
        "transfers:read members:read",
        "{ stocktakes { edges { node { status } } } }",
        None,
        "stocktakes",
    ),
    (
        "transfers:read members:read",
        "query($id: ID!) { stocktake(id: $id) { status } }",
        "Stocktake",
        "stocktake",
    ),
    (
        "stock:read transfers:read",
        "{ members { totalCount edges { node { name } } } }",
        None,
        "members",
    ),
    (
        "stock:read transfers:read",
        "query($id: ID!) { member(id: $id) { name tags } }",
        "Member",
        "member",
    ),
]


@pytest.mark.parametrize(("scopes", "doc", "kind", "root"), FORBIDDEN_CASES)
async def test_without_the_permission_the_full_path_answers_forbidden(
    gql, stocked, scopes, doc, kind, root
):
    """Through the executor with its compiled reads: the plan is tried, gives up on the
    permission, and the full path answers with its FORBIDDEN error; the owner's answer
    comes from the plan."""
    reads = gql.schema.compiled_reads
    caller = stocked.tenant.app(scopes)
    variables = {"id": stocked.records[kind][0]} if kind is not None else None
    plan = compile_plan(gql.schema._schema, doc, None)
    with pytest.raises(GiveUp):
        await execute(plan, gql.schema, _ctx(gql.db, caller), variables)
    before = reads.fallbacks
    result = await gql(doc, caller, variables)
    assert reads.fallbacks == before + 1  # tried, and given back
    assert [(e.path, e.extensions["code"]) for e in result.errors] == [([root], "FORBIDDEN")]
    assert result.data == (None if kind is None else {root: None})
    hits = reads.hits
    await gql.ok(doc, stocked.tenant.owner, variables)
    assert reads.hits == hits + 1


async def test_personal_data_and_member_searches_stay_on_the_full_path(gql, stocked, db):
    """phone, email and birthday write an audit event when read with members:pii, and a
    search is rate-limited (and audited by phone): none is compiled. Without members:pii
    the full path answers a phone search and exportMember with FORBIDDEN."""
    t, r = stocked.tenant, stocked.records
    reads = gql.schema.compiled_reads
    no_pii = t.app("members:read")
    member = r["Member"][0]
    for doc, variables in (
        ('{ members(search: "+85291235678") { totalCount } }', None),
        ("query($s: String) { members(search: $s) { edges { node { id } } } }", {"s": PHONE}),
        ("query($id: ID!) { exportMember(id: $id) }", {"id": member}),
    ):
        with pytest.raises(NotCompilable):
            compile_plan(gql.schema._schema, doc, None)
        counts = (reads.hits, reads.fallbacks)
        result = await gql(doc, no_pii, variables)
        assert (reads.hits, reads.fallbacks) == counts  # no plan was tried
        assert [e.extensions["code"] for e in result.errors] == ["FORBIDDEN"], doc
        assert (no_pii.tenant_id, doc, None) in reads.refused

    async def pii_reads() -> int:
        async with db.owner_transaction() as session:
            found = await session.execute(
                text(
                    "SELECT count(*) FROM audit_events WHERE tenant_id = :t "
                    "AND action = 'member.pii_read'"
                ),
                {"t": t.tenant_id},
            )
            return int(found.scalar_one())

    doc = "query($id: ID!) { member(id: $id) { name phone email birthday } }"
    before = await pii_reads()
    masked = await gql.ok(doc, no_pii, {"id": member})
    assert masked["member"]["phone"] == "****5678" and await pii_reads() == before
    clear = await gql.ok(doc, t.owner, {"id": member})
    assert clear["member"]["phone"] == PHONE and await pii_reads() == before + 1
    # a search by name is throttled per caller, not per path: the full path takes it once
    searched = await gql.ok('{ members(search: "陳") { totalCount } }', no_pii)
    assert searched["members"]["totalCount"] == 1


async def _foreign(gql: Any, other: TenantFixture, kind: str) -> str:
    """A record of ``kind`` in another tenant."""
    if kind == "Transfer":
        made = await transfer_ok(
            gql,
            other.owner,
            "createTransfer",
            fromLocationId=other.loc("S1"),
            toLocationId=other.loc("S2"),
            lines=transfer_lines(A=1),
            submit=False,
        )
        return str(made["id"])
    if kind == "Member":
        return str((await _create_member(gql, other, name="外人"))["id"])
    raise AssertionError(kind)


NODE_SELECTIONS = {
    "Transfer": "... on Transfer { status reference lines { quantity product { sku } } }",
    "Member": "... on Member { name tags homeLocation { code } }",
}


@pytest.mark.parametrize("kind", list(NODE_SELECTIONS))
async def test_another_tenants_record_through_node_on_a_learnt_plan_is_null(
    gql, stocked, other_tenant, kind
):
    """A plan learnt by one tenant answers another tenant's ID with null, as the full path
    does; learnt by the other tenant, the same document answers that tenant's record."""
    t = stocked.tenant
    theirs = await _foreign(gql, other_tenant, kind)
    mine = stocked.records[kind][0]
    selection = NODE_SELECTIONS[kind]
    doc = f"""query($id: ID!, $ids: [ID!]!) {{ node(id: $id) {{ id {selection} }}
      nodes(ids: $ids) {{ __typename id {selection} }} }}"""
    variables = {"id": theirs, "ids": [theirs, mine]}
    reads = CompiledReads(gql.schema)
    assert reads.learn(doc, None, t.tenant_id) is not None
    answered, data = await reads.try_execute(doc, None, variables, _ctx(gql.db, t.owner))
    assert answered is True
    assert data["node"] is None
    assert [n and n["id"] for n in data["nodes"]] == [None, mine]
    assert data == (await full_path_only(gql, doc, t.owner, variables)).data
    reads.learn(doc, None, other_tenant.tenant_id)
    answered, data = await reads.try_execute(doc, None, variables, _ctx(gql.db, other_tenant.owner))
    assert answered is True
    assert data["node"]["id"] == theirs
    assert [n and n["id"] for n in data["nodes"]] == [theirs, None]
    assert data == (await full_path_only(gql, doc, other_tenant.owner, variables)).data


async def test_nodes_mixing_a_transfer_and_a_member_compile_and_match(
    gql, stocked, count_statements
):
    """One plan for both types, in one read transaction, and the same answer as the full path."""
    t, r = stocked.tenant, stocked.records
    doc = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
        ... on Transfer { status reference fromLocation { code } lines { quantity
          product { sku } } approvalRequest { status } }
        ... on Member { name tier tags homeLocation { code } consents { channel granted } } }
      transfers(first: 5) { totalCount edges { node { id } } }
      members(first: 5) { totalCount edges { node { id } } } }"""
    plan = compile_plan(gql.schema._schema, doc, None)
    children = plan.root.fields[0].children
    assert children is not None
    assert children["Transfer"] is not None and children["Member"] is not None
    variables = {"ids": [r["Transfer"][0], r["Member"][0], r["Transfer"][2], r["Member"][1]]}
    for caller in (t.owner, t.staff(Role.CLERK, ["S1"])):
        data = await same_both_ways(gql, doc, caller, variables)
    assert [n["__typename"] for n in data["nodes"]] == ["Transfer", "Member", "Transfer", "Member"]
    assert data["nodes"][0]["lines"] == [
        {"quantity": 3, "product": {"sku": "C"}},
        {"quantity": 2, "product": {"sku": "A"}},
    ]
    assert data["nodes"][1]["name"] == "陳大文" and data["nodes"][3]["homeLocation"] is None
    count_statements.statements.clear()
    await execute(plan, gql.schema, _ctx(gql.db, t.owner), variables)
    begins = [s for s in count_statements.statements if s.lstrip().upper().startswith("BEGIN")]
    assert len(begins) == 1 and begins[0].startswith("BEGIN READ ONLY"), begins


async def test_the_full_path_reads_the_products_with_the_levels_too(gql, stocked, count_statements):
    """strawberry's own executor: the levels list sees ``product`` below it, through a
    named fragment and an inline one, and reads the products in its own statement."""
    owner = stocked.tenant.owner
    doc = """{ stockLevels(first: 50) { edges { node { ...L } } } }
             fragment L on StockLevel { onHand ... on StockLevel { product { sku } } }"""
    count_statements.statements.clear()
    result = await full_path_only(gql, doc, owner)
    assert result.errors is None
    skus = sorted(e["node"]["product"]["sku"] for e in result.data["stockLevels"]["edges"])
    assert len(skus) == 9 and set(skus) == {"A", "B", "C", "D"}
    (levels,) = count_statements.selects("stock_levels")
    assert "JOIN products" in levels
    assert count_statements.selects("products") == []
    assert result.data == await compiled(gql, doc, owner)

    # no product below: the levels alone, on this path too
    count_statements.statements.clear()
    alone = await full_path_only(
        gql, "{ stockLevels(first: 5) { edges { node { onHand } } } }", owner
    )
    assert alone.errors is None and len(alone.data["stockLevels"]["edges"]) == 5
    (levels,) = count_statements.selects("stock_levels")
    assert "JOIN" not in levels
