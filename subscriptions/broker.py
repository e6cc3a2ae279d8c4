"""The process's event broker: one LISTEN connection, reads by sequence, fans out.

A NOTIFY (payload: the tenant id) is only a wake-up. The broker then reads the
tenant's new rows from the ``events`` table by sequence and offers each one to
the tenant's subscribers, so a lost notification costs delay, never an event:
the broker also polls every ``poll_interval`` and catches up after its LISTEN
connection comes back. Sequences are handed out in commit order (see
``domain.stock.ledger``), so "everything after the last sequence I read" is
exact.

Offering an event never blocks: each subscriber has a bounded queue, and a
subscriber that falls behind by a whole queue is dropped (its owner tells the
client to resume from its last sequence). Rendering happens later, in the
subscriber's sender, once per event per distinct selection (``render.py``).

The same connection listens on ``domain.progress.JOB_CHANNEL``, where a running
report or import names itself when its row has changed; ``watch_job`` hands out
an event that is set then (and after every reconnect), so a follower re-reads
the job's row at once instead of at its next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import text

from auth.caller import Caller
from auth.permissions import Permission
from db.session import Database, plain_url
from domain.progress import JOB_CHANNEL, JobKind, parse_payload

log = logging.getLogger("stockgraph.broker")

CHANNEL = "stockgraph_events"
BATCH = 500

_READ = text(
    "SELECT sequence, type, payload, created_at FROM events "
    "WHERE tenant_id = :t AND sequence > :after AND sequence <= :upto "
    "ORDER BY sequence LIMIT :limit"
)
_TIP = text("SELECT last_sequence FROM tenant_counters WHERE tenant_id = :t")


@dataclass(slots=True, eq=False)
class LiveEvent:
    """One outbox row, shared by every subscriber it is offered to."""

    tenant_id: int
    sequence: int
    type: str
    payload: dict[str, Any]
    location_id: int
    product_id: int
    rendered: dict[Any, asyncio.Future[str]] = field(default_factory=dict)
    # Every location the event concerns (a transfer: both ends); empty: just location_id.
    locations: tuple[int, ...] = ()

    @classmethod
    def from_row(cls, tenant_id: int, row: Any) -> LiveEvent:
        level = row.payload.get("level", {})
        return cls(
            tenant_id,
            row.sequence,
            row.type,
            row.payload,
            int(level.get("location_id", 0)),
            int(level.get("product_id", 0)),
            locations=tuple(int(x) for x in row.payload.get("locationIds", ())),
        )

    def at_any(self, location_ids: frozenset[int]) -> bool:
        return any(loc in location_ids for loc in self.locations or (self.location_id,))


@dataclass(slots=True, eq=False)
class Subscriber:
    """One subscription: what it wants, who asks, and where its events wait."""

    caller: Caller
    event_type: str
    location_ids: frozenset[int] | None
    product_ids: frozenset[int] | None
    queue: asyncio.Queue[LiveEvent]
    on_overflow: Callable[[], None]
    overflowed: bool = False
    # what the subscription field declares (auth.fields.permissions_of), re-checked per event
    permissions: tuple[Permission, ...] = ()

    def wants(self, event: LiveEvent) -> bool:
        """Tenant, permission and filter, checked for every event."""
        caller = self.caller
        return (
            event.type == self.event_type
            and event.tenant_id == caller.tenant_id
            and all(caller.has(p) for p in self.permissions)
            and (caller.expires_at is None or caller.expires_at > time.time())
            and (self.location_ids is None or event.at_any(self.location_ids))
            and (self.product_ids is None or event.product_id in self.product_ids)
        )

    def offer(self, event: LiveEvent) -> None:
        if self.overflowed or not self.wants(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.on_overflow()


@dataclass(slots=True, eq=False)
class TenantFeed:
    tenant_id: int
    last: int
    subscribers: set[Subscriber] = field(default_factory=set)


class Broker:
    def __init__(self, db: Database, listen_url: str, *, poll_interval: float = 1.0) -> None:
        self.db = db
        self.listen_url = plain_url(listen_url)
        self.poll_interval = poll_interval
        self.feeds: dict[int, TenantFeed] = {}
        self.wake_callbacks: list[Callable[[], None]] = []
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self.reconnects = 0
        self.job_watchers: dict[tuple[int, JobKind, int], set[asyncio.Event]] = {}

    # lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="broker-listen"),
            asyncio.create_task(self._pump(), name="broker-pump"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=10)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    # subscribers -----------------------------------------------------------
    async def register(self, subscriber: Subscriber) -> int:
        """Start live delivery; returns S such that every event > S will be offered."""
        tenant_id = subscriber.caller.tenant_id
        feed = self.feeds.get(tenant_id)
        if feed is None:
            tip = await self._tip(tenant_id)
            feed = self.feeds.get(tenant_id)  # another registration may have won the race
            if feed is None:
                feed = self.feeds[tenant_id] = TenantFeed(tenant_id, tip)
            self._dirty.add(tenant_id)  # anything committed while we looked is read now
            self._wake.set()
        feed.subscribers.add(subscriber)
        return feed.last

    def unregister(self, subscriber: Subscriber) -> None:
        feed = self.feeds.get(subscriber.caller.tenant_id)
        if feed is None:
            return
        feed.subscribers.discard(subscriber)
        if not feed.subscribers:
            del self.feeds[feed.tenant_id]

    async def read(
        self, tenant_id: int, after: int, upto: int, limit: int = BATCH
    ) -> list[LiveEvent]:
        """Events of one tenant in (after, upto], in sequence order (used for replay too)."""
        async with self.db.tenant_transaction(tenant_id) as session:
            rows = (
                await session.execute(
                    _READ, {"t": tenant_id, "after": after, "upto": upto, "limit": limit}
                )
            ).all()
        return [LiveEvent.from_row(tenant_id, r) for r in rows]

    async def _tip(self, tenant_id: int) -> int:
        """The tenant's last committed sequence (the counter is only visible once committed)."""
        async with self.db.tenant_transaction(tenant_id) as session:
            value = (await session.execute(_TIP, {"t": tenant_id})).scalar_one_or_none()
        return int(value or 0)

    # jobs -----------------------------------------------------------------------
    def watch_job(self, tenant_id: int, kind: JobKind, job_id: int) -> asyncio.Event:
        """An event set whenever the job announces a change (clear it before re-reading)."""
        event = asyncio.Event()
        self.job_watchers.setdefault((tenant_id, kind, job_id), set()).add(event)
        return event

    def unwatch_job(self, tenant_id: int, kind: JobKind, job_id: int, event: asyncio.Event) -> None:
        key = (tenant_id, kind, job_id)
        watchers = self.job_watchers.get(key)
        if watchers is not None:
            watchers.discard(event)
            if not watchers:
                del self.job_watchers[key]

    def _job_notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        key = parse_payload(payload)
        for event in self.job_watchers.get(key, ()) if key is not None else ():
            event.set()

    # delivery ------------------------------------------------------------------
    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self._dirty.add(int(payload))
        self._wake.set()
        for callback in self.wake_callbacks:
            callback()

    async def _pump(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
                tenants = self._dirty & self.feeds.keys()
            except TimeoutError:
                tenants = set(self.feeds)  # the safety net: poll everyone now and then
            self._wake.clear()
            self._dirty.clear()
            for tenant_id in tenants:
                try:
                    await self._drain(tenant_id)
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("broker read for tenant %s failed: %s", tenant_id, exc)
                    self._dirty.add(tenant_id)
                    await asyncio.sleep(0.2)
                except Exception:
                    log.exception("broker read for tenant %s failed", tenant_id)
                    self._dirty.add(tenant_id)
                    await asyncio.sleep(0.2)

    async def _drain(self, tenant_id: int) -> None:
        while (feed := self.feeds.get(tenant_id)) is not None:
            events = await self.read(tenant_id, feed.last, 2**63 - 1)
            feed = self.feeds.get(tenant_id)
            if feed is None:
                return
            for event in events:
                if event.sequence <= feed.last:
                    continue
                for subscriber in list(feed.subscribers):
                    subscriber.offer(event)
                feed.last = event.sequence
            if len(events) < BATCH:
                return

    async def _listen(self) -> None:
        """Hold one dedicated LISTEN connection (never a pooled one); reconnect and catch up."""
        delay = 0.1
        while True:
            closed = asyncio.Event()
            try:
                conn = await asyncpg.connect(self.listen_url)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("LISTEN connection failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            try:
                conn.add_termination_listener(lambda _c, done=closed: done.set())
                await conn.add_listener(CHANNEL, self._notified)
                await conn.add_listener(JOB_CHANNEL, self._job_notified)
                delay = 0.1
                for watchers in self.job_watchers.values():  # re-read whatever changed meanwhile
                    for event in watchers:
                        event.set()
                self._dirty.update(self.feeds)  # catch up on whatever happened meanwhile
                self._wake.set()
                self._connected.set()
                while not closed.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(closed.wait(), timeout=5)
                    if not closed.is_set():
                        await conn.execute("SELECT 1")  # notice a silently dead link
                self.reconnects += 1
                log.warning("LISTEN connection lost; reconnecting")
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("LISTEN connection error: %s", exc)
            finally:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=1)
            await asyncio.sleep(delay)
