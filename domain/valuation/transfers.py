"""The cost travels with the goods: what a shipment left at is what its receipt comes in at."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import TransferLine
from domain.stock.records import MovementRecord

L = cast(Table, TransferLine.__table__)


async def remember_shipped_costs(
    session: AsyncSession, caller: Caller, transfer_id: int, shipped: Sequence[MovementRecord]
) -> None:
    """Keep on each line the unit cost its TRANSFER_OUT left the source at."""
    for m in shipped:
        await session.execute(
            update(L)
            .where(
                L.c.tenant_id == caller.tenant_id,
                L.c.transfer_id == transfer_id,
                L.c.product_id == m.product_id,
            )
            .values(unit_cost=m.unit_cost)
        )


async def shipped_costs(
    session: AsyncSession, caller: Caller, transfer_id: int
) -> dict[int, Decimal | None]:
    """Per product of the transfer, the unit cost it was shipped at (None before shipping)."""
    rows = await session.execute(
        select(L.c.product_id, L.c.unit_cost).where(
            L.c.tenant_id == caller.tenant_id, L.c.transfer_id == transfer_id
        )
    )
    return {r.product_id: r.unit_cost for r in rows}
