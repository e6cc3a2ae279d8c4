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


@asynccontextmanager
async def tenant_reader(engine: AsyncEngine, tenant_id: int) -> AsyncIterator[Reader]:
    """A read-only transaction on a pooled app connection, bound to ``tenant_id``.

    Raises ConnectionLost (after discarding the connection) when the connection died.
    A connection goes back to the pool only when its transaction ended cleanly; after
    anything else (a cancellation in the middle of BEGIN or COMMIT included) it is
    thrown away, so no later user can find a transaction, or a tenant, left on it.
    """
    async with _autocommit(engine).connect() as conn:
        # SQLAlchemy statements on it (Reader.rows, sessions in one_transaction) send no
        # BEGIN or COMMIT of their own: the transaction is this block's, begun below.
        # The driver's connection is read without awaiting: it was just checked out.
        pg: Any = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
        clean = False
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
                clean = not pg.is_in_transaction()
                raise
            await pg.execute("COMMIT")
            clean = not pg.is_in_transaction()
        except Exception as exc:
            if _lost(exc):
                raise ConnectionLost(str(exc)) from exc
            raise
        finally:
            if not clean:
                await conn.invalidate()


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
