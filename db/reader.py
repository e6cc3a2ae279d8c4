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
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
MAX_DEAD_CONNECTIONS = 40  # more than a pool holds (pool_size + max_overflow)


class ConnectionLost(Exception):
    """The pooled connection died (a server restart); it has been thrown away."""


def _lost(exc: BaseException) -> bool:
    """The connection is unusable: closed, reset, or its protocol state broken (asyncpg
    raises InternalClientError on the first statement after the server ended it)."""
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

    __slots__ = ("connection", "tenant_id")

    def __init__(self, connection: Any, tenant_id: int) -> None:
        self.connection = connection
        self.tenant_id = tenant_id

    async def fetch(self, sql: str, *args: Any) -> list[Record]:
        rows = await self.connection.fetch(sql, *args)
        if not rows:
            return []
        make = _row_class(tuple(rows[0].keys()))._make
        return [make(r) for r in rows]

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.connection.fetchval(sql, *args)


def _begin(tenant_id: int) -> str:
    # An int, formatted by Python: nothing from outside reaches this text.
    return f"BEGIN READ ONLY; SELECT set_config('app.tenant_id', '{int(tenant_id)}', true)"


@asynccontextmanager
async def tenant_reader(engine: AsyncEngine, tenant_id: int) -> AsyncIterator[Reader]:
    """A read-only transaction on a pooled app connection, bound to ``tenant_id``.

    Raises ConnectionLost (after discarding the connection) when the connection died.
    A connection goes back to the pool only when its transaction ended cleanly; after
    anything else (a cancellation in the middle of BEGIN or COMMIT included) it is
    thrown away, so no later user can find a transaction, or a tenant, left on it.
    """
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        pg: Any = raw.driver_connection
        clean = False
        try:
            await pg.execute(_begin(tenant_id))
            try:
                yield Reader(pg, tenant_id)
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


@dataclass(slots=True)
class _Shared:
    engine: AsyncEngine
    tenant_id: int
    reader: Reader
    lock: asyncio.Lock


_shared: ContextVar[_Shared | None] = ContextVar("stockgraph_shared_reader", default=None)


@asynccontextmanager
async def one_transaction(engine: AsyncEngine, tenant_id: int) -> AsyncIterator[None]:
    """Within this block, every ``read`` of this tenant runs in one reader: one BEGIN and
    one COMMIT instead of a pair per read.

    Reads take turns on it (a lock), so the block never holds more than this one pooled
    connection. Only for work whose every database access goes through ``read``: work
    that also opens a session would hold this connection while waiting for another,
    and enough such requests at once would wait on each other forever.
    """
    async with tenant_reader(engine, tenant_id) as reader:
        token = _shared.set(_Shared(engine, tenant_id, reader, asyncio.Lock()))
        try:
            yield
        finally:
            _shared.reset(token)


async def read(engine: AsyncEngine, tenant_id: int, work: Callable[[Reader], Awaitable[T]]) -> T:
    """``work`` in a tenant reader, again on another connection while pooled ones turn out
    dead (after a server restart every idle one is; each is thrown away as it is found)."""
    shared = _shared.get()
    if shared is not None and shared.engine is engine and shared.tenant_id == tenant_id:
        async with shared.lock:
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
