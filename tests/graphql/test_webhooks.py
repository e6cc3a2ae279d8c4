"""Webhook subscriptions through the schema: lifecycle, permissions, isolation, the outbox."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from auth.permissions import Role
from domain import vault
from tests.graphql.test_stock_concurrency import ADJUST, RECEIVE
from tests.helpers import count_rows
from tests.webhooks_support import (
    CREATE,
    DELETE,
    DELIVERIES,
    REDELIVER,
    execute_with_settings,
    fan_out,
    rows,
    subscribe,
)

URL = "https://hooks.example.com/stock?channel=erp"
LIST = "{ webhookSubscriptions(first: 50) { totalCount edges { node { id url active } } } }"
NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on WebhookEndpoint { url eventTypes deliveries(first: 5) { edges { node { id } } } }
  ... on WebhookDelivery { webhookId attemptLog { statusCode } } } }"""


@pytest.fixture(autouse=True)
async def _retire_endpoints(db):
    """Nothing here sends; leave no active endpoint behind for a later dispatcher."""
    yield
    async with db.owner_transaction() as session:
        await session.execute(text("UPDATE webhook_endpoints SET active = false WHERE active"))


async def create(gql, caller, **fields):
    variables = {"input": {"url": URL, "eventTypes": ["STOCK_CHANGED"], **fields}}
    return (await gql.ok(CREATE, caller, variables))["createWebhookSubscription"]


async def receive(gql, tenant, loc="S1", sku="A", qty=5):
    lines = [{"sku": sku, "quantity": qty}]
    data = await gql.ok(
        RECEIVE, tenant.owner, {"input": {"locationId": tenant.loc(loc), "lines": lines}}
    )
    assert data["receiveStock"]["userErrors"] == []


async def deliveries(db, tenant_id):
    return await rows(
        db,
        "SELECT id, event_sequence, event_type, order_key, status FROM webhook_deliveries "
        "WHERE tenant_id = :t ORDER BY event_sequence",
        t=tenant_id,
    )


async def test_create_list_node_delete(gql, tenant):
    app = tenant.app("stock:read", client_id="erp")
    payload = await create(
        gql,
        app,
        eventTypes=["STOCK_CHANGED", "STOCK_LOW", "STOCK_CHANGED"],
        locationIds=[tenant.loc("S1")],
        skus=["A", "B"],
        description="ERP sync",
    )
    assert payload["userErrors"] == []
    assert payload["secret"].startswith("whsec_") and len(payload["secret"]) == 6 + 32
    sub = payload["webhookSubscription"]
    assert sub["url"] == URL and sub["active"] is True and sub["description"] == "ERP sync"
    assert sub["eventTypes"] == ["STOCK_CHANGED", "STOCK_LOW"]
    assert sub["locationIds"] == [tenant.loc("S1")] and sub["skus"] == ["A", "B"]

    listed = await gql.ok(LIST, app)
    assert listed["webhookSubscriptions"]["totalCount"] == 1
    assert [e["node"]["id"] for e in listed["webhookSubscriptions"]["edges"]] == [sub["id"]]
    node = (await gql.ok(NODE, app, {"id": sub["id"]}))["node"]
    assert node["__typename"] == "WebhookEndpoint" and node["url"] == URL

    # The audit trail has the subscription, never its secret.
    audit = await rows(
        tenant.db,
        "SELECT action, target_id, after FROM audit_events WHERE tenant_id = :t "
        "AND action = 'webhook.create'",
        t=tenant.tenant_id,
    )
    assert [(a.action, a.target_id) for a in audit] == [("webhook.create", sub["id"])]
    assert payload["secret"] not in json.dumps(audit[0].after)
    stored = await rows(
        tenant.db, "SELECT secret FROM webhook_endpoints WHERE tenant_id = :t", t=tenant.tenant_id
    )
    assert stored[0].secret.startswith("sealed:v1:")  # sealed at rest: domain.vault
    opened = vault.unseal(
        tenant.db.data_key,
        stored[0].secret,
        tenant_id=tenant.tenant_id,
        table="webhook_endpoints",
        column="secret",
    )
    assert opened == payload["secret"]

    deleted = (await gql.ok(DELETE, app, {"id": sub["id"]}))["deleteWebhookSubscription"]
    assert deleted == {"webhookSubscription": {"id": sub["id"], "active": False}, "userErrors": []}
    assert (await gql.ok(LIST, app))["webhookSubscriptions"]["edges"] == []
    again = (await gql.ok(DELETE, app, {"id": sub["id"]}))["deleteWebhookSubscription"]
    assert again["userErrors"] == []  # deleting twice is harmless


