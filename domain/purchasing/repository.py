"""Reading, locking and writing purchase-order rows, ``incoming`` and their outbox events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import Event, PurchaseOrder, PurchaseOrderLine
from domain.errors import NotFound
from domain.purchasing.records import PurchaseOrderRecord

PO = cast(Table, PurchaseOrder.__table__)
POL = cast(Table, PurchaseOrderLine.__table__)

PURCHASE_ORDER_UPDATED = "purchase_order.updated"

_TAKE_SEQUENCE = text(
    """
    UPDATE tenant_counters SET last_sequence = last_sequence + 1
    WHERE tenant_id = :tenant
    RETURNING last_sequence
    """
)

# Moves only ``incoming``: never on hand, version or the ledger. Rows in (product)
# order, one location, so two writers lock them in the same order as post() does.
_MOVE_INCOMING = text(
    """
    INSERT INTO stock_levels (tenant_id, location_id, product_id, incoming)
    SELECT :tenant, :location, k.product_id, k.delta
    FROM unnest(CAST(:products AS bigint[]), CAST(:deltas AS integer[])) AS k(product_id, delta)
    ORDER BY k.product_id
    ON CONFLICT (tenant_id, location_id, product_id)
    DO UPDATE SET incoming = stock_levels.incoming + EXCLUDED.incoming
    """
)


def reference(order_id: int) -> str:
    """What the order's receipts carry in ``reference``."""
    return f"PO-{order_id}"


async def load(
    session: AsyncSession, caller: Caller, order_id: int | None, *, lock: bool = False
) -> PurchaseOrderRecord:
    """The caller's purchase order (row-locked when ``lock``), or NOT_FOUND."""
    row = None
    if order_id is not None:
        stmt = select(PO).where(PO.c.tenant_id == caller.tenant_id, PO.c.id == order_id)
        if lock:
            stmt = stmt.with_for_update()
        row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("no such purchase order", ["id"])
    lines = (
        await session.execute(
            select(POL)
            .where(POL.c.tenant_id == caller.tenant_id, POL.c.purchase_order_id == row.id)
            .order_by(POL.c.position)
        )
    ).all()
    return PurchaseOrderRecord.from_rows(row, list(lines))


async def set_status(session: AsyncSession, caller: Caller, order_id: int, **values: Any) -> None:
    await session.execute(
        update(PO)
        .where(PO.c.tenant_id == caller.tenant_id, PO.c.id == order_id)
        .values(version=PO.c.version + 1, updated_at=datetime.now(UTC), **values)
    )


async def set_received(
    session: AsyncSession, caller: Caller, order_id: int, received: Mapping[int, int]
) -> None:
    for product_id, value in received.items():
        await session.execute(
            update(POL)
            .where(
                POL.c.tenant_id == caller.tenant_id,
                POL.c.purchase_order_id == order_id,
                POL.c.product_id == product_id,
            )
            .values(received=value)
        )


async def move_incoming(
    session: AsyncSession, caller: Caller, location_id: int, deltas: Mapping[int, int]
) -> None:
    """Change the location's ``incoming`` per product (what open orders still bring)."""
    moves = sorted((p, d) for p, d in deltas.items() if d != 0)
    if not moves:
        return
    await session.execute(
        _MOVE_INCOMING,
        {
            "tenant": caller.tenant_id,
            "location": location_id,
            "products": [p for p, _ in moves],
            "deltas": [d for _, d in moves],
        },
    )


async def publish(
    session: AsyncSession, caller: Caller, order: PurchaseOrderRecord, action: str
) -> int:
    """One ``purchase_order.updated`` outbox event, numbered from the tenant counter (last)."""
    sequence = int(
        (await session.execute(_TAKE_SEQUENCE, {"tenant": caller.tenant_id})).scalar_one()
    )
    await session.execute(
        insert(Event),
        [
            {
                "tenant_id": caller.tenant_id,
                "sequence": sequence,
                "type": PURCHASE_ORDER_UPDATED,
                "payload": {
                    "action": action,
                    "locationIds": [order.location_id],
                    "purchaseOrder": order.to_json(),
                },
            }
        ],
    )
    return sequence
