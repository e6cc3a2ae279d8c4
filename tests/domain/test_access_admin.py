"""Taking access away stays inside the tenant: another tenant's client or staff member is
NOT_FOUND, only admins may do it, and revocation rows are isolated by row-level security."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text

from auth.caller import Caller
from auth.permissions import Role
from db.session import plain_url
from domain.errors import Forbidden, NotFound
from domain.tenancy.service import (
    create_client,
    create_staff,
    rotate_client_secret,
    set_client_active,
    set_staff_active,
)


async def test_another_tenants_client_and_staff_are_not_found(tenant, other_tenant):
    async with other_tenant.db.owner_transaction() as s:
        theirs = await create_client(
            s, Caller.system(other_tenant.tenant_id), "x", "stock:read", None
        )
        await create_staff(s, Caller.system(other_tenant.tenant_id), "bob", "Bob", "CLERK", [])
    mine = Caller.system(tenant.tenant_id)
    async with tenant.db.owner_transaction() as s:
        with pytest.raises(NotFound):
            await rotate_client_secret(s, mine, theirs.client_id)
    async with tenant.db.owner_transaction() as s:
        with pytest.raises(NotFound):
            await set_client_active(s, mine, theirs.client_id, False)
    async with tenant.db.owner_transaction() as s:
        with pytest.raises(NotFound):
            await set_staff_active(s, mine, "bob", False)
    async with tenant.db.owner_transaction() as s:
        active = (
            await s.execute(
                text("SELECT active FROM partner_apps WHERE client_id = :c"),
                {"c": theirs.client_id},
            )
        ).scalar_one()
    assert active is True
    assert await _rows_of(tenant, other_tenant.tenant_id) == []  # their tokens untouched


async def _rows_of(tenant, tenant_id: int) -> list:
    async with tenant.db.owner_transaction() as s:
        return list(
            await s.execute(
                text("SELECT subject FROM token_revocations WHERE tenant_id = :t"), {"t": tenant_id}
            )
        )


async def test_only_admins_take_access_away(tenant):
    async with tenant.db.owner_transaction() as s:
        creds = await create_client(s, Caller.system(tenant.tenant_id), "x", "stock:read", None)
    manager = tenant.staff(Role.STORE_MANAGER, ["S1"])
    async with tenant.db.owner_transaction() as s:
        with pytest.raises(Forbidden):
            await rotate_client_secret(s, manager, creds.client_id)
    async with tenant.db.owner_transaction() as s:
        with pytest.raises(Forbidden):
            await set_client_active(s, manager, creds.client_id, False)


async def test_revocation_rows_are_isolated_by_row_level_security(
    tenant, other_tenant, database_url
):
    for fx in (tenant, other_tenant):
        async with fx.db.owner_transaction() as s:
            creds = await create_client(s, Caller.system(fx.tenant_id), "x", "stock:read", None)
            await set_client_active(s, Caller.system(fx.tenant_id), creds.client_id, False)
    conn = await asyncpg.connect(
        plain_url(database_url), server_settings={"role": "stockgraph_app"}
    )
    try:
        assert await conn.fetchval("SELECT count(*) FROM token_revocations") == 0  # no tenant set
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant.tenant_id))
        tenants = await conn.fetch("SELECT DISTINCT tenant_id FROM token_revocations")
        assert [r["tenant_id"] for r in tenants] == [tenant.tenant_id]
    finally:
        await conn.close()