async def test_owner_isolation_and_admin(gql, tenant, other_tenant):
    erp = tenant.app("stock:read", client_id="erp")
    pos = tenant.app("stock:read", client_id="pos")
    admin = tenant.owner
    clerk = tenant.staff(Role.CLERK, ["S1"], staff_id=7)
    mine = (await create(gql, erp))["webhookSubscription"]["id"]
    theirs = (await create(gql, pos))["webhookSubscription"]["id"]
    foreign = (await create(gql, other_tenant.owner))["webhookSubscription"]["id"]

    def ids(data):
        return {e["node"]["id"] for e in data["webhookSubscriptions"]["edges"]}

    assert ids(await gql.ok(LIST, erp)) == {mine}
    assert ids(await gql.ok(LIST, pos)) == {theirs}
    assert ids(await gql.ok(LIST, clerk)) == set()
    assert ids(await gql.ok(LIST, admin)) == {mine, theirs}  # admin: the whole tenant, no more

    for caller, gid in ((pos, mine), (clerk, mine), (erp, foreign), (admin, foreign)):
        assert (await gql.ok(NODE, caller, {"id": gid}))["node"] is None
        payload = (await gql.ok(DELETE, caller, {"id": gid}))["deleteWebhookSubscription"]
        assert payload["userErrors"] == [
            {
                "code": "NOT_FOUND",
                "field": ["id"],
                "message": "no webhook subscription with this ID",
            }
        ]
        log = await gql(DELIVERIES, caller, {"id": gid})
        assert log.data is None
        assert log.errors[0].extensions["code"] == "NOT_FOUND"
    assert (await gql.ok(NODE, admin, {"id": mine}))["node"]["__typename"] == "WebhookEndpoint"
    deleted = (await gql.ok(DELETE, admin, {"id": theirs}))["deleteWebhookSubscription"]
    assert deleted["userErrors"] == [] and deleted["webhookSubscription"]["active"] is False
    # Malformed and wrong-type IDs are the caller's mistake, and said to be.
    for gid in ("nope", tenant.loc("S1")):
        payload = (await gql.ok(DELETE, erp, {"id": gid}))["deleteWebhookSubscription"]
        assert payload["userErrors"][0]["code"] == "INVALID"
        assert payload["userErrors"][0]["field"] == ["id"]


async def test_subscribing_to_stock_events_needs_stock_read(gql, tenant):
    payload = await create(gql, tenant.app("members:read", client_id="crm"))
    assert payload["webhookSubscription"] is None and payload["secret"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("FORBIDDEN", ["eventTypes"])
    ]
    assert await count_rows(tenant.db, "webhook_endpoints", tenant.tenant_id) == 0
    denied = await rows(
        tenant.db,
        "SELECT outcome FROM audit_events WHERE tenant_id = :t AND action = 'webhook.create'",
        t=tenant.tenant_id,
    )
    assert [d.outcome for d in denied] == ["denied"]
    ok = await create(gql, tenant.staff(Role.AUDITOR, staff_id=5))
    assert ok["userErrors"] == []


@pytest.mark.parametrize(
    ("url", "settings", "ok"),
    [
        ("https://hooks.example.com/x", {}, True),
        ("http://hooks.example.com/x", {"env": "development"}, True),
        ("http://127.0.0.1:8080/x", {"env": "development"}, True),
        ("http://hooks.example.com/x", {"env": "production"}, False),
        ("http://hooks.example.com/x", {"env": "production", "webhook_allow_http": True}, True),
        ("https://hooks.example.com/x", {"env": "development", "webhook_allow_http": False}, True),
        ("http://hooks.example.com/x", {"env": "development", "webhook_allow_http": False}, False),
        ("http://hooks.example.com/x", None, False),  # no settings in sight: https only
        ("https://user:secret@hooks.example.com/x", {"env": "development"}, False),
        ("https://token@hooks.example.com/x", {"env": "development"}, False),
        ("https://127.0.0.1/x", {"env": "production"}, False),
        ("https://10.1.2.3/x", {"env": "production"}, False),
        ("https://localhost/x", {"env": "production"}, False),
        ("ftp://hooks.example.com/x", {"env": "development"}, False),
        ("hooks.example.com/x", {"env": "development"}, False),
        ("https:///x", {"env": "development"}, False),
        ("https://hooks.example.com:99999/x", {"env": "development"}, False),
        ("https://hooks.example.com/x y", {"env": "development"}, False),
        ("https://hooks.example.com/" + "x" * 2000, {"env": "development"}, False),
    ],
)
async def test_url_rules(gql, tenant, url, settings, ok):
    variables = {"input": {"url": url, "eventTypes": ["STOCK_LOW"]}}
    if settings is None:
        result = await gql(CREATE, tenant.owner, variables)
    else:
        result = await execute_with_settings(gql, CREATE, tenant.owner, variables, **settings)
    payload = result.data["createWebhookSubscription"]
    if ok:
        assert payload["userErrors"] == [] and payload["webhookSubscription"]["url"] == url
    else:
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["url"])]


