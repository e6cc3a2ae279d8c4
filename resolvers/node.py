"""``node(id:)`` and ``nodes(ids:)``: one loader per type, tenant-scoped.

An ID of another tenant, of an unknown type, or malformed, resolves to null,
exactly like an ID that never existed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from auth.permissions import Permission
from domain import ids
from schema.audit import AuditEvent
from schema.catalog import Product
from schema.locations import Location
from schema.relay import Node
from schema.stock import StockLevel, StockMovement

MAX_IDS = 250

# type name -> (loader attribute, permission needed, row -> type)
KINDS: dict[str, tuple[str, Permission | None, Callable[[Any], Node]]] = {
    "Location": ("location_by_id", None, Location.from_row),
    "Product": ("product_by_id", None, Product.from_row),
    "StockLevel": ("level_by_id", Permission.STOCK_READ, StockLevel.from_row),
    "StockMovement": ("movement_by_id", Permission.STOCK_READ, StockMovement.from_row),
    "AuditEvent": ("audit_by_sequence", Permission.AUDIT_READ, AuditEvent.from_row),
}


async def _resolve(info: Info, global_id: strawberry.ID) -> Node | None:
    parsed = ids.decode(str(global_id))
    if parsed is None or parsed[0] not in KINDS:
        return None
    loader_name, permission, to_node = KINDS[parsed[0]]
    if permission is not None and not info.context.viewer.has(permission):
        return None
    pk = ids.decode_int(str(global_id), parsed[0])
    if pk is None:
        return None
    row = await getattr(info.context.loaders, loader_name).load(pk)
    return to_node(row) if row is not None else None


async def node(info: Info, id: strawberry.ID) -> Node | None:
    return await _resolve(info, id)


async def nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    if len(ids) > MAX_IDS:
        raise GraphQLError(f"at most {MAX_IDS} ids", extensions={"code": "INVALID"})
    return list(await asyncio.gather(*(_resolve(info, i) for i in ids)))
