"""Webhook delivery over real HTTP: retries, signatures, stable ids, order, redelivery."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import defaultdict

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from domain.webhooks import dispatch
from domain.webhooks.payload import webhook_id
from outbox.webhooks import WebhookDispatcher
from tests.api.conftest import app_token, new_client, start_server, stop_server
from tests.api.webhook_receiver import Receiver, RunningReceiver
from tests.graphql.test_stock_concurrency import ADJUST, RECEIVE, SALE
from tests.webhooks_support import (
    DELIVERIES,
    REDELIVER,
    deactivate,
    rows,
    subscribe,
    wait_for,
)


def dispatcher(db, **kw) -> WebhookDispatcher:
    options = {"backoff_base": 0.05, "max_attempts": 6, "timeout": 5.0, "poll_interval": 0.02}
    return WebhookDispatcher(db, **{**options, **kw})


async def event_ids(db, tenant_id: int) -> dict[str, int]:
    found = await rows(db, "SELECT sequence FROM events WHERE tenant_id = :t", t=tenant_id)
    return {webhook_id(tenant_id, r.sequence): r.sequence for r in found}


async def all_settled(db, tenant_id: int, count: int, status: str = "SUCCEEDED") -> bool:
    found = await rows(
        db,
        "SELECT status FROM webhook_deliveries WHERE tenant_id = :t",
        t=tenant_id,
    )
    return len(found) == count and all(r.status == status for r in found)


async def make_changes(gql, tenant) -> None:
    """Seven events on three (location, SKU) keys, one refused change, one low-stock crossing."""
    owner = tenant.owner
    s1, s2 = tenant.loc("S1"), tenant.loc("S2")
    lines = [{"sku": "A", "quantity": 10}, {"sku": "B", "quantity": 10}]
    await gql.ok(RECEIVE, owner, {"input": {"locationId": s1, "lines": lines}})
    await rows(
        tenant.db,
        "UPDATE stock_levels SET reorder_point = 8 WHERE tenant_id = :t AND location_id = :l "
        "AND product_id = :p RETURNING id",
        t=tenant.tenant_id,
        l=tenant.locations["S1"],
        p=tenant.products["B"],
    )
    adjust = {"locationId": s1, "sku": "A", "delta": -3, "reason": "DAMAGE"}
    assert (await gql.ok(ADJUST, owner, {"input": adjust}))["adjustStock"]["userErrors"] == []
    sale = {"locationId": s1, "receiptNumber": "R-1", "lines": [{"sku": "B", "quantity": 2}]}
    assert (await gql.ok(SALE, owner, {"input": sale}))["recordSale"]["userErrors"] == []
    refused = {"locationId": s1, "sku": "A", "delta": -100, "reason": "THEFT"}
    errors = (await gql.ok(ADJUST, owner, {"input": refused}))["adjustStock"]["userErrors"]
    assert [e["code"] for e in errors] == ["INSUFFICIENT_STOCK"]
    await gql.ok(RECEIVE, owner, {"input": {"locationId": s2, "lines": [lines[0]]}})
    found = {"locationId": s1, "sku": "B", "delta": 1, "reason": "FOUND"}
    assert (await gql.ok(ADJUST, owner, {"input": found}))["adjustStock"]["userErrors"] == []


async def test_failing_receiver_gets_each_event_once_signed_with_stable_ids(gql, tenant):
    receiver = Receiver(answer=lambda n: 500 if n <= 3 else 204)
    async with RunningReceiver(receiver):
        sub = await subscribe(
            gql,
            tenant.owner,
            url=receiver.url,
            eventTypes=["STOCK_CHANGED", "STOCK_LOW"],
            description="ERP",
        )
        secret = sub["secret"]
        endpoint_id = sub["webhookSubscription"]["id"]
        worker = dispatcher(tenant.db)
        await worker.start()
        try:
            await make_changes(gql, tenant)
            expected = await event_ids(tenant.db, tenant.tenant_id)
            assert len(expected) == 7  # the refused change wrote nothing
            await wait_for(
                lambda: all_settled(tenant.db, tenant.tenant_id, len(expected)), what="deliveries"
            )

            # Each event accepted exactly once, after three refusals, under one id.
            assert receiver.accepted() == {wid: 1 for wid in expected}
            for wid, requests in receiver.by_id().items():
                assert [r.status for r in requests] == [500, 500, 500, 204]
                assert {r.headers["webhook-id"] for r in requests} == {wid}
                assert len({r.body for r in requests}) == 1  # the same body every time
            for request in receiver.received:
                verified = Webhook(secret).verify(request.body, request.headers)
                assert verified["data"]["sequence"] == str(expected[request.webhook_id])
            forged = Webhook("whsec_" + base64.b64encode(b"x" * 24).decode())
            with pytest.raises(WebhookVerificationError):
                forged.verify(receiver.received[0].body, receiver.received[0].headers)

            # Per (location, SKU), every attempt of an event comes before the next event.
            per_key = defaultdict(list)
            for request in receiver.received:
                per_key[Receiver.key_of(request.body)].append(int(request.data["data"]["sequence"]))
            assert len(per_key) == 3
            for sequences in per_key.values():
                assert sequences == sorted(sequences)

            # The body, for a sale and for the low-stock crossing it caused.
            bodies = {r.data["data"]["sequence"]: r.data for r in receiver.received}
            sale = next(
                b for b in bodies.values() if b["data"].get("movement", {}).get("kind") == "SALE"
            )
            assert sale["type"] == "stock.changed"
            assert sale["data"]["location"] == {"id": tenant.loc("S1"), "code": "S1"}
            assert sale["data"]["product"] == {
                "id": tenant.gid("Product", tenant.products["B"]),
                "sku": "B",
            }
            movement = sale["data"]["movement"]
            assert (movement["delta"], movement["onHandAfter"], movement["oversell"]) == (
                -2,
                8,
                False,
            )
            assert movement["reference"] == "R-1"
            assert set(movement) == {
                "id",
                "kind",
                "delta",
                "onHandAfter",
                "reason",
                "reference",
                "occurredAt",
                "oversell",
            }
            level = sale["data"]["stockLevel"]
            assert (level["onHand"], level["available"], level["reserved"]) == (8, 8, 0)
            assert isinstance(level["version"], str)
            low = next(b for b in bodies.values() if b["type"] == "stock.low")
            assert low["data"]["reorderPoint"] == 8 and "movement" not in low["data"]
            assert int(low["data"]["sequence"]) == int(sale["data"]["sequence"]) + 1

            # The delivery log: four attempts each, three failures then the success.
            log = await gql.ok(DELIVERIES, tenant.owner, {"id": endpoint_id, "first": 50})
            nodes = [e["node"] for e in log["webhookDeliveries"]["edges"]]
            assert log["webhookDeliveries"]["totalCount"] == 7
            assert {n["webhookId"] for n in nodes} == set(expected)
            for node in nodes:
                assert node["status"] == "SUCCEEDED" and node["attempts"] == 4
                assert [a["statusCode"] for a in node["attemptLog"]] == [500, 500, 500, 204]
                assert [a["error"] for a in node["attemptLog"]] == ["HTTP 500"] * 3 + [None]
                assert node["lastStatusCode"] == 204 and node["deliveredAt"] is not None

            # Manual redelivery sends the same id and body again.
            target = next(n for n in nodes if n["webhookId"] == receiver.received[0].webhook_id)
            first_body = receiver.by_id()[target["webhookId"]][0].body
            redone = await gql.ok(REDELIVER, tenant.owner, {"id": target["id"]})
            payload = redone["redeliverWebhook"]
            assert payload["userErrors"] == []
            assert payload["delivery"]["webhookId"] == target["webhookId"]
            assert payload["delivery"]["status"] == "PENDING"

            async def redelivered() -> bool:
                return len(receiver.by_id()[target["webhookId"]]) == 5

            await wait_for(redelivered, what="redelivery")
            again = receiver.by_id()[target["webhookId"]][-1]
            assert again.body == first_body and again.status == 204
            Webhook(secret).verify(again.body, again.headers)
            await wait_for(
                lambda: all_settled(tenant.db, tenant.tenant_id, len(expected)), what="settled"
            )
            log = await gql.ok(DELIVERIES, tenant.owner, {"id": endpoint_id, "first": 50})
            node = next(
                e["node"]
                for e in log["webhookDeliveries"]["edges"]
                if e["node"]["id"] == target["id"]
            )
            assert len(node["attemptLog"]) == 5 and node["status"] == "SUCCEEDED"
            assert receiver.accepted()[target["webhookId"]] == 2
        finally:
            await worker.stop()
            await deactivate(tenant.db, tenant.tenant_id)


async def test_two_dispatchers_never_send_one_delivery_twice(gql, tenant):
    receiver = Receiver(delay=0.02)
    async with RunningReceiver(receiver):
        await subscribe(gql, tenant.owner, url=receiver.url, eventTypes=["STOCK_CHANGED"])
        workers = [dispatcher(tenant.db, batch_size=4, poll_interval=0.01) for _ in range(2)]
        for worker in workers:
            await worker.start()
        try:
            lines = [{"sku": s, "quantity": 1} for s in ("A", "B", "C")]

            async def receive(loc: str) -> None:
                for _ in range(4):
                    variables = {"input": {"locationId": tenant.loc(loc), "lines": lines}}
                    await gql.ok(RECEIVE, tenant.owner, variables)

            await asyncio.gather(receive("S1"), receive("S2"))
            expected = await event_ids(tenant.db, tenant.tenant_id)
            assert len(expected) == 24
            await wait_for(lambda: all_settled(tenant.db, tenant.tenant_id, 24), what="deliveries")
            assert receiver.accepted() == {wid: 1 for wid in expected}
            assert len(receiver.received) == 24  # no request was ever repeated
            assert max(receiver.max_in_flight.values()) == 1  # one at a time per key
            per_key = defaultdict(list)
            for request in receiver.received:
                per_key[Receiver.key_of(request.body)].append(int(request.data["data"]["sequence"]))
            assert len(per_key) == 6
            assert all(seqs == sorted(seqs) for seqs in per_key.values())
        finally:
            for worker in workers:
                await worker.stop()
            await deactivate(tenant.db, tenant.tenant_id)


async def test_a_claim_that_is_never_recorded_is_sent_after_its_lease(gql, tenant):
    receiver = Receiver()
    async with RunningReceiver(receiver):
        await subscribe(gql, tenant.owner, url=receiver.url, eventTypes=["STOCK_CHANGED"])
        variables = {
            "input": {"locationId": tenant.loc("S1"), "lines": [{"sku": "A", "quantity": 1}]}
        }
        await gql.ok(RECEIVE, tenant.owner, variables)
        async with tenant.db.owner_transaction() as session:
            await dispatch.fan_out(session)
        async with tenant.db.owner_transaction() as session:  # a process that dies after this
            claims = await dispatch.claim_due(session, limit=100, lease_seconds=0.5)
        lost = [c for c in claims if c.tenant_id == tenant.tenant_id]
        assert len(lost) == 1
        claimed_at = time.monotonic()
        worker = dispatcher(tenant.db)
        await worker.start()
        try:
            await wait_for(lambda: all_settled(tenant.db, tenant.tenant_id, 1), what="delivery")
            assert len(receiver.received) == 1
            assert receiver.received[0].at - claimed_at >= 0.4
            # The dead process's late record is fenced off: it logs, but settles nothing.
            outcome = dispatch.Outcome(lost[0].leased_until, 500, "HTTP 500", 1)
            async with tenant.db.owner_transaction() as session:
                status = await dispatch.record_attempt(
                    session, lost[0], outcome, backoff_base=1, max_attempts=1
                )
            assert status is None
            assert await all_settled(tenant.db, tenant.tenant_id, 1)
        finally:
            await worker.stop()
            await deactivate(tenant.db, tenant.tenant_id)


async def test_the_server_delivers_with_its_own_dispatcher(
    database_url, signing_key, tmp_path, tenant
):
    receiver = Receiver(answer=lambda n: 503 if n == 1 else 200)
    server = start_server(
        database_url,
        signing_key,
        tmp_path,
        extra_env={
            "STOCKGRAPH_WEBHOOKS_ENABLED": "true",
            "STOCKGRAPH_WEBHOOK_BACKOFF_BASE_SECONDS": "0.05",
        },
    )
    try:
        async with RunningReceiver(receiver):
            token = await app_token(server, await new_client(tenant))
            headers = {"Authorization": f"Bearer {token}"}
            create = """mutation($url: String!) { createWebhookSubscription(input: {url: $url,
              eventTypes: [STOCK_CHANGED], skus: ["A"]}) { secret userErrors { code } } }"""
            receive = """mutation($loc: ID!) { receiveStock(input: {locationId: $loc,
              lines: [{sku: "A", quantity: 2}, {sku: "B", quantity: 1}]}) {
              userErrors { code } } }"""
            async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
                r = await client.post(
                    "/graphql", json={"query": create, "variables": {"url": receiver.url}}
                )
                payload = r.json()["data"]["createWebhookSubscription"]
                assert payload["userErrors"] == [], payload  # http:// is fine in development
                r = await client.post(
                    "/graphql", json={"query": receive, "variables": {"loc": tenant.loc("S1")}}
                )
                assert r.json()["data"]["receiveStock"]["userErrors"] == []

            async def accepted() -> bool:
                return sum(receiver.accepted().values()) == 1

            await wait_for(accepted, what="the server's delivery")
            assert [r.status for r in receiver.received] == [503, 200]
            body = Webhook(payload["secret"]).verify(
                receiver.received[-1].body, receiver.received[-1].headers
            )
            assert body["data"]["product"]["sku"] == "A"  # the filter left B out
            assert json.loads(receiver.received[0].body) == body
    finally:
        stop_server(server)
        await deactivate(tenant.db, tenant.tenant_id)