async def test_refused_create_keeps_credentials_out_of_the_audit_trail(gql, tenant):
    url = "https://partner:hunter2@hooks.example.com/x"
    payload = await create(gql, tenant.owner, url=url)
    assert payload["userErrors"][0]["code"] == "INVALID"
    audit = await rows(
        tenant.db,
        "SELECT after FROM audit_events WHERE tenant_id = :t AND action = 'webhook.create'",
        t=tenant.tenant_id,
    )
    assert len(audit) == 1 and "hunter2" not in json.dumps(audit[0].after)
    assert audit[0].after["input"]["url"] == "https://hooks.example.com/x"


async def test_filter_validation(gql, tenant, other_tenant):
    cases = [
        ({"eventTypes": []}, ("INVALID", ["eventTypes"])),
        (
            {"locationIds": [tenant.loc("S1"), other_tenant.loc("S1")]},
            ("NOT_FOUND", ["locationIds", "1"]),
        ),
        ({"locationIds": ["garbage"]}, ("INVALID", ["locationIds", "0"])),
        ({"locationIds": []}, ("INVALID", ["locationIds"])),
        ({"skus": ["A", "NOPE"]}, ("NOT_FOUND", ["skus", "1"])),
        ({"skus": []}, ("INVALID", ["skus"])),
        ({"description": "x" * 501}, ("INVALID", ["description"])),
    ]
    for fields, expected in cases:
        payload = await create(gql, tenant.owner, **fields)
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [expected], fields
    assert await count_rows(tenant.db, "webhook_endpoints", tenant.tenant_id) == 0


async def test_a_rolled_back_mutation_produces_no_event_and_no_delivery(gql, tenant):
    await receive(gql, tenant, qty=2)  # before the subscription: never delivered
    await subscribe(gql, tenant.owner, url=URL, eventTypes=["STOCK_CHANGED", "STOCK_LOW"])
    events_before = await count_rows(tenant.db, "events", tenant.tenant_id)
    refused = {"locationId": tenant.loc("S1"), "sku": "A", "delta": -100, "reason": "THEFT"}
    errors = (await gql.ok(ADJUST, tenant.owner, {"input": refused}))["adjustStock"]["userErrors"]
    assert [e["code"] for e in errors] == ["INSUFFICIENT_STOCK"]
    await fan_out(tenant.db)
    assert await count_rows(tenant.db, "events", tenant.tenant_id) == events_before
    assert await deliveries(tenant.db, tenant.tenant_id) == []
    # The same path does deliver a change that commits.
    accepted = {**refused, "delta": -1}
    assert (await gql.ok(ADJUST, tenant.owner, {"input": accepted}))["adjustStock"][
        "userErrors"
    ] == []
    await fan_out(tenant.db)
    found = await deliveries(tenant.db, tenant.tenant_id)
    assert [(d.event_type, d.status) for d in found] == [("stock.changed", "PENDING")]
    assert found[0].order_key == f"{tenant.locations['S1']}:{tenant.products['A']}"


async def test_filters_pick_the_events(gql, tenant):
    only_s1_a = await subscribe(
        gql,
        tenant.owner,
        url=URL,
        eventTypes=["STOCK_CHANGED"],
        locationIds=[tenant.loc("S1")],
        skus=["A"],
    )
    only_low = await subscribe(gql, tenant.owner, url=URL, eventTypes=["STOCK_LOW"])
    for loc, sku in (("S1", "A"), ("S1", "B"), ("S2", "A"), ("S1", "A")):
        await receive(gql, tenant, loc, sku, 1)
    await fan_out(tenant.db)
    found = await rows(
        tenant.db,
        "SELECT endpoint_id, order_key FROM webhook_deliveries WHERE tenant_id = :t",
        t=tenant.tenant_id,
    )
    key = f"{tenant.locations['S1']}:{tenant.products['A']}"
    assert sorted(d.order_key for d in found) == [key, key]
    first_id = only_s1_a["webhookSubscription"]["id"]
    log = await gql.ok(DELIVERIES, tenant.owner, {"id": first_id})
    assert log["webhookDeliveries"]["totalCount"] == 2
    low = await gql.ok(DELIVERIES, tenant.owner, {"id": only_low["webhookSubscription"]["id"]})
    assert low["webhookDeliveries"]["edges"] == []


