"""``node(id:)`` and ``nodes(ids:)``: one loader per type, tenant-scoped.

An ID of another tenant, of an unknown type, or malformed, resolves to null,
exactly like an ID that never existed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from auth.permissions import Permission
from domain import ids
from resolvers import webhooks as webhooks_r
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
from schema.relay import Node
from schema.reports import ReportJob
from schema.segments import Segment
from schema.stock import StockLevel, StockMovement
from schema.stocktakes import Stocktake
from schema.transfers import Transfer
from schema.webhooks import WebhookDelivery, WebhookEndpoint

MAX_IDS = 250

# type name -> (loader attribute, permission needed, row -> type)
KINDS: dict[str, tuple[str, Permission | None, Callable[[Any], Node]]] = {
    "Location": ("location_by_id", None, Location.from_row),
    "Product": ("product_by_id", None, Product.from_row),
    "Member": ("member_by_id", Permission.MEMBERS_READ, Member.from_row),
    "Segment": ("segment_by_id", Permission.MEMBERS_READ, Segment.from_row),
    "Coupon": ("coupon_by_id", Permission.MEMBERS_READ, Coupon.from_row),
    "OfferRule": ("offer_rule_by_id", Permission.MEMBERS_READ, OfferRule.from_row),
    "StockLevel": ("level_by_id", Permission.STOCK_READ, StockLevel.from_row),
    "StockMovement": ("movement_by_id", Permission.STOCK_READ, StockMovement.from_row),
    "Stocktake": ("stocktake_by_id", Permission.STOCK_READ, Stocktake.from_row),
    "AuditEvent": ("audit_by_sequence", Permission.AUDIT_READ, AuditEvent.from_row),
    "Transfer": ("transfer_by_id", Permission.TRANSFERS_READ, Transfer.from_row),
    "ApprovalRequest": (
        "approval_request_by_id",
        Permission.TRANSFERS_READ,
        ApprovalRequest.from_row,
    ),
    "WebhookEndpoint": ("webhook_endpoint_by_id", None, WebhookEndpoint.from_row),
    "WebhookDelivery": ("webhook_delivery_by_id", None, WebhookDelivery.from_row),
    "Notification": ("notification_by_id", Permission.ADMIN, Notification.from_row),
    "Period": ("period_by_id", Permission.STOCK_READ, Period.from_row),
    "ImportJob": ("import_job_by_id", Permission.ADMIN, ImportJob.from_row),
    "ReportJob": ("report_job_by_id", Permission.COSTS_READ, ReportJob.from_row),
}

# types numbered per tenant, whose IDs carry the tenant
SCOPED = frozenset({"AuditEvent"})

# type name -> a check on the loaded row, for types visible to fewer than the whole tenant
GUARDS: dict[str, Callable[[Info, Any], Awaitable[bool]]] = {
    "WebhookEndpoint": webhooks_r.endpoint_visible,
    "WebhookDelivery": webhooks_r.delivery_visible,
}


async def _resolve(info: Info, global_id: strawberry.ID) -> Node | None:
    parsed = ids.decode(str(global_id))
    if parsed is None or parsed[0] not in KINDS:
        return None
    loader_name, permission, to_node = KINDS[parsed[0]]
    if permission is not None and not info.context.viewer.has(permission):
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
    return to_node(row)


async def node(info: Info, id: strawberry.ID) -> Node | None:
    return await _resolve(info, id)


async def nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    if len(ids) > MAX_IDS:
        raise GraphQLError(f"at most {MAX_IDS} ids", extensions={"code": "INVALID"})
    return list(await asyncio.gather(*(_resolve(info, i) for i in ids)))
