"""``node(id:)`` and ``nodes(ids:)``: one loader per type, tenant-scoped.

An ID of another tenant, of an unknown type, or malformed, resolves to null,
exactly like an ID that never existed; so does the ID of a type the caller may not
see, as its class declares it (``auth.fields.visible_with``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from auth.fields import type_permissions
from domain import ids
from resolvers import webhooks as webhooks_r
from schema.alerts import JobRun, ReplenishmentAlert
from schema.approvals import ApprovalRequest
from schema.audit import AuditEvent
from schema.catalog import Product
from schema.coupons import Coupon
from schema.imports import ImportJob
from schema.locations import Location
from schema.members import Member
from schema.notifications import Notification
from schema.offers import OfferRule
from schema.periods import Period
from schema.pos import PosDevice, SaleReversal
from schema.purchasing import PurchaseOrder
from schema.reconciliation import ReconciliationLine, ReconciliationRun
from schema.relay import Node, invalid_id
from schema.reports import ReportJob
from schema.segments import Segment
from schema.stock import StockLevel, StockMovement
from schema.stocktakes import Stocktake
from schema.suppliers import Supplier
from schema.transfers import Transfer
from schema.webhooks import WebhookDelivery, WebhookEndpoint

MAX_IDS = 250

# type name -> (loader attribute, type); who may see each type is declared on the type
KINDS: dict[str, tuple[str, type[Any]]] = {
    "Location": ("location_by_id", Location),
    "Product": ("product_by_id", Product),
    "Member": ("member_by_id", Member),
    "Segment": ("segment_by_id", Segment),
    "Coupon": ("coupon_by_id", Coupon),
    "OfferRule": ("offer_rule_by_id", OfferRule),
    "StockLevel": ("level_by_id", StockLevel),
    "StockMovement": ("movement_by_id", StockMovement),
    "Stocktake": ("stocktake_by_id", Stocktake),
    "AuditEvent": ("audit_by_sequence", AuditEvent),
    "Transfer": ("transfer_by_id", Transfer),
    "ApprovalRequest": ("approval_request_by_id", ApprovalRequest),
    "WebhookEndpoint": ("webhook_endpoint_by_id", WebhookEndpoint),
    "WebhookDelivery": ("webhook_delivery_by_id", WebhookDelivery),
    "Notification": ("notification_by_id", Notification),
    "Supplier": ("supplier_by_id", Supplier),
    "PurchaseOrder": ("purchase_order_by_id", PurchaseOrder),
    "JobRun": ("job_run_by_id", JobRun),
    "ReplenishmentAlert": ("alert_by_id", ReplenishmentAlert),
    "PosDevice": ("pos_device_by_id", PosDevice),
    "SaleReversal": ("sale_reversal_by_id", SaleReversal),
    "ReconciliationRun": ("reconciliation_run_by_id", ReconciliationRun),
    "ReconciliationLine": ("reconciliation_line_by_id", ReconciliationLine),
    "Period": ("period_by_id", Period),
    "ImportJob": ("import_job_by_id", ImportJob),
    "ReportJob": ("report_job_by_id", ReportJob),
}

# types numbered per tenant, whose IDs carry the tenant
SCOPED = frozenset({"AuditEvent"})

# type name -> a check on the loaded row, for types visible to fewer than the whole tenant
GUARDS: dict[str, Callable[[Info, Any], Awaitable[bool]]] = {
    "WebhookEndpoint": webhooks_r.endpoint_visible,
    "WebhookDelivery": webhooks_r.delivery_visible,
}


async def _resolve(info: Info, global_id: strawberry.ID, field: list[str]) -> Node | None:
    """The node behind an ID, or None; a string that is no ID at all is INVALID."""
    parsed = ids.decode(str(global_id))
    if parsed is None:
        raise invalid_id(global_id, "an ID", field)
    if parsed[0] not in KINDS:
        return None
    loader_name, kind = KINDS[parsed[0]]
    viewer = info.context.viewer
    if not all(viewer.has(p) for p in type_permissions(kind)):
        return None
    if parsed[0] in SCOPED:
        scoped = ids.decode_scoped(str(global_id), parsed[0])
        pk = scoped[1] if scoped and scoped[0] == info.context.viewer.tenant_id else None
    else:
        pk = ids.decode_int(str(global_id), parsed[0])
    if pk is None:
        return None
    row = await getattr(info.context.loaders, loader_name).load(pk)
    if row is None or (parsed[0] in GUARDS and not await GUARDS[parsed[0]](info, row)):
        return None
    node: Node = kind.from_row(row)
    return node


async def node(
    info: Info,
    id: Annotated[
        strawberry.ID, strawberry.argument(description="A global ID from any object's id field.")
    ],
) -> Node | None:
    return await _resolve(info, id, ["id"])


async def nodes(
    info: Info,
    ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(
            description="Global IDs, at most 250; each resolves to its object or null, in "
            "the same order."
        ),
    ],
) -> list[Node | None]:
    if len(ids) > MAX_IDS:
        raise GraphQLError(f"at most {MAX_IDS} ids", extensions={"code": "INVALID"})
    return list(
        await asyncio.gather(*(_resolve(info, v, ["ids", str(i)]) for i, v in enumerate(ids)))
    )
