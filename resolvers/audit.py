"""The audit trail."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain import ids
from domain.audit import queries
from domain.pagination import page_size
from schema.audit import AuditEvent
from schema.relay import After, Connection, First, connection, int_cursor, invalid_id
from schema.scalars import BigInt


async def audit_events(
    info: Info,
    first: First = None,
    after: After = None,
    entity_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only events about this object (its global ID)."),
    ] = None,
    after_sequence: Annotated[
        BigInt | None,
        strawberry.argument(
            description="Only events with a sequence above this one; after: wins when both "
            "are given."
        ),
    ] = None,
) -> Connection[AuditEvent]:
    """Events in chain order; `entityId` is the global ID of the thing changed."""
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    start = cursor if cursor is not None else after_sequence
    target = str(entity_id) if entity_id is not None else None
    if target is not None and ids.decode(target) is None:
        raise invalid_id(target, "an ID", ["entityId"])
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await queries.list_events(
            session, caller, limit=limit, after_sequence=start, target_id=target
        )

    async def count() -> int:
        async with info.context.db.tenant_transaction(caller.tenant_id) as s:
            return await queries.count_events(s, caller, target_id=target)

    return connection(page, AuditEvent.from_row, lambda r: r.sequence, count)
