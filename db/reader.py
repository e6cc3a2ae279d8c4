"""Hot reads straight over asyncpg: the stock list and the rows it names.

Why: a SQLAlchemy session spends ~0.5 ms of Python on a transaction and ~0.4 ms on
each statement; a 50-row stock list with its products is two of each, more than the
rest of the request. A reader borrows a connection from the same pool, opens a
read-only transaction bound to the tenant in one round trip (``BEGIN READ ONLY``
and ``set_config(..., true)`` in one simple query), and runs plain SQL whose list
parameters are arrays, so one prepared statement serves every length.

Row-level security binds exactly as on the session path: the same role, the same
per-transaction tenant, gone at COMMIT. A failure rolls back before the connection
goes back to the pool, or the connection is thrown away.
"""

from __future__ import annotations

import asyncio
import collections
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import asyncpg
from sqlalchemy import Executable, Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool

T = TypeVar("T")
MAX_DEAD_CONNECTIONS = 40  # more than a pool holds (pool_size, no overflow)
# The longest a user of a shared transaction waits for its turn. Turns are short (one
# statement, one session block); a wait this long means the holder awaits the waiter
# (work inside a session block that reads from another task), which must fail, not hang.
TURN_TIMEOUT = 10.0


class ConnectionLost(Exception):
    """The pooled connection died (a server restart); it has been thrown away."""


def _lost(exc: BaseException) -> bool:
    """The connection is unusable: closed, reset, or its protocol state broken (asyncpg
    raises InternalClientError on the first statement after the server ended it)."""
    if isinstance(exc, DBAPIError):  # a SQLAlchemy statement's error wraps asyncpg's
        cause = exc.orig.__cause__ if exc.orig is not None else None
        return exc.connection_invalidated or (cause is not None and _lost(cause))
    if isinstance(exc, OSError | asyncpg.InterfaceError | asyncpg.InternalClientError):
        return True
    sqlstate = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, asyncpg.PostgresError) and sqlstate.startswith(("08", "57P"))


# A row: a named tuple of the statement's columns, so ``row.on_hand`` reads like a
# SQLAlchemy row (an attribute of a named tuple costs a fraction of a __getattr__).
Record: TypeAlias = Any


@functools.cache
def _row_class(columns: tuple[str, ...]) -> Any:
    return collections.namedtuple("Record", columns)  # type: ignore[misc]


class Reader:
    """One read-only transaction of one tenant."""

    __slots__ = ("connection", "session_connection", "tenant_id")

    def __init__(self, connection: Any, tenant_id: int, session_connection: Any = None) -> None:
        self.connection = connection  # asyncpg's
        self.tenant_id = tenant_id
        self.session_connection = session_connection  # SQLAlchemy's, over the same one

    async def fetch(self, sql: str, *args: Any) -> list[Record]:
        rows = await self.connection.fetch(sql, *args)
        if not rows:
            return []
        make = _row_class(tuple(rows[0].keys()))._make
        return [make(r) for r in rows]

    async def fetch_joined(self, sql: str, *args: Any, split: int) -> list[tuple[Record, Record]]:
        """Rows of a join as pairs: the first ``split`` columns, then the rest, each a row
        of its own (the right one as a read of its own table would give it)."""
        rows = await self.connection.fetch(sql, *args)
        if not rows:
            return []
        names = tuple(rows[0].keys())
        left, right = _row_class(names[:split])._make, _row_class(names[split:])._make
        return [(left(r[:split]), right(r[split:])) for r in rows]

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.connection.fetchval(sql, *args)

    async def rows(self, statement: Executable) -> list[Row[Any]]:
        """A SQLAlchemy Core statement in this transaction, with SQLAlchemy's own type
        handling (JSON, enums, custom types): for the reads that are not hot enough to be
        worth plain SQL."""
        return list((await self.session_connection.execute(statement)).all())


def _begin(tenant_id: int) -> str:
    # An int, formatted by Python: nothing from outside reaches this text.
    return f"BEGIN READ ONLY; SELECT set_config('app.tenant_id', '{int(tenant_id)}', true)"


AUTOCOMMIT_VIEW = "_stockgraph_autocommit"  # attribute of the engine that keeps its view


