"""Locations and products."""

from __future__ import annotations

from strawberry.types import Info

from domain.catalog import queries
from domain.pagination import page_size
from schema.catalog import Product
from schema.locations import Location, LocationKind
from schema.relay import Connection, connection, text_cursor


async def location(info: Info, code: str) -> Location | None:
    """Through the request's loader (the reader): one lookup per code per request."""
    row = await info.context.loaders.location_by_code.load(code)
    return Location.from_row(row) if row is not None else None


async def locations(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    kind: LocationKind | None = None,
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


async def product(info: Info, sku: str) -> Product | None:
    """Through the request's loader (the reader): one lookup per SKU per request."""
    row = await info.context.loaders.product_by_sku.load(sku)
    return Product.from_row(row) if row is not None else None


async def products(
    info: Info, first: int | None = None, after: str | None = None, search: str | None = None
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
