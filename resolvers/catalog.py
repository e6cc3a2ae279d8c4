"""Locations and products."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.catalog import queries
from domain.pagination import page_size
from schema.catalog import Product
from schema.locations import Location, LocationKind
from schema.relay import After, Connection, First, connection, text_cursor


async def location(
    info: Info,
    code: Annotated[
        str, strawberry.argument(description="The location's code, as shown in Location.code.")
    ],
) -> Location | None:
    """Through the request's loader (the reader): one lookup per code per request."""
    row = await info.context.loaders.location_by_code.load(code)
    return Location.from_row(row) if row is not None else None


async def locations(
    info: Info,
    first: First = None,
    after: After = None,
    kind: Annotated[
        LocationKind | None, strawberry.argument(description="Only locations of this kind.")
    ] = None,
) -> Connection[Location]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = text_cursor(after)
    kind_value = kind.value if kind else None
    db = info.context.db
    async with db.tenant_transaction(caller.tenant_id) as session:
        page = await queries.list_locations(
            session, caller, limit=limit, after=cursor, kind=kind_value
        )

    async def count() -> int:
        async with db.tenant_transaction(caller.tenant_id) as s:
            return await queries.count_locations(s, caller, kind_value)

    return connection(page, Location.from_row, lambda r: r.code, count)


async def product(
    info: Info,
    sku: Annotated[
        str, strawberry.argument(description="The SKU, exactly as stored (case-sensitive).")
    ],
) -> Product | None:
    """Through the request's loader (the reader): one lookup per SKU per request."""
    row = await info.context.loaders.product_by_sku.load(sku)
    return Product.from_row(row) if row is not None else None


async def products(
    info: Info,
    first: First = None,
    after: After = None,
    search: Annotated[
        str | None,
        strawberry.argument(
            description="Only products whose SKU or name contains this text (SKU and English "
            "name ignore case) or whose barcode equals it."
        ),
    ] = None,
) -> Connection[Product]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = text_cursor(after)
    db = info.context.db
    async with db.tenant_transaction(caller.tenant_id) as session:
        page = await queries.list_products(
            session, caller, limit=limit, after=cursor, search=search
        )

    async def count() -> int:
        async with db.tenant_transaction(caller.tenant_id) as s:
            return await queries.count_products(s, caller, search)

    return connection(page, Product.from_row, lambda r: r.sku, count)
