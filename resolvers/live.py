"""The Subscription root's resolvers (the root itself is in ``resolvers.roots``).

Over graphql-transport-ws, api/ws.py serves these fields with render-once fan-out;
these resolvers serve the other transports with the same stream. Each reads the
permissions its field declares (in ``resolvers.roots``) for the broker's per-event
check."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from auth.fields import permissions_of
from domain.purchasing.repository import PURCHASE_ORDER_UPDATED
from domain.stock.ledger import STOCK_CHANGED, STOCK_LOW
from domain.transfers.repository import TRANSFER_UPDATED
from schema.jobs import JobProgressEvent
from schema.live import LowStockEvent, StockChangeEvent
from schema.purchasing import PurchaseOrderUpdatedEvent
from schema.scalars import BigInt
from schema.transfers import TransferUpdatedEvent
from subscriptions import jobs as job_live
from subscriptions import stock as live
from subscriptions.purchasing import purchase_order_updated_root
from subscriptions.transfers import transfer_updated_root


@live.streams(STOCK_CHANGED, live.stock_changed_root)
async def stock_changed(
    info: Info,
    location_ids: Annotated[
        list[strawberry.ID] | None,
        strawberry.argument(
            description="Only changes at these locations (Location IDs); omit for all."
        ),
    ] = None,
    skus: Annotated[
        list[str] | None,
        strawberry.argument(description="Only changes of these SKUs; omit for all."),
    ] = None,
    after_sequence: Annotated[
        BigInt | None,
        strawberry.argument(
            description="First replay every change with a sequence above this one, in "
            "order, then go live: nothing missed, nothing twice."
        ),
    ] = None,
) -> AsyncGenerator[StockChangeEvent, None]:
    ctx = info.context
    subscriber = await live.make_subscriber(
        ctx.db,
        ctx.viewer,
        STOCK_CHANGED,
        location_ids,
        skus,
        ctx.queue_size,
        permissions_of(info._field),
    )
    async for event in live.events(ctx.broker, subscriber, after_sequence):
        yield live.stock_changed_root(event)


@live.streams(STOCK_LOW, live.low_stock_root)
async def low_stock(
    info: Info,
    location_ids: Annotated[
        list[strawberry.ID] | None,
        strawberry.argument(
            description="Only levels at these locations (Location IDs); omit for all."
        ),
    ] = None,
) -> AsyncGenerator[LowStockEvent, None]:
    ctx = info.context
    subscriber = await live.make_subscriber(
        ctx.db,
        ctx.viewer,
        STOCK_LOW,
        location_ids,
        None,
        ctx.queue_size,
        permissions_of(info._field),
    )
    async for event in live.events(ctx.broker, subscriber, None):
        yield live.low_stock_root(event)


@live.streams(TRANSFER_UPDATED, transfer_updated_root)
async def transfer_updated(
    info: Info,
    location_ids: Annotated[
        list[strawberry.ID] | None,
        strawberry.argument(
            description="Only transfers from or to these locations (Location IDs); omit for all."
        ),
    ] = None,
    after_sequence: Annotated[
        BigInt | None,
        strawberry.argument(
            description="First replay every change with a sequence above this one, then go "
            "live; a reconnecting client passes the last sequence it saw."
        ),
    ] = None,
) -> AsyncGenerator[TransferUpdatedEvent, None]:
    ctx = info.context
    subscriber = await live.make_subscriber(
        ctx.db,
        ctx.viewer,
        TRANSFER_UPDATED,
        location_ids,
        None,
        ctx.queue_size,
        permissions_of(info._field),
    )
    async for event in live.events(ctx.broker, subscriber, after_sequence):
        yield transfer_updated_root(event)


@live.streams(PURCHASE_ORDER_UPDATED, purchase_order_updated_root)
async def purchase_order_updated(
    info: Info,
    location_ids: Annotated[
        list[strawberry.ID] | None,
        strawberry.argument(
            description="Only orders for these locations (Location IDs); omit for all."
        ),
    ] = None,
    after_sequence: Annotated[
        BigInt | None,
        strawberry.argument(
            description="First replay every change with a sequence above this one, then go "
            "live; a reconnecting client passes the last sequence it saw."
        ),
    ] = None,
) -> AsyncGenerator[PurchaseOrderUpdatedEvent, None]:
    ctx = info.context
    subscriber = await live.make_subscriber(
        ctx.db,
        ctx.viewer,
        PURCHASE_ORDER_UPDATED,
        location_ids,
        None,
        ctx.queue_size,
        permissions_of(info._field),
    )
    async for event in live.events(ctx.broker, subscriber, after_sequence):
        yield purchase_order_updated_root(event)


@live.streams(job_live.JOB_PROGRESS, job_live.job_progress_root, job_live.source)
async def job_progress(
    info: Info,
    job_id: Annotated[
        strawberry.ID,
        strawberry.argument(
            description="A ReportJob's or an ImportJob's global ID; another tenant's is NOT_FOUND."
        ),
    ],
) -> AsyncGenerator[JobProgressEvent, None]:
    ctx = info.context
    try:
        stream = job_live.batches(
            ctx.broker, ctx.db, ctx.viewer, str(job_id), permissions_of(info._field)
        )
        async for batch in stream:
            for event in batch:
                yield job_live.job_progress_root(event)
    except live.Refused as refused:
        raise GraphQLError(refused.message, extensions=refused.extensions) from None
