"""The caller, as the caller may see it."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from db.models import Tenant as TenantRow
from domain import ids
from schema.viewer import Tenant, Viewer


async def viewer(info: Info) -> Viewer:
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        row = (
            await session.execute(select(TenantRow).where(TenantRow.tenant_id == caller.tenant_id))
        ).scalar_one()
    tenant = Tenant(
        id=strawberry.ID(ids.encode("Tenant", row.tenant_id)),
        code=row.code,
        name=row.name,
        currency=row.currency,
        timezone=row.timezone,
    )
    return Viewer.of(caller, tenant)
