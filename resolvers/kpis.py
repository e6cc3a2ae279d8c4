"""inventoryKpis and memberKpis: arguments → one domain call → types."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from db.models import Tenant
from domain.kpis.inventory import KpiQuery
from domain.kpis.inventory import inventory_kpis as compute_inventory
from domain.kpis.members import member_kpis as compute_members
from schema.kpis import InventoryKpis, MemberKpis
from schema.relay import decode_id


def _query(
    start: date, end: date, location_id: strawberry.ID | None, category: str | None
) -> KpiQuery:
    location = (
        decode_id(location_id, "Location", ["locationId"]) if location_id is not None else None
    )
    return KpiQuery(start=start, end=end, location_id=location, category=category)


async def inventory_kpis(
    info: Info,
    from_: Annotated[
        date,
        strawberry.argument(name="from", description="The first day (tenant time zone)."),
    ],
    to: Annotated[
        date,
        strawberry.argument(description="The last day, included; at most 400 days after from."),
    ],
    location_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only this location; omitted: every location."),
    ] = None,
    category: Annotated[
        str | None, strawberry.argument(description="Only products of this category.")
    ] = None,
) -> InventoryKpis:
    caller = info.context.viewer
    query = _query(from_, to, location_id, category)
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        figures = await compute_inventory(session, caller, query)
        currency = (
            await session.execute(
                select(Tenant.currency).where(Tenant.tenant_id == caller.tenant_id)
            )
        ).scalar_one()
    return InventoryKpis.from_domain(figures, currency)


async def member_kpis(
    info: Info,
    from_: Annotated[
        date,
        strawberry.argument(name="from", description="The first day (tenant time zone)."),
    ],
    to: Annotated[
        date,
        strawberry.argument(description="The last day, included; at most 400 days after from."),
    ],
    location_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only members whose home store is this location."),
    ] = None,
) -> MemberKpis:
    caller = info.context.viewer
    query = _query(from_, to, location_id, None)
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        figures = await compute_members(session, caller, query)
        currency = (
            await session.execute(
                select(Tenant.currency).where(Tenant.tenant_id == caller.tenant_id)
            )
        ).scalar_one()
    return MemberKpis.from_domain(figures, currency)
