"""The Subscription root. Over graphql-transport-ws, api/ws.py serves these fields with
render-once fan-out; these resolvers serve the other transports with the same stream.

Each field declares its permission here, once; api/ws.py and the broker's per-event
check read it from the field."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from auth.fields import permissions_of, requires
from auth.permissions import Permission
from domain.stock.ledger import STOCK_CHANGED, STOCK_LOW
from domain.transfers.repository import TRANSFER_UPDATED
from schema.live import LowStockEvent, StockChangeEvent
from schema.scalars import BigInt
from schema.transfers import TransferUpdatedEvent
from subscriptions import stock as live
from subscriptions.transfers import transfer_updated_root


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[requires(Permission.STOCK_READ)],
        description="Committed stock changes of the tenant in sequence order. With "
        "afterSequence, every matching change after it is replayed first, then live ones "
        "follow: reconnecting with the last sequence seen misses nothing and repeats nothing.",
    )
    async def stock_changed(
        self,
        info: Info,
        location_ids: list[strawberry.ID] | None = None,
        skus: list[str] | None = None,
        after_sequence: BigInt | None = None,
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

    @strawberry.subscription(
        permission_classes=[requires(Permission.STOCK_READ)],
        description="Available stock fell to or below the reorder point: once per crossing.",
    )
    async def low_stock(
        self, info: Info, location_ids: list[strawberry.ID] | None = None
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

    @strawberry.subscription(
        permission_classes=[requires(Permission.TRANSFERS_READ)],
        description="Committed transfer changes of the tenant in sequence order, for transfers "
        "from or to any of locationIds; afterSequence replays first, as for stockChanged.",
    )
    async def transfer_updated(
        self,
        info: Info,
        location_ids: list[strawberry.ID] | None = None,
        after_sequence: BigInt | None = None,
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