def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine's autocommit view, sharing its pool: made once and kept on the engine
    (they reference each other and are collected together), so a checkout does not
    switch the isolation level by an awaited call of its own (two greenlet hops fewer)."""
    found: AsyncEngine | None = getattr(engine.sync_engine, AUTOCOMMIT_VIEW, None)
    if found is None:
        found = engine.execution_options(isolation_level="AUTOCOMMIT")
        setattr(engine.sync_engine, AUTOCOMMIT_VIEW, found)
    return found


# How long a reader connection may stay unused before it goes back to the pool, and how
# long one is kept at most (then the pool's own recycling applies to it again).
KEEP_IDLE_SECONDS = 1.0
KEEP_AT_MOST_SECONDS = 300.0
READERS_VIEW = "_stockgraph_readers"  # attribute of the engine that keeps its ReaderPool
POOL_WAIT_SECONDS = 30.0  # as the engine's pool_timeout


@dataclass(slots=True)
class Held:
    connection: AsyncConnection  # SQLAlchemy's, in autocommit mode
    driver: Any  # asyncpg's, under it
    taken: float  # loop time it left the engine's pool
    idle_since: float = 0.0


class ReaderPool:
    """Up to ``limit`` connections of the engine's pool kept for readers, handed out first
    come, first served.

    Why: taking a connection from SQLAlchemy's async pool and giving it back costs
    two greenlet hops, about a tenth of a small read's CPU. Readers keep theirs
    between reads instead; at most half the pool, so writers always have the other
    half. A reader that finds none free waits in this pool's own queue, in turn,
    never overtaken by later readers; a connection unused for KEEP_IDLE_SECONDS goes
    back to the engine's pool, so after a burst of reads writers have it all again.
    A connection whose transaction did not end cleanly is thrown away, and its place
    goes to the next reader in the queue. Bound to the event loop that took them.
    """

    def __init__(self, engine: AsyncEngine, limit: int) -> None:
        self.engine = engine
        self.limit = limit
        self.held = 0  # in use and idle
        self.idle: list[Held] = []
        self.waiters: collections.deque[asyncio.Future[Held | None]] = collections.deque()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sweep: asyncio.TimerHandle | None = None
        self.closing: set[asyncio.Task[None]] = set()

    async def take(self) -> Held:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:  # another loop's connections are unusable here
            self.idle, self.waiters, self.held, self.sweep = [], collections.deque(), 0, None
            self.loop = loop
        if not self.waiters:
            if self.idle:
                return self.idle.pop()
            if self.held < self.limit:
                self.held += 1
                return await self._checkout()
        waiter: asyncio.Future[Held | None] = loop.create_future()
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(POOL_WAIT_SECONDS):
                got = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                given = waiter.result()  # handed over as this reader gave up: pass it on
                if given is None:
                    self._free_place()
                else:
                    self._pass_on(given)
            elif waiter in self.waiters:
                self.waiters.remove(waiter)
            raise
        if got is None:  # a place came free: this reader takes a new connection in it
            return await self._checkout()
        return got

    async def _checkout(self) -> Held:
        """A connection from the engine's pool, in a place already counted in ``held``."""
        try:
            connection = await _autocommit(self.engine).connect()
        except BaseException:
            self._free_place()
            raise
        # the driver's connection is read without awaiting: it was just checked out
        driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
        return Held(connection, driver, asyncio.get_running_loop().time())

    def _free_place(self) -> None:
        """A held connection is gone: its place goes to the first waiting reader."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # still counted in held: the waiter fills it
                return
        self.held -= 1

    def _pass_on(self, held: Held) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(held)
                return
        held.idle_since = asyncio.get_running_loop().time()
        self.idle.append(held)
        if self.sweep is None and self.loop is not None:
            self.sweep = self.loop.call_later(KEEP_IDLE_SECONDS, self._sweep)

    async def give_back(self, held: Held, clean: bool) -> None:
        now = asyncio.get_running_loop().time()
        if clean and now - held.taken <= KEEP_AT_MOST_SECONDS:
            self._pass_on(held)
            return
        self._free_place()
        try:
            if not clean:
                await held.connection.invalidate()
        finally:
            await held.connection.close()

    def _sweep(self) -> None:
        """Gives the engine's pool back the connections unused for KEEP_IDLE_SECONDS."""
        self.sweep = None
        if self.loop is None:
            return
        now = self.loop.time()
        stale = [h for h in self.idle if now - h.idle_since >= KEEP_IDLE_SECONDS]
        if stale:
            self.idle = [h for h in self.idle if now - h.idle_since < KEEP_IDLE_SECONDS]
            self.held -= len(stale)
            for held in stale:
                task = self.loop.create_task(held.connection.close())
                self.closing.add(task)
                task.add_done_callback(self.closing.discard)
        if self.idle:
            self.sweep = self.loop.call_later(KEEP_IDLE_SECONDS, self._sweep)

    async def release(self) -> None:
        """Every idle connection back to the engine's pool (before it is disposed)."""
        if self.sweep is not None:
            self.sweep.cancel()
            self.sweep = None
        idle, self.idle = self.idle, []
        self.held -= len(idle)
        if self.loop is asyncio.get_running_loop():
            for held in idle:
                await held.connection.close()
        if self.closing:
            await asyncio.gather(*self.closing, return_exceptions=True)


