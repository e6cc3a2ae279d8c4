"""``workbench(locationId)``: each section one domain query, in one read transaction."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from auth.permissions import Permission
from domain.stocktakes import schedule
from domain.workbench import queries
from resolvers.stocktakes import count_due
from schema.approvals import ApprovalRequest
from schema.relay import decode_id
from schema.stock import StockLevel, StockMovement
from schema.stocktakes import Stocktake
from schema.transfers import Transfer
from schema.workbench import Workbench


async def workbench(
    info: Info,
    location_id: Annotated[
        strawberry.ID, strawberry.argument(description="The location's global ID.")
    ],
) -> Workbench | None:
    """Null for an unknown (or another tenant's) location."""
    pk = decode_id(location_id, "Location", ["locationId"])
    if await info.context.loaders.location_by_id.load(pk) is None:
        return None
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        low = await queries.low_stock(session, caller, pk)
        oversells = await queries.recent_oversells(session, caller, pk)
        due = await schedule.counts_due(session, caller, pk)
        open_counts = await queries.open_stocktakes(session, caller, pk)
        arriving, leaving, approvals = [], [], []
        if caller.has(Permission.TRANSFERS_READ):
            arriving = await queries.transfers(session, caller, pk, arriving=True)
            leaving = await queries.transfers(session, caller, pk, arriving=False)
            approvals = await queries.approvals_waiting(session, caller, pk)
    return Workbench(
        low_stock=[StockLevel.from_row(r) for r in low],
        recent_oversells=[StockMovement.from_row(r) for r in oversells],
        counts_due=[count_due(d) for d in due],
        open_stocktakes=[Stocktake.from_row(r) for r in open_counts],
        location_pk=pk,
        _arriving=[Transfer.from_row(r) for r in arriving],
        _leaving=[Transfer.from_row(r) for r in leaving],
        _approvals=[ApprovalRequest.from_row(r) for r in approvals],
    )
