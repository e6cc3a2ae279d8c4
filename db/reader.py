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
import weakref
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


# How long a kept connection may wait unused before it goes back to the pool, and how
# long one is kept at most (then the pool's own recycling applies to it again).
KEEP_IDLE_SECONDS = 1.0
KEEP_AT_MOST_SECONDS = 300.0


@dataclass(slots=True)
class _Kept:
    connection: AsyncConnection  # SQLAlchemy's, in autocommit mode
    driver: Any  # asyncpg's, under it
    taken: float  # loop time it left the pool
    idle_since: float = 0.0


class KeptConnections:
    """A few reader connections kept out of the pool between reads, ready to use.

    Why: taking a connection from SQLAlchemy's async pool and giving it back (four
    greenlet hops: connect, autocommit, raw connection, close) cost ~70 µs of CPU, as
    much as one of the plan's statements. Kept connections cost a list pop.

    At most ``cap`` are kept (half the pool), so writers always have the other half;
    one unused for ``KEEP_IDLE_SECONDS`` goes back, so after a burst of reads the
    whole pool is the writers' again. A connection whose transaction did not end
    cleanly is never kept (it is thrown away, as before). Bound to the event loop
    that took them: on another loop they are forgotten, not used.
    """

    def __init__(self, engine: AsyncEngine, cap: int) -> None:
        self.engine = engine
        self.cap = cap
        self.idle: list[_Kept] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sweep: asyncio.TimerHandle | None = None
        self.closing: set[asyncio.Task[None]] = set()

    async def take(self) -> _Kept:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self.idle.clear()  # another loop's connections: unusable here
            self.sweep = None
            self.loop = loop
        if self.idle:
            return self.idle.pop()
        connection = await self.engine.connect()
        try:
            # SQLAlchemy statements on it (Reader.rows, sessions in one_transaction) send
            # no BEGIN or COMMIT of their own: the transaction is the reader's
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            raw = await connection.get_raw_connection()
        except BaseException:
            await connection.close()
            raise
        return _Kept(connection, raw.driver_connection, loop.time())

    async def give_back(self, kept: _Kept, clean: bool) -> None:
        if not clean:
            try:
                await kept.connection.invalidate()
            finally:
                await kept.connection.close()
            return
        now = asyncio.get_running_loop().time()
        if len(self.idle) >= self.cap or now - kept.taken > KEEP_AT_MOST_SECONDS:
            await kept.connection.close()
            return
        kept.idle_since = now
        self.idle.append(kept)
        if self.sweep is None and self.loop is not None:
            self.sweep = self.loop.call_later(KEEP_IDLE_SECONDS, self._sweep)

    def _sweep(self) -> None:
        """Gives back the connections unused for KEEP_IDLE_SECONDS."""
        self.sweep = None
        if self.loop is None:
            return
        now = self.loop.time()
        stale = [k for k in self.idle if now - k.idle_since >= KEEP_IDLE_SECONDS]
        if stale:
            self.idle = [k for k in self.idle if now - k.idle_since < KEEP_IDLE_SECONDS]
            for kept in stale:
                task = self.loop.create_task(kept.connection.close())
                self.closing.add(task)
                task.add_done_callback(self.closing.discard)
        if self.idle:
            self.sweep = self.loop.call_later(KEEP_IDLE_SECONDS, self._sweep)

    async def release(self) -> None:
        """Every kept connection back to the pool (before the engine is disposed)."""
        if self.sweep is not None:
            self.sweep.cancel()
            self.sweep = None
        idle, self.idle = self.idle, []
        if self.loop is asyncio.get_running_loop():
            for kept in idle:
                await kept.connection.close()
        if self.closing:
            await asyncio.gather(*self.closing, return_exceptions=True)


_kept: weakref.WeakKeyDictionary[Any, KeptConnections] = weakref.WeakKeyDictionary()


def kept_connections(engine: AsyncEngine) -> KeptConnections:
    """The engine's kept reader connections (half its pool at most)."""
    found = _kept.get(engine.sync_engine)
    if found is None:
        size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 0
        found = _kept[engine.sync_engine] = KeptConnections(engine, size // 2)
    return found


async def release_kept(engine: AsyncEngine) -> None:
    found = _kept.pop(engine.sync_engine, None)
    if found is not None:
        await found.release()


@asynccontextmanager
async def tenant_reader(engine: AsyncEngine, tenant_id: int) -> AsyncIterator[Reader]:
    """A read-only transaction on a pooled app connection, bound to ``tenant_id``.

    Raises ConnectionLost (after discarding the connection) when the connection died.
    A connection is kept or goes back to the pool only when its transaction ended
    cleanly; after anything else (a cancellation in the middle of BEGIN or COMMIT
    included) it is thrown away, so no later user can find a transaction, or a
    tenant, left on it.
    """
    kept_set = kept_connections(engine)
    kept = await kept_set.take()
    pg: Any = kept.driver
    clean = False
    try:
        await pg.execute(_begin(tenant_id))
        try:
            yield Reader(pg, tenant_id, kept.connection)
        except BaseException as exc:
            try:
                await pg.execute("ROLLBACK")
            except BaseException as failed:
                if isinstance(exc, Exception) and (_lost(exc) or _lost(failed)):
                    raise ConnectionLost(str(exc)) from exc
                raise exc from failed
            clean = not pg.is_in_transaction()
            raise
        await pg.execute("COMMIT")
        clean = not pg.is_in_transaction()
    except Exception as exc:
        if _lost(exc):
            raise ConnectionLost(str(exc)) from exc
        raise
    finally:
        await kept_set.give_back(kept, clean)


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
