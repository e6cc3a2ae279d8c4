"""Engines, sessions and the per-transaction tenant.

Two engines: the *app* engine connects with ``role=stockgraph_app`` (a role that
owns nothing, so PostgreSQL row-level security binds it), and the *owner*
engine is used only for migrations and the few cross-tenant reads an operator
or the token endpoint needs. Every transaction of the app engine sets
``app.tenant_id`` with ``set_config(..., true)``: it lasts until commit, so a
pooled connection never carries a tenant into the next transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from db import driver
from db.base import APP_ROLE
from db.reader import Reader, _autocommit, read, release_readers, shared_transaction

T = TypeVar("T")

SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant, true)")


def _begin_write(tenant_id: int) -> str:
    """BEGIN a write transaction bound to the tenant, in one round trip.

    A write's statements are prepared once per connection and run the same way every
    time; with PostgreSQL's default (plan_cache_mode = auto) those over arrays (the
    ledger's unnest) looked cheaper with a custom plan and were planned again on every
    execution, about a fifth of the database's CPU per sale: so generic plans here.
    """
    # An int, formatted by Python: nothing from outside reaches this text.
    return (
        f"BEGIN; SELECT set_config('app.tenant_id', '{int(tenant_id)}', true), "
        "set_config('plan_cache_mode', 'force_generic_plan', true)"
    )


def async_url(url: str) -> str:
    """``postgresql://…`` as SQLAlchemy's asyncpg URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://")
    return urlunsplit(("postgresql+asyncpg", *parts[1:]))


def plain_url(url: str) -> str:
    """The same URL without a driver suffix (for asyncpg.connect and psql)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def make_engine(url: str, *, role: str | None, pool_size: int = 10) -> AsyncEngine:
    """A pool of exactly ``pool_size`` connections, kept open.

    No overflow: SQLAlchemy closes an overflow connection as soon as it is returned,
    so under steady load beyond the pool every burst opened and closed connections
    (hundreds a minute, each a PostgreSQL backend started and ended). Requests wait
    for a pooled connection instead; ``pool_timeout`` bounds the wait.
    """
    settings: dict[str, str] = {"application_name": "stockgraph", "jit": "off"}
    if role:
        settings["role"] = role
    connect_args: dict[str, Any] = {"server_settings": settings}
    return create_async_engine(
        async_url(url),
        hide_parameters=True,  # parameters may hold personal data; never in logs or errors
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=30,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args=connect_args,
    )


@dataclass
class Database:
    """The process's connections to PostgreSQL."""

    app_engine: AsyncEngine
    owner_engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    owner_sessions: async_sessionmaker[AsyncSession]
    # The personal-data master key (STOCKGRAPH_DATA_KEY); set by the app factory.
    data_key: bytes | None = field(default=None, repr=False)

    @classmethod
    def connect(cls, url: str, *, app_url: str | None = None, pool_size: int = 10) -> Database:
        """Two pools: ``pool_size`` for the app role; the owner's (token endpoint, senders,
        housekeeping) at most 5 and never larger than the app's, so a small setting bounds
        the whole process."""
        app_engine = make_engine(
            app_url or url, role=None if app_url else APP_ROLE, pool_size=pool_size
        )
        owner_engine = make_engine(url, role=None, pool_size=min(5, pool_size))
        return cls(
            app_engine=app_engine,
            owner_engine=owner_engine,
            sessions=async_sessionmaker(app_engine, expire_on_commit=False),
            owner_sessions=async_sessionmaker(owner_engine, expire_on_commit=False),
        )

    async def dispose(self) -> None:
        await release_readers(self.app_engine)
        await self.app_engine.dispose()
        await self.owner_engine.dispose()

    @asynccontextmanager
    async def tenant_transaction(self, tenant_id: int) -> AsyncIterator[AsyncSession]:
        """One transaction as the app role, bound to one tenant; commits on success.

        Inside ``db.reader.one_transaction`` of the same tenant, the session runs in that
        block's read-only transaction instead, on its connection, in turn with its reads.
        """
        shared = shared_transaction(self.app_engine, tenant_id)
        if shared is not None:
            async with shared.turns.take():
                session = AsyncSession(bind=shared.connection, expire_on_commit=False)
                try:
                    yield session
                finally:
                    await session.close()
            return
        # The transaction is this block's own: BEGIN and the tenant go in one round trip
        # on an autocommit connection, so SQLAlchemy sends no BEGIN or COMMIT of its own
        # (as for readers, db/reader.py), and COMMIT or ROLLBACK follows the session's
        # last flush. A connection whose transaction did not end cleanly (a failed
        # ROLLBACK, a cancellation mid-statement) is thrown away, never pooled.
        async with _autocommit(self.app_engine).connect() as connection:
            pg: Any = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
            clean = False
            try:
                await pg.execute(_begin_write(tenant_id))
                session = AsyncSession(bind=connection, expire_on_commit=False)
                driver.attach(session, pg)
                try:
                    async with session.begin():
                        yield session
                except BaseException as exc:
                    driver.detach(session)
                    await session.close()
                    try:
                        await pg.execute("ROLLBACK")
                    except BaseException as failed:
                        raise exc from failed
                    clean = not pg.is_in_transaction()
                    raise
                driver.detach(session)
                await session.close()
                await pg.execute("COMMIT")
                clean = not pg.is_in_transaction()
            finally:
                if not clean:
                    await connection.invalidate()

    async def read(self, tenant_id: int, work: Callable[[Reader], Awaitable[T]]) -> T:
        """``work`` in a read-only transaction over asyncpg directly (see db/reader.py)."""
        return await read(self.app_engine, tenant_id, work)

    @asynccontextmanager
    async def owner_transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction as the schema owner: operators and cross-tenant lookups only."""
        async with self.owner_sessions() as session, session.begin():
            yield session


async def set_tenant(session: AsyncSession, tenant_id: int) -> None:
    await session.execute(SET_TENANT, {"tenant": str(tenant_id)})
