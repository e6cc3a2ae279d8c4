"""Row-level security on the replenishment tables: the app role sees one tenant's rows."""

from __future__ import annotations

from decimal import Decimal

from domain.purchasing import service as po
from tests.domain.test_isolation import _app_connection
from tests.domain.test_replenishment import set_rule, setup_supplier

TABLES = [
    "suppliers",
    "supplier_products",
    "replenishment_rules",
    "purchase_orders",
    "purchase_order_lines",
]


async def _data(t) -> None:
    sid = await setup_supplier(t)
    await set_rule(t, "S1", "A")
    async with t.db.tenant_transaction(t.tenant_id) as s:
        await po.create_draft(
            s,
            t.owner,
            po.CreateDraft(sid, t.locations["S1"], (po.DraftLine(t.products["A"], 6, Decimal(1)),)),
        )


async def test_each_tenant_sees_only_its_rows(tenant, other_tenant, database_url):
    await _data(tenant)
    await _data(other_tenant)
    conn = await _app_connection(database_url)
    try:
        for table in TABLES:
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
        async with conn.transaction():
            await conn.execute(
                "SELECT set_config('app.tenant_id', $1, true)", str(tenant.tenant_id)
            )
            for table in TABLES:
                seen = {r[0] for r in await conn.fetch(f"SELECT DISTINCT tenant_id FROM {table}")}
                assert seen == {tenant.tenant_id}, table
    finally:
        await conn.close()