async def test_delivery_log_paging_node_and_redelivery(gql, tenant, other_tenant):
    erp = tenant.app("stock:read", client_id="erp")
    sub = await subscribe(gql, erp, url=URL, eventTypes=["STOCK_CHANGED"])
    endpoint = sub["webhookSubscription"]["id"]
    for qty in (1, 2, 3):
        await receive(gql, tenant, qty=qty)
    await fan_out(tenant.db)
    first = await gql.ok(DELIVERIES, erp, {"id": endpoint, "first": 2})
    page = first["webhookDeliveries"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"] is True
    sequences = [int(e["node"]["eventSequence"]) for e in page["edges"]]
    assert sequences == sorted(sequences, reverse=True)  # newest first
    rest = await gql.ok(
        DELIVERIES, erp, {"id": endpoint, "first": 2, "after": page["pageInfo"]["endCursor"]}
    )
    tail = rest["webhookDeliveries"]
    assert len(tail["edges"]) == 1 and tail["pageInfo"]["hasNextPage"] is False
    assert int(tail["edges"][0]["node"]["eventSequence"]) < sequences[-1]
    delivery = page["edges"][0]["node"]
    assert (
        delivery["status"] == "PENDING"
        and delivery["attempts"] == 0
        and delivery["attemptLog"] == []
    )

    # Settle it as a dispatcher would have, then redeliver: same webhook id, due again.
    await rows(
        tenant.db,
        "UPDATE webhook_deliveries SET status = 'DEAD', attempts = 12, last_status_code = 500 "
        "WHERE tenant_id = :t AND event_sequence = :s RETURNING id",
        t=tenant.tenant_id,
        s=int(delivery["eventSequence"]),
    )
    dead = await gql.ok(DELIVERIES, erp, {"id": endpoint, "status": "DEAD"})
    assert [e["node"]["id"] for e in dead["webhookDeliveries"]["edges"]] == [delivery["id"]]
    assert (await gql.ok(NODE, erp, {"id": delivery["id"]}))["node"]["webhookId"] == delivery[
        "webhookId"
    ]
    for stranger in (tenant.app("stock:read", client_id="pos"), other_tenant.owner):
        assert (await gql.ok(NODE, stranger, {"id": delivery["id"]}))["node"] is None
        refused = (await gql.ok(REDELIVER, stranger, {"id": delivery["id"]}))["redeliverWebhook"]
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
            ("NOT_FOUND", ["deliveryId"])
        ]
    redone = (await gql.ok(REDELIVER, erp, {"id": delivery["id"]}))["redeliverWebhook"]
    assert redone["userErrors"] == []
    assert redone["delivery"]["webhookId"] == delivery["webhookId"]
    assert (redone["delivery"]["status"], redone["delivery"]["attempts"]) == ("PENDING", 0)
    assert redone["delivery"]["nextAttemptAt"] is not None
    audit = await rows(
        tenant.db,
        "SELECT target_id FROM audit_events WHERE tenant_id = :t AND action = 'webhook.redeliver' "
        "AND outcome = 'success'",
        t=tenant.tenant_id,
    )
    assert [a.target_id for a in audit] == [delivery["id"]]

    # A deleted subscription keeps its log but sends nothing more.
    await gql.ok(DELETE, erp, {"id": endpoint})
    gone = (await gql.ok(REDELIVER, erp, {"id": delivery["id"]}))["redeliverWebhook"]
    assert [e["code"] for e in gone["userErrors"]] == ["INVALID"]
    assert (await gql.ok(DELIVERIES, erp, {"id": endpoint}))["webhookDeliveries"]["totalCount"] == 3
    await receive(gql, tenant, qty=4)
    await fan_out(tenant.db)
    assert len(await deliveries(tenant.db, tenant.tenant_id)) == 3


async def test_bad_arguments_are_coded_errors(gql, tenant):
    sub = await subscribe(gql, tenant.owner, url=URL, eventTypes=["STOCK_CHANGED"])
    endpoint = sub["webhookSubscription"]["id"]
    result = await gql(DELIVERIES, tenant.owner, {"id": endpoint, "first": 1000})
    assert result.errors[0].extensions["code"] == "INVALID"
    result = await gql(DELIVERIES, tenant.owner, {"id": endpoint, "after": "%%%"})
    assert result.errors[0].extensions["code"] == "INVALID"
    nested = """query($id: ID!) { node(id: $id) {
      ... on WebhookEndpoint { deliveries(first: -1) { totalCount } } } }"""
    result = await gql(nested, tenant.owner, {"id": endpoint})
    assert result.errors[0].extensions["code"] == "INVALID"
