"""The cost travels with the goods: what a shipment left at is what its receipt comes in at."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import TransferLine
from domain.stock.records import MovementRecord

L = cast(Table, TransferLine.__table__)


_REMEMBER = text(
    """
    UPDATE transfer_lines l SET unit_cost = c.unit_cost
    FROM unnest(CAST(:products AS bigint[]), CAST(:costs AS numeric[])) AS c(product_id, unit_cost)
    WHERE l.tenant_id = :tenant AND l.transfer_id = :transfer AND l.product_id = c.product_id
    """
)


async def remember_shipped_costs(
    session: AsyncSession, caller: Caller, transfer_id: int, shipped: Sequence[MovementRecord]
) -> None:
    """Keep on each line the unit cost its TRANSFER_OUT left the source at (one statement)."""
    await session.execute(
        _REMEMBER,
        {
            "tenant": caller.tenant_id,
            "transfer": transfer_id,
            "products": [m.product_id for m in shipped],
            "costs": [m.unit_cost for m in shipped],
        },
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
