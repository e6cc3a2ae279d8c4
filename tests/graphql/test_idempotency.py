"""Idempotency keys: one effect, identical responses; reuse with other input is refused."""

from __future__ import annotations

import asyncio
import json

from tests.graphql.test_stock_concurrency import ADJUST, RECEIVE
from tests.helpers import count_rows, ledger_mismatches, on_hand


def _input(tenant, key: str, qty: int = 3) -> dict:
    return {
        "input": {
            "locationId": tenant.loc("S1"),
            "lines": [{"sku": "A", "quantity": qty}],
            "reference": "PO-1",
            "idempotencyKey": key,
        }
    }


async def test_same_key_five_times_in_sequence(gql, tenant):
    owner = tenant.owner
    first = await gql.ok(RECEIVE, owner, _input(tenant, "seq-key"))
    for _ in range(4):
        again = await gql.ok(RECEIVE, owner, _input(tenant, "seq-key"))
        assert json.dumps(again, sort_keys=True) == json.dumps(first, sort_keys=True)
    assert (
        await on_hand(tenant.db, tenant.tenant_id, tenant.locations["S1"], tenant.products["A"])
        == 3
    )
    assert await count_rows(tenant.db, "stock_movements", tenant.tenant_id) == 1


async def test_same_key_five_times_concurrently(gql, tenant):
    owner = tenant.owner
    results = await asyncio.gather(
        *(gql.ok(RECEIVE, owner, _input(tenant, "conc-key", 4)) for _ in range(5))
    )
    rendered = {json.dumps(r, sort_keys=True) for r in results}
    assert len(rendered) == 1
    assert results[0]["receiveStock"]["userErrors"] == []
    assert (
        await on_hand(tenant.db, tenant.tenant_id, tenant.locations["S1"], tenant.products["A"])
        == 4
    )
    assert await count_rows(tenant.db, "stock_movements", tenant.tenant_id) == 1
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_reply_is_the_first_response_even_after_later_changes(gql, tenant):
    owner = tenant.owner
    first = await gql.ok(RECEIVE, owner, _input(tenant, "k-later", 2))
    await gql.ok(RECEIVE, owner, _input(tenant, "k-other", 5))
    again = await gql.ok(RECEIVE, owner, _input(tenant, "k-later", 2))
    assert again == first
    assert again["receiveStock"]["stockLevels"][0]["onHand"] == 2


async def test_key_with_different_input_is_refused(gql, tenant):
    owner = tenant.owner
    await gql.ok(RECEIVE, owner, _input(tenant, "reused", 3))
    other = await gql.ok(RECEIVE, owner, _input(tenant, "reused", 7))
    errors = other["receiveStock"]["userErrors"]
    assert errors[0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert errors[0]["field"] == ["idempotencyKey"]
    assert (
        await on_hand(tenant.db, tenant.tenant_id, tenant.locations["S1"], tenant.products["A"])
        == 3
    )


async def test_key_on_another_mutation_is_refused(gql, tenant):
    owner = tenant.owner
    await gql.ok(RECEIVE, owner, _input(tenant, "cross-op", 3))
    data = await gql.ok(
        ADJUST,
        owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "sku": "A",
                "delta": -1,
                "reason": "DAMAGE",
                "idempotencyKey": "cross-op",
            }
        },
    )
    assert data["adjustStock"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_keys_are_per_caller(gql, tenant):
    a = tenant.app(client_id="pos-1")
    b = tenant.app(client_id="pos-2")
    await gql.ok(RECEIVE, a, _input(tenant, "shared-key", 1))
    await gql.ok(RECEIVE, b, _input(tenant, "shared-key", 1))
    assert (
        await on_hand(tenant.db, tenant.tenant_id, tenant.locations["S1"], tenant.products["A"])
        == 2
    )


async def test_a_refusal_is_the_first_response_too(gql, tenant):
    owner = tenant.owner
    adjust = {
        "input": {
            "locationId": tenant.loc("S1"),
            "sku": "A",
            "delta": -2,
            "reason": "DAMAGE",
            "idempotencyKey": "refused-once",
        }
    }
    refused = await gql.ok(ADJUST, owner, adjust)
    assert refused["adjustStock"]["userErrors"][0]["code"] == "INSUFFICIENT_STOCK"
    await gql.ok(RECEIVE, owner, _input(tenant, "fill", 5))
    replay = await gql.ok(ADJUST, owner, adjust)
    assert replay == refused  # same key, same input: the first answer, nothing changed
    assert (
        await on_hand(tenant.db, tenant.tenant_id, tenant.locations["S1"], tenant.products["A"])
        == 5
    )
    other = await gql.ok(ADJUST, owner, {"input": {**adjust["input"], "delta": -1}})
    assert other["adjustStock"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    fresh = await gql.ok(
        ADJUST, owner, {"input": {**adjust["input"], "idempotencyKey": "second-try"}}
    )
    assert fresh["adjustStock"]["userErrors"] == []
    assert fresh["adjustStock"]["stockLevels"][0]["onHand"] == 3


async def test_keys_older_than_a_day_are_purged_and_newer_kept(gql, tenant):
    from sqlalchemy import text

    from domain import idempotency

    owner = tenant.owner
    await gql.ok(RECEIVE, owner, _input(tenant, "old-key", 1))
    await gql.ok(RECEIVE, owner, _input(tenant, "new-key", 1))
    async with tenant.db.owner_transaction() as s:
        await s.execute(
            text(
                "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'"
                " WHERE tenant_id = :t AND key = 'old-key'"
            ),
            {"t": tenant.tenant_id},
        )
        assert await idempotency.purge_all(s) >= 1
        keys = set(
            (
                await s.execute(
                    text("SELECT key FROM idempotency_keys WHERE tenant_id = :t"),
                    {"t": tenant.tenant_id},
                )
            ).scalars()
        )
    assert keys == {"new-key"}
