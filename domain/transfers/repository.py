"""Reading, locking and writing transfer rows, and their outbox events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import Event, Transfer, TransferLine
from domain.errors import NotFound
from domain.transfers.records import TransferRecord

T = cast(Table, Transfer.__table__)
L = cast(Table, TransferLine.__table__)

TRANSFER_UPDATED = "transfer.updated"

_TAKE_SEQUENCE = text(
    """
    UPDATE tenant_counters SET last_sequence = last_sequence + 1
    WHERE tenant_id = :tenant
    RETURNING last_sequence
    """
)


def reference(transfer_id: int) -> str:
    """What the transfer's movements carry in ``reference``."""
    return f"TRF-{transfer_id}"


async def load(
    session: AsyncSession, caller: Caller, transfer_id: int | None, *, lock: bool = False
) -> TransferRecord:
    """The caller's transfer (row-locked when ``lock``), or NOT_FOUND."""
    row = None
    if transfer_id is not None:
        stmt = select(T).where(T.c.tenant_id == caller.tenant_id, T.c.id == transfer_id)
        if lock:
            stmt = stmt.with_for_update()
        row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("no such transfer", ["id"])
    lines = (
        await session.execute(
            select(L)
            .where(L.c.tenant_id == caller.tenant_id, L.c.transfer_id == row.id)
            .order_by(L.c.position)
        )
    ).all()
    return TransferRecord.from_rows(row, list(lines))


async def set_status(
    session: AsyncSession, caller: Caller, transfer_id: int, **values: Any
) -> None:
    await session.execute(
        update(T)
        .where(T.c.tenant_id == caller.tenant_id, T.c.id == transfer_id)
        .values(version=T.c.version + 1, updated_at=datetime.now(UTC), **values)
    )


async def set_line(
    session: AsyncSession, caller: Caller, transfer_id: int, product_id: int, **values: Any
) -> None:
    await session.execute(
        update(L)
        .where(
            L.c.tenant_id == caller.tenant_id,
            L.c.transfer_id == transfer_id,
            L.c.product_id == product_id,
        )
        .values(**values)
    )


async def publish(
    session: AsyncSession, caller: Caller, transfer: TransferRecord, action: str
) -> int:
    """One ``transfer.updated`` outbox event, numbered from the tenant counter (taken last)."""
    sequence = int(
        (await session.execute(_TAKE_SEQUENCE, {"tenant": caller.tenant_id})).scalar_one()
    )
    await session.execute(
        insert(Event),
        [
            {
                "tenant_id": caller.tenant_id,
                "sequence": sequence,
                "type": TRANSFER_UPDATED,
                "payload": {
                    "action": action,
                    "locationIds": [transfer.from_location_id, transfer.to_location_id],
                    "transfer": transfer.to_json(),
                },
            }
        ],
    )
    return sequence
