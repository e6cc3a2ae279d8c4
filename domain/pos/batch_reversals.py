"""Returns and voids sent inside a ``syncSales`` batch.

Each runs in a savepoint of the batch and answers ACCEPTED, DUPLICATE or
REJECTED. A batch reverses only sales made at its device's location; the synced
sales it names are locked, with their stock levels, before the batch posts
anything, so the batch keeps the lock order device → claims → sales → levels →
counter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from domain.errors import DomainError, Forbidden
from domain.pos.client_ids import canonical


@dataclass(slots=True)
class ReversalOutcome:
    client_id: str
    status: str  # ACCEPTED | DUPLICATE | REJECTED
    reversal: Any = None
    errors: list[DomainError] = field(default_factory=list)


_TARGETS = text(
    """
    SELECT p.client_sale_id, p.location_id, m.product_id FROM pos_sales p
    JOIN stock_movements m ON m.tenant_id = p.tenant_id AND m.sale_id = p.sale_id
     AND m.kind = 'SALE'
    WHERE p.tenant_id = :t AND p.client_sale_id = ANY(CAST(:clients AS text[]))
    ORDER BY p.id
    FOR UPDATE OF p
    """
)


async def reversal_targets(
    session: AsyncSession, caller: Caller, location_id: int, cmd: Any
) -> list[Any]:
    """The synced sales the batch's returns and voids name, locked, with their products."""
    clients = {
        c
        for c in (
            *(canonical(r.client_sale_id) for r in cmd.returns),
            *(canonical(v.client_sale_id) for v in cmd.voids),
        )
        if c is not None
    }
    if not clients:
        return []
    rows = await session.execute(_TARGETS, {"t": caller.tenant_id, "clients": sorted(clients)})
    return list(rows.all())


async def reverse(
    session: AsyncSession,
    caller: Caller,
    device: Any,
    client_id: str,
    client_sale_id: str,
    here: set[str],
    apply: Any,
    path: list[str],
) -> ReversalOutcome:
    """One return or void of a batch, in a savepoint: only of sales at the device's location."""
    shown = canonical(client_id) or client_id[:64]
    try:
        target = canonical(client_sale_id)
        if target is not None and target not in here:
            found = await session.execute(
                text("SELECT 1 FROM pos_sales WHERE tenant_id = :t AND client_sale_id = :c"),
                {"t": caller.tenant_id, "c": target},
            )
            if found.first() is not None:
                raise Forbidden(
                    "that sale was not made at this device's location", ["clientSaleId"]
                )
        async with session.begin_nested():
            result = await apply()
    except DomainError as error:
        if error.field is not None:
            error.field = [*path, *error.field]
        return ReversalOutcome(client_id=shown, status="REJECTED", errors=[error])
    return ReversalOutcome(
        client_id=result.reversal.client_id, status=result.status, reversal=result.reversal
    )
