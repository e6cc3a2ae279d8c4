"""Permissions are declared once, where they apply, and every path reads that declaration.

- a root field declares its permission; a node type declares who may see it, and the
  fields that reach a node type declare at least as much;
- node(id:) and nodes read the type's declaration;
- subscriptions read the field's, at subscribe time and again for every event;
- an event rendered for subscribers presents its errors by the request policy.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, parse

from api.graphql import build_schema
from api.policy import policy
from auth.caller import Caller
from auth.fields import permissions_of, requires, type_permissions
from auth.permissions import Permission
from domain.stock.ledger import STOCK_CHANGED, STOCK_LOW
from resolvers import node as node_r
from subscriptions import stock as live
from subscriptions.broker import LiveEvent, Subscriber
from subscriptions.render import Selection

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
LEVEL = """query($loc: ID!) { stockLevel(locationId: $loc, sku: "A") { id onHand } }"""
RECEIVE = """mutation($input: ReceiveStockInput!) {
  receiveStock(input: $input) { userErrors { code } } }"""


def _named(output: Any) -> Any:
    while isinstance(output, GraphQLNonNull | GraphQLList):
        output = output.of_type
    return output


def test_requires_is_read_back_from_the_field() -> None:
    query = build_schema()._schema.query_type
    assert query is not None
    assert permissions_of(query.fields["stockLevels"]) == (Permission.STOCK_READ,)
    assert permissions_of(query.fields["exportMember"]) == (
        Permission.MEMBERS_READ,
        Permission.MEMBERS_PII,
    )
    assert permissions_of(query.fields["locations"]) == ()
    assert requires(Permission.STOCK_READ) is requires(Permission.STOCK_READ)


def test_every_field_that_reaches_a_node_type_declares_what_the_type_does() -> None:
    """A root field or connection of a node type never asks for less than node(id:) would."""
    graphql_schema = build_schema()._schema
    declared = {name: type_permissions(kind) for name, (_, kind) in node_r.KINDS.items()}
    assert declared["AuditEvent"] == (Permission.AUDIT_READ,)
    assert declared["Location"] == ()
    checked = 0
    for root in (graphql_schema.query_type, graphql_schema.subscription_type):
        assert root is not None
        for name, field in root.fields.items():
            target = _named(field.type)
            if not isinstance(target, GraphQLObjectType):
                continue
            type_name = target.name.removesuffix("Connection")
            if type_name not in declared:
                continue
            checked += 1
            missing = set(declared[type_name]) - set(permissions_of(field))
            assert not missing, f"{root.name}.{name} reaches {type_name} without {missing}"
    assert checked >= 15


def test_every_subscription_field_declares_a_permission_and_what_it_streams() -> None:
    subscription = build_schema()._schema.subscription_type
    assert subscription is not None
    for name, field in subscription.fields.items():
        assert permissions_of(field), name
        assert live.live_field(field) is not None, name
    assert live.live_field(subscription.fields["lowStock"]) == live.LiveField(
        STOCK_LOW, live.low_stock_root
    )


async def test_node_reads_the_permission_the_type_declares(gql, tenant) -> None:
    await gql.ok(
        RECEIVE,
        tenant.owner,
        {"input": {"locationId": tenant.loc("S1"), "lines": [{"sku": "A", "quantity": 5}]}},
    )
    level_id = (await gql.ok(LEVEL, tenant.owner, {"loc": tenant.loc("S1")}))["stockLevel"]["id"]
    location_id = tenant.loc("S1")
    members_only = Caller.for_app(
        tenant.tenant_id, "members-app", frozenset({Permission.MEMBERS_READ}), None
    )
    stock = Caller.for_app(tenant.tenant_id, "stock-app", frozenset({Permission.STOCK_READ}), None)

    assert await gql.ok(NODE, members_only, {"id": level_id}) == {"node": None}
    denied = await gql.ok(NODES, members_only, {"ids": [level_id, location_id]})
    assert denied["nodes"][0] is None
    assert denied["nodes"][1] == {"__typename": "Location", "id": location_id}

    allowed = await gql.ok(NODE, stock, {"id": level_id})
    assert allowed == {"node": {"__typename": "StockLevel", "id": level_id}}
    both = await gql.ok(NODES, stock, {"ids": [level_id, location_id]})
    assert [n["__typename"] for n in both["nodes"]] == ["StockLevel", "Location"]


def test_the_broker_checks_the_declared_permission_for_every_event() -> None:
    declared = permissions_of(build_schema()._schema.subscription_type.fields["stockChanged"])  # type: ignore[union-attr]
    event = LiveEvent(1, 1, STOCK_CHANGED, {}, 1, 1)

    def subscriber(*permissions: Permission) -> Subscriber:
        caller = Caller.for_app(1, "c", frozenset(permissions), None)
        return Subscriber(
            caller, STOCK_CHANGED, None, None, asyncio.Queue(3), lambda: None, permissions=declared
        )

    without = subscriber(Permission.MEMBERS_READ)
    without.offer(event)
    assert without.queue.qsize() == 0
    with_it = subscriber(Permission.STOCK_READ)
    with_it.offer(event)
    assert with_it.queue.qsize() == 1


class _Broken:
    """A root whose sequence cannot be read: an error no client caused."""

    @property
    def sequence(self) -> int:
        raise RuntimeError("connection to the ledger lost: host db-7:5432")


async def _rendered(db: Any, production: bool) -> str:
    schema = build_schema(production=production, introspection=not production)
    query = "subscription { stockChanged { sequence } }"
    caller = Caller.for_app(1, "c", frozenset({Permission.STOCK_READ}), None)
    selection = Selection(
        schema._schema,
        parse(query),
        query,
        None,
        None,
        caller,
        db,
        lambda event: _Broken(),
        policy(production, not production).formatted,
    )
    (frame,) = await selection.render([LiveEvent(1, 7, STOCK_CHANGED, {}, 1, 1)])
    return frame


async def test_an_event_rendered_in_production_masks_unexpected_errors(db) -> None:
    frame = await _rendered(db, production=True)
    assert "Unexpected error." in frame
    assert "db-7" not in frame
    assert "db-7" in await _rendered(db, production=False)
