"""The audit trail: every mutation leaves an event; the chain finds tampering."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg
import pytest
from sqlalchemy import text

from auth.permissions import Role
from db.session import plain_url
from domain.audit import chain
from domain.audit.service import AuditEntry, append, verify
from tests.graphql.test_stock_concurrency import ADJUST, RECEIVE


async def _events(db, tenant_id: int) -> list:
    async with db.owner_transaction() as s:
        return (
            (
                await s.execute(
                    text("SELECT * FROM audit_events WHERE tenant_id = :t ORDER BY sequence"),
                    {"t": tenant_id},
                )
            )
            .mappings()
            .all()
        )


async def test_success_failure_and_denial_are_all_audited(gql, tenant):
    owner = tenant.owner
    await gql.ok(
        RECEIVE,
        owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "lines": [{"sku": "A", "quantity": 2}],
                "idempotencyKey": "a-1",
            }
        },
    )
    await gql.ok(
        ADJUST,
        owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "sku": "A",
                "delta": -5,
                "reason": "DAMAGE",
                "note": "dropped",
            }
        },
    )
    clerk = tenant.staff(Role.CLERK, ["S2"], staff_id=42)
    denied = await gql.ok(
        ADJUST,
        clerk,
        {"input": {"locationId": tenant.loc("S1"), "sku": "A", "delta": -1, "reason": "DAMAGE"}},
    )
    assert denied["adjustStock"]["userErrors"][0]["code"] == "FORBIDDEN"

    events = [
        e for e in await _events(tenant.db, tenant.tenant_id) if e["action"].startswith("stock.")
    ]
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("stock.receive", "success"),
        ("stock.adjust", "failed"),
        ("stock.adjust", "denied"),
    ]
    received, failed, refused = events
    assert received["idempotency_key"] == "a-1"
    assert received["actor"] == "staff:999" and received["staff_role"] == "OWNER"
    assert received["before"] == [{"stockLevel": received["target_id"], "onHand": 0}]
    assert received["after"]["levels"][0]["onHand"] == 2
    assert received["request_id"] == "test"
    assert failed["after"]["error"]["code"] == "INSUFFICIENT_STOCK"
    assert failed["after"]["input"]["note"] == "dropped"
    assert refused["actor"] == "staff:42" and refused["staff_role"] == "CLERK"
    result = await verify_tenant(tenant)
    assert result.valid and result.checked == len(await _events(tenant.db, tenant.tenant_id))


async def verify_tenant(tenant):
    async with tenant.db.owner_transaction() as s:
        return await verify(s, tenant.tenant_id)


async def test_app_role_cannot_change_or_delete_audit_events(tenant, database_url):
    conn = await asyncpg.connect(
        plain_url(database_url), server_settings={"role": "stockgraph_app"}
    )
    try:
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant.tenant_id))
        assert await conn.fetchval("SELECT count(*) FROM audit_events") > 0
        for statement in (
            "UPDATE audit_events SET reason = 'x'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
            "UPDATE stock_movements SET delta = 0",
            "DELETE FROM stock_movements",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()


async def test_even_the_owner_is_stopped_by_the_append_only_trigger(tenant, database_url):
    conn = await asyncpg.connect(plain_url(database_url))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(
                "UPDATE audit_events SET reason = 'x' WHERE tenant_id = $1", tenant.tenant_id
            )
    finally:
        await conn.close()


async def test_chain_is_recomputable_from_rows(tenant):
    async with tenant.db.owner_transaction() as s:
        for i in range(5):
            await append(
                s,
                tenant.owner,
                AuditEntry("test.event", "Thing", f"t{i}", {"n": i}, {"n": i + 1, "名": "價格"}),
            )
    events = await _events(tenant.db, tenant.tenant_id)
    bad, checked, _ = chain.first_broken(events)
    assert bad is None and checked == len(events)


async def _tamper(database_url: str, tenant_id: int, sequence: int, sql: str) -> None:
    conn = await asyncpg.connect(plain_url(database_url))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(sql, tenant_id, sequence)
    finally:
        await conn.close()


def _cli_verify(database_url: str, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "audit", "verify", "--tenant", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_tampered_row_is_named_by_audit_verify(gql, tenant, database_url):
    owner = tenant.owner
    for qty in (1, 2, 3):
        await gql.ok(
            RECEIVE,
            owner,
            {"input": {"locationId": tenant.loc("S1"), "lines": [{"sku": "B", "quantity": qty}]}},
        )
    events = await _events(tenant.db, tenant.tenant_id)
    target = events[-2]["sequence"]
    ok = _cli_verify(database_url, tenant.code)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f'{{"valid": true, "checked": {len(events)}}}'

    await _tamper(
        database_url,
        tenant.tenant_id,
        target,
        "UPDATE audit_events SET after = '{\"levels\": []}' WHERE tenant_id = $1 AND sequence = $2",
    )
    bad = _cli_verify(database_url, tenant.code)
    assert bad.returncode == 1
    assert f'"first_bad_sequence": {target}' in bad.stdout


async def test_deleted_row_and_truncated_tail_are_detected(tenant, database_url):
    async with tenant.db.owner_transaction() as s:
        for i in range(4):
            await append(s, tenant.owner, AuditEntry("test.event", reason=str(i)))
    events = await _events(tenant.db, tenant.tenant_id)
    last = events[-1]["sequence"]
    await _tamper(
        database_url,
        tenant.tenant_id,
        last,
        "DELETE FROM audit_events WHERE tenant_id = $1 AND sequence = $2",
    )
    result = await verify_tenant(tenant)
    assert not result.valid and result.first_bad_sequence == last
    middle = events[1]["sequence"]
    await _tamper(
        database_url,
        tenant.tenant_id,
        middle,
        "DELETE FROM audit_events WHERE tenant_id = $1 AND sequence = $2",
    )
    result = await verify_tenant(tenant)
    assert not result.valid and result.first_bad_sequence == middle


AUDIT_PAGE = """
query($first: Int, $after: String, $entityId: ID) {
  auditEvents(first: $first, after: $after, entityId: $entityId) {
    totalCount
    edges { cursor node { action } }
  }
}
"""


async def test_total_count_counts_the_filter_not_the_page(gql, tenant):
    owner = tenant.owner
    for n in range(3):
        await gql.ok(
            RECEIVE,
            owner,
            {
                "input": {
                    "locationId": tenant.loc("S1"),
                    "lines": [{"sku": "A", "quantity": 1}],
                    "idempotencyKey": f"count-{n}",
                }
            },
        )
    everything = len(await _events(tenant.db, tenant.tenant_id))
    assert everything > 2
    first = await gql.ok(AUDIT_PAGE, owner, {"first": 2})
    assert len(first["auditEvents"]["edges"]) == 2
    assert first["auditEvents"]["totalCount"] == everything
    after = first["auditEvents"]["edges"][-1]["cursor"]
    rest = await gql.ok(AUDIT_PAGE, owner, {"first": 1, "after": after})
    assert rest["auditEvents"]["totalCount"] == everything
    events = await _events(tenant.db, tenant.tenant_id)
    target = next(e["target_id"] for e in events if e["action"] == "stock.receive")
    one = await gql.ok(AUDIT_PAGE, owner, {"first": 1, "entityId": target})
    expected = sum(1 for e in events if e["target_id"] == target)
    assert one["auditEvents"]["totalCount"] == expected


SALE = """mutation($input: RecordSaleInput!) { recordSale(input: $input) {
  movements { id } userErrors { code } } }"""


async def test_a_sale_audited_with_its_movements_is_audited_alike(gql, tenant):
    """``recordSale`` writes its audit event in the statement that writes its
    movements (their ids taken first); a sale in a batch (``syncSales``) and a sale
    with a member are audited after it. Either way the event names the sale's own
    movements, with the key and the request it came with, and the chain verifies."""
    member = await gql.ok(
        """mutation($input: CreateMemberInput!) { createMember(input: $input) {
             member { id } userErrors { code } } }""",
        tenant.owner,
        {"input": {"name": "陳大文", "phone": "+85291230000"}},
    )
    member_id = member["createMember"]["member"]["id"]
    await gql.ok(  # the levels exist, so the lookup locks them too
        RECEIVE,
        tenant.owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "lines": [{"sku": "A", "quantity": 5}, {"sku": "B", "quantity": 5}],
            }
        },
    )
    answers = {}
    for receipt, extra in (("AU1", {}), ("AU2", {"memberId": member_id})):
        data = await gql.ok(
            SALE,
            tenant.owner,
            {
                "input": {
                    "locationId": tenant.loc("S1"),
                    "receiptNumber": receipt,
                    "lines": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2}],
                    "idempotencyKey": f"key-{receipt}",
                    **extra,
                }
            },
        )
        assert data["recordSale"]["userErrors"] == []
        answers[receipt] = [m["id"] for m in data["recordSale"]["movements"]]
    sales = [e for e in await _events(tenant.db, tenant.tenant_id) if e["action"] == "stock.sale"]
    assert len(sales) == 2
    for event, receipt in zip(sales, ("AU1", "AU2"), strict=True):
        assert event["after"]["movements"] == answers[receipt]
        assert event["idempotency_key"] == f"key-{receipt}"
        assert event["outcome"] == "success" and event["target_type"] == "Location"
        before = sum(lv["onHand"] for lv in event["before"])
        assert before - sum(lv["onHand"] for lv in event["after"]["levels"]) == 3
    assert sales[0].keys() == sales[1].keys()
    assert (await verify_tenant(tenant)).valid
