"""stockChanged and lowStock: filters, replay after a sequence, then live, with no seam.

The subscriber is registered with the broker *before* the replay: registration
returns T, the last sequence the broker had already read, and every event
after T will be queued for it. The replay then reads (afterSequence, T] from
the table, and the live queue drops anything at or below the last sequence
already yielded. No event between the two can be missed or sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import GraphQLField
from sqlalchemy import select

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Product
from db.session import Database
from domain.stock.records import LevelRecord, MovementRecord
from schema.live import LowStockEvent, StockChangeEvent
from schema.relay import decode_ids
from schema.stock import StockLevel, StockMovement
from subscriptions.broker import Broker, LiveEvent, Subscriber


class SlowConsumer(Exception):
    """The subscriber fell a whole queue behind; it must resume from ``last_sequence``."""

    def __init__(self, last_sequence: int, queue_size: int) -> None:
        super().__init__(
            f"subscriber fell more than {queue_size} events behind; "
            f"subscribe again with afterSequence: {last_sequence}"
        )
        self.last_sequence = last_sequence


def stock_changed_root(event: LiveEvent) -> StockChangeEvent:
    level = LevelRecord.from_json(event.payload["level"])
    movement = MovementRecord.from_json(event.payload["movement"])
    return StockChangeEvent(
        sequence=event.sequence,  # type: ignore[arg-type]
        stock_level=StockLevel.from_row(level),
        movement=StockMovement.from_row(movement),
    )


def low_stock_root(event: LiveEvent) -> LowStockEvent:
    level = LevelRecord.from_json(event.payload["level"])
    return LowStockEvent(
        sequence=event.sequence,  # type: ignore[arg-type]
        stock_level=StockLevel.from_row(level),
        reorder_point=int(level.reorder_point or 0),
        available=level.available,
    )


class Refused(Exception):
    """A subscription that cannot start (e.g. NOT_FOUND, FORBIDDEN); ``code`` is stable."""

    def __init__(self, code: str, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {"code": code, **extensions}


# (broker, database, caller, the field's arguments by GraphQL name, declared permissions)
Source = Callable[
    [Broker, Database, Caller, dict[str, Any], tuple[Permission, ...]],
    AsyncIterator[list[LiveEvent]],
]


@dataclass(frozen=True, slots=True)
class LiveField:
    """What a Subscription field streams: the outbox event type and its root value.

    Declared on the field's resolver with ``streams``; who may read it is declared on
    the field itself (``auth.fields.permissions_of``). A field whose events are not
    outbox rows names its own ``source`` of batches (it may raise ``Refused`` before
    its first batch); it ends when the source does.
    """

    event_type: str
    root: Callable[[LiveEvent], Any]
    source: Source | None = None


_LIVE = "__stockgraph_live__"
R = TypeVar("R", bound=Callable[..., Any])


def streams(
    event_type: str, root: Callable[[LiveEvent], Any], source: Source | None = None
) -> Callable[[R], R]:
    """Declares on a subscription resolver which events it streams, and as what."""

    def declare(resolver: R) -> R:
        setattr(resolver, _LIVE, LiveField(event_type, root, source))
        return resolver

    return declare


def live_field(field: GraphQLField) -> LiveField | None:
    """What a Subscription field streams, read from its resolver; None if it is not live."""
    definition = (field.extensions or {}).get("strawberry-definition")
    resolver = getattr(definition, "base_resolver", None)
    found = getattr(getattr(resolver, "wrapped_func", None), _LIVE, None)
    return found if isinstance(found, LiveField) else None


async def make_subscriber(
    db: Database,
    caller: Caller,
    event_type: str,
    location_ids: Sequence[str] | None,
    skus: Sequence[str] | None,
    queue_size: int,
    permissions: tuple[Permission, ...],
    on_overflow: Callable[[], None] = lambda: None,
) -> Subscriber:
    """Resolve the filter once: IDs that are not the caller's simply match nothing;
    a string that is not a Location ID at all is INVALID (``schema.relay.decode_ids``).

    ``permissions`` are the ones the subscription field declares; every event is
    checked against them again before it is queued.
    """
    locations = None
    if location_ids is not None:
        locations = frozenset(decode_ids(location_ids, "Location", "locationIds") or ())
    products = None
    if skus is not None:
        async with db.tenant_transaction(caller.tenant_id) as session:
            rows = await session.execute(
                select(Product.id).where(
                    Product.tenant_id == caller.tenant_id, Product.sku.in_(list(skus))
                )
            )
            products = frozenset(rows.scalars())
    return Subscriber(
        caller,
        event_type,
        locations,
        products,
        asyncio.Queue(queue_size),
        on_overflow,
        permissions=permissions,
    )


async def events(
    broker: Broker, subscriber: Subscriber, after_sequence: int | None
) -> AsyncIterator[LiveEvent]:
    """Replay after ``after_sequence`` (if given), then live events, in sequence order."""
    async for batch in batches(broker, subscriber, after_sequence):
        for event in batch:
            yield event


async def batches(
    broker: Broker, subscriber: Subscriber, after_sequence: int | None, most: int = 200
) -> AsyncIterator[list[LiveEvent]]:
    """The same stream in batches: whatever is already waiting, up to ``most`` at a time."""
    tail = await broker.register(subscriber)
    tenant_id = subscriber.caller.tenant_id
    last = tail
    sent = after_sequence if after_sequence is not None else tail
    try:
        if after_sequence is not None:
            cursor = after_sequence
            while cursor < tail:
                page = await broker.read(tenant_id, cursor, tail)
                if not page:
                    break
                wanted = [e for e in page if subscriber.wants(e)]
                if wanted:
                    yield wanted
                    sent = wanted[-1].sequence
                cursor = page[-1].sequence
            last = max(tail, after_sequence)
        queue = subscriber.queue
        while True:
            if subscriber.overflowed:
                raise SlowConsumer(sent, queue.maxsize)
            batch = [await queue.get()]
            while len(batch) < most and not queue.empty():
                batch.append(queue.get_nowait())
            if subscriber.overflowed:
                raise SlowConsumer(sent, queue.maxsize)
            fresh = [e for e in batch if e.sequence > last]
            if not fresh:
                continue
            last = fresh[-1].sequence
            yield fresh
            sent = fresh[-1].sequence
    finally:
        broker.unregister(subscriber)
