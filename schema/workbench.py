"""The workbench: what a store manager opens first, for one location."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from auth.fields import requires
from auth.permissions import Permission
from domain.reconciliation import service as reconciliation
from domain.replenishment import alerts
from schema.alerts import ReplenishmentAlert
from schema.approvals import ApprovalRequest
from schema.locations import Location
from schema.reconciliation import ReconciliationLine
from schema.stock import StockLevel, StockMovement, load_location
from schema.stocktakes import CountDue, Stocktake
from schema.transfers import Transfer

TRANSFERS_READ = [requires(Permission.TRANSFERS_READ)]


@strawberry.type(description="One location's to-do list; each list holds at most 50 items.")
class Workbench:
    low_stock: list[StockLevel] = strawberry.field(
        description="SKUs whose available quantity is at or below the reorder point."
    )
    recent_oversells: list[StockMovement] = strawberry.field(
        description="Sales of the last 7 days that took stock below zero, newest first."
    )
    counts_due: list[CountDue] = strawberry.field(
        description="Cycle counts due under the location's schedule, per rule."
    )
    open_stocktakes: list[Stocktake] = strawberry.field(description="Stocktakes still OPEN here.")
    location_pk: strawberry.Private[int]
    _arriving: strawberry.Private[list[Transfer]]
    _leaving: strawberry.Private[list[Transfer]]
    _approvals: strawberry.Private[list[ApprovalRequest]]

    @strawberry.field(description="The location.")
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field(
        description="Tenders of this location that current settlement runs did not match."
    )
    async def unreconciled(self, info: Info) -> list[ReconciliationLine]:
        caller = info.context.viewer
        async with info.context.db.tenant_transaction(caller.tenant_id) as session:
            page = await reconciliation.list_lines(
                session,
                caller,
                0,
                limit=50,
                after=None,
                location_id=self.location_pk,
                unmatched_current=True,
            )
        return [ReconciliationLine.from_row(r) for r in page.rows]

    @strawberry.field(
        description="Transfers to this location not yet received or cancelled. Needs "
        "transfers:read.",
        permission_classes=TRANSFERS_READ,
    )
    def transfers_arriving(self) -> list[Transfer] | None:
        return self._arriving

    @strawberry.field(
        description="Transfers from this location not yet received or cancelled. Needs "
        "transfers:read.",
        permission_classes=TRANSFERS_READ,
    )
    def transfers_leaving(self) -> list[Transfer] | None:
        return self._leaving

    @strawberry.field(
        description="Pending approvals of transfers touching this location that the "
        "caller's rank may decide (empty without transfers:approve). Needs "
        "transfers:read.",
        permission_classes=TRANSFERS_READ,
    )
    def approvals_waiting(self) -> list[ApprovalRequest] | None:
        return self._approvals

    @strawberry.field(description="Replenishment alerts here, newest first (at most 50).")
    async def replenishment_alerts(self, info: Info) -> list[ReplenishmentAlert]:
        caller = info.context.viewer
        async with info.context.db.tenant_transaction(caller.tenant_id) as session:
            page = await alerts.list_alerts(
                session, caller, location_id=self.location_pk, limit=50, after=None
            )
        return [ReplenishmentAlert.from_row(r) for r in page.rows]
