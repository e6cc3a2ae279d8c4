"""Row-level security fails closed: no tenant set, no rows; one tenant set, its rows only."""

from __future__ import annotations

import asyncpg
import pytest

from db.session import plain_url
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind

TABLES = [
    "tenants",
    "tenant_counters",
    "locations",
    "products",
    "staff",
    "partner_apps",
    "stock_levels",
    "sales",
    "stock_movements",
    "events",
    "idempotency_keys",
    "audit_events",
]


async def _stock(tenant) -> None:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        await post(
            s,
            tenant.owner,
            [Posting(tenant.locations["S1"], tenant.products["A"], MovementKind.RECEIPT, 5)],
        )


async def _app_connection(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        plain_url(database_url), server_settings={"role": "stockgraph_app"}
    )


async def test_app_role_without_tenant_sees_nothing(tenant, other_tenant, database_url):
    await _stock(tenant)
    await _stock(other_tenant)
    conn = await _app_connection(database_url)
    try:
        assert await conn.fetchval("SELECT current_user") == "stockgraph_app"
        for table in TABLES:
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    finally:
        await conn.close()


async def test_app_role_with_a_tenant_sees_only_that_tenant(tenant, other_tenant, database_url):
    await _stock(tenant)
    await _stock(other_tenant)
    conn = await _app_connection(database_url)
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT set_config('app.tenant_id', $1, true)", str(tenant.tenant_id)
            )
            for table in TABLES:
                tenants = await conn.fetch(f"SELECT DISTINCT tenant_id FROM {table}")
                assert {r[0] for r in tenants} <= {tenant.tenant_id}, table
            assert await conn.fetchval("SELECT count(*) FROM stock_movements") == 1
        # the setting was transaction-local: gone after commit
        assert await conn.fetchval("SELECT count(*) FROM stock_levels") == 0
    finally:
        await conn.close()


async def test_app_role_cannot_write_into_another_tenant(tenant, other_tenant, database_url):
    conn = await _app_connection(database_url)
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT set_config('app.tenant_id', $1, true)", str(tenant.tenant_id)
            )
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "INSERT INTO locations (tenant_id, code, name_zh, name_en, kind) "
                    "VALUES ($1, 'X', 'X', 'X', 'STORE')",
                    other_tenant.tenant_id,
                )
    finally:
        await conn.close()


async def test_ledger_locks_in_canonical_order_without_deadlock(tenant):
    """Opposite line orders, posted directly (no retry layer): never a deadlock."""
    import asyncio

    locs = [tenant.locations[c] for c in ("S1", "S2", "WH")]
    prods = list(tenant.products.values())
    keys = [(loc, p) for loc in locs for p in prods]

    async def one(i: int) -> None:
        order = keys if i % 2 else list(reversed(keys))
        async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
            await post(
                s, tenant.owner, [Posting(loc, p, MovementKind.RECEIPT, 1) for loc, p in order]
            )

    await asyncio.gather(*(one(i) for i in range(30)))
    from tests.helpers import ledger_mismatches, on_hand

    assert await on_hand(tenant.db, tenant.tenant_id, locs[0], prods[0]) == 30
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_every_table_has_forced_row_level_security(database_url):
    """Not a hand-kept list: a table added later without RLS fails here."""
    conn = await asyncpg.connect(plain_url(database_url))
    try:
        rows = await conn.fetch(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "EXISTS (SELECT 1 FROM information_schema.columns k WHERE k.table_name = c.relname "
            "        AND k.column_name = 'tenant_id') AS has_tenant "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'alembic_version'"
        )
    finally:
        await conn.close()
    assert len(rows) >= len(TABLES)
    for row in rows:
        assert row["relrowsecurity"] and row["relforcerowsecurity"], row["relname"]
        assert row["has_tenant"], row["relname"]


async def test_app_login_cannot_become_another_role(app_database_url):
    conn = await asyncpg.connect(app_database_url, server_settings={"role": "stockgraph_app"})
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET ROLE postgres")
        await conn.execute("RESET ROLE")  # back to the login itself: still no owner rights
        assert await conn.fetchval("SELECT current_user") == "stockgraph_app"
        assert not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = session_user")
        assert await conn.fetchval("SELECT count(*) FROM stock_levels") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("ALTER TABLE stock_levels DISABLE ROW LEVEL SECURITY")
    finally:
        await conn.close()