def reader_pool(engine: AsyncEngine) -> ReaderPool | None:
    """The engine's reader pool: half its pool; none for a pool under 4 (readers then take
    connections from the engine's pool each time, as writers do)."""
    found: ReaderPool | None = getattr(engine.sync_engine, READERS_VIEW, None)
    if found is None:
        size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 0
        if size < 4:
            return None
        found = ReaderPool(engine, size // 2)
        setattr(engine.sync_engine, READERS_VIEW, found)
    return found


async def release_readers(engine: AsyncEngine) -> None:
    found: ReaderPool | None = getattr(engine.sync_engine, READERS_VIEW, None)
    if found is not None:
        await found.release()


@asynccontextmanager
async def _connection(
    engine: AsyncEngine,
) -> AsyncIterator[tuple[AsyncConnection, Any, list[bool]]]:
    """A reader's connection (SQLAlchemy's and the driver's) and a flag the caller sets
    when the transaction ended cleanly; from the reader pool, or the engine's pool."""
    pool = reader_pool(engine)
    clean = [False]
    if pool is None:
        async with _autocommit(engine).connect() as conn:
            try:
                yield conn, conn.sync_connection.connection.driver_connection, clean  # type: ignore[union-attr]
            finally:
                if not clean[0]:
                    await conn.invalidate()
        return
    held = await pool.take()
    try:
        yield held.connection, held.driver, clean
    finally:
        await pool.give_back(held, clean[0])


@asynccontextmanager
async def tenant_reader(engine: AsyncEngine, tenant_id: int) -> AsyncIterator[Reader]:
    """A read-only transaction on a pooled app connection, bound to ``tenant_id``.

    Raises ConnectionLost (after discarding the connection) when the connection died.
    A connection is kept or goes back to the pool only when its transaction ended
    cleanly; after anything else (a cancellation in the middle of BEGIN or COMMIT
    included) it is thrown away, so no later user can find a transaction, or a
    tenant, left on it.
    """
    # SQLAlchemy statements on it (Reader.rows, sessions in one_transaction) send no
    # BEGIN or COMMIT of their own: the transaction is this block's, begun below.
    async with _connection(engine) as (conn, pg, clean):
        try:
            await pg.execute(_begin(tenant_id))
            try:
                yield Reader(pg, tenant_id, conn)
            except BaseException as exc:
                try:
                    await pg.execute("ROLLBACK")
                except BaseException as failed:
                    if isinstance(exc, Exception) and (_lost(exc) or _lost(failed)):
                        raise ConnectionLost(str(exc)) from exc
                    raise exc from failed
                clean[0] = not pg.is_in_transaction()
                raise
            await pg.execute("COMMIT")
            clean[0] = not pg.is_in_transaction()
        except Exception as exc:
            if _lost(exc):
                raise ConnectionLost(str(exc)) from exc
            raise


class Turns:
    """Whose turn it is on a shared connection: one user at a time, and the task that
    holds the turn may take it again (a session block that also reads, for instance)."""

    __slots__ = ("lock", "owner")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.owner: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def take(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and self.owner is task:
            yield
            return
        async with asyncio.timeout(TURN_TIMEOUT):  # a turn awaited by its holder: fail, not hang
            await self.lock.acquire()
        try:
            self.owner = task
            yield
        finally:
            self.owner = None
            self.lock.release()


@dataclass(slots=True)
class Shared:
    """The one read transaction of a block: its reader and its SQLAlchemy connection."""

    engine: AsyncEngine
    tenant_id: int
    reader: Reader
    connection: AsyncConnection
    turns: Turns


_shared: ContextVar[Shared | None] = ContextVar("stockgraph_shared_reader", default=None)


def shared_transaction(engine: AsyncEngine, tenant_id: int) -> Shared | None:
    """The block's one read transaction when one is open for this engine and tenant."""
    shared = _shared.get()
    if shared is not None and shared.engine is engine and shared.tenant_id == tenant_id:
        return shared
    return None


@asynccontextmanager
async def one_transaction(engine: AsyncEngine, tenant_id: int) -> AsyncIterator[Shared]:
    """Within this block, every ``read`` and every session of this tenant
    (``Database.tenant_transaction``) runs in one read-only transaction on one pooled
    connection: one BEGIN and one COMMIT for the whole block, one snapshot for all of it.

    Users take turns on it (``Turns``), so the block never holds more than this one
    connection and never waits for a second: many blocks at once cannot wait on each
    other, however small the pool. SQLAlchemy sees the connection in autocommit mode,
    so a session on it sends no BEGIN or COMMIT of its own; the transaction is the
    block's, begun and ended here, read-only (a write in it fails).
    """
    async with tenant_reader(engine, tenant_id) as reader:
        shared = Shared(engine, tenant_id, reader, reader.session_connection, Turns())
        token = _shared.set(shared)
        try:
            yield shared
        finally:
            _shared.reset(token)


async def read(engine: AsyncEngine, tenant_id: int, work: Callable[[Reader], Awaitable[T]]) -> T:
    """``work`` in a tenant reader, again on another connection while pooled ones turn out
    dead (after a server restart every idle one is; each is thrown away as it is found)."""
    shared = shared_transaction(engine, tenant_id)
    if shared is not None:
        async with shared.turns.take():
            return await work(shared.reader)
    for _ in range(MAX_DEAD_CONNECTIONS):
        try:
            async with tenant_reader(engine, tenant_id) as reader:
                return await work(reader)
        except ConnectionLost:
            continue
    async with tenant_reader(engine, tenant_id) as reader:
        return await work(reader)


class Params:
    """Positional parameters for one statement: ``p.add(value)`` gives its ``$n``."""

    __slots__ = ("values",)

    def __init__(self, *values: Any) -> None:
        self.values: list[Any] = list(values)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"
