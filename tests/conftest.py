"""Shared fixtures: a fresh database per test session, a fresh tenant per test.

Tests talk to a real PostgreSQL: ``DATABASE_URL`` when set, else the local
server on 127.0.0.1:5432. The session creates its own database, migrates it
with the real migrations, and drops it at the end.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from sqlalchemy import event

from auth.caller import Caller
from auth.permissions import Permission, Role
from db.migrate import upgrade_sync
from db.session import Database, plain_url
from domain import ids
from domain.tenancy import service as tenancy

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TEST_DATA_KEY = bytes(range(32))  # the personal-data master key of the test database


def _base_url() -> str:
    """DATABASE_URL, else the local server, else an embedded one (a machine with none)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return LOCAL_URL
    except OSError:
        from pathlib import Path

        from db.embedded import ensure_embedded_postgres

        return ensure_embedded_postgres(Path(".stockgraph-test").resolve(), "postgres")


BASE_URL = _base_url()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(plain_url(url))
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    name = f"sg_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = plain_url(BASE_URL)

    async def create() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    url = _with_database(BASE_URL, name)
    upgrade_sync(url)
    yield url
    asyncio.run(drop())


@pytest.fixture(scope="session")
def app_database_url(database_url: str) -> Iterator[str]:
    """The API's own login (a member of stockgraph_app only), as production runs it.

    One per test session (roles are cluster-wide, and test runs may overlap), dropped after.
    """
    from db.roles import create_app_login

    name = "sg_api_" + database_url.rsplit("/", 1)[1].removeprefix("sg_test_")
    yield asyncio.run(create_app_login(database_url, name, "test-password"))

    async def drop() -> None:
        conn = await asyncpg.connect(plain_url(BASE_URL))
        try:
            await conn.execute(f'DROP ROLE IF EXISTS "{name}"')
        except asyncpg.PostgresError:
            pass  # still in use somewhere: harmless, it owns nothing
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture(scope="session")
async def db(database_url: str, app_database_url: str) -> AsyncIterator[Database]:
    database = Database.connect(database_url, app_url=app_database_url, pool_size=20)
    database.data_key = TEST_DATA_KEY
    yield database
    await database.dispose()


_counter = itertools.count(1)


@dataclass
class TenantFixture:
    """A fresh tenant with two stores, a warehouse and three products."""

    db: Database
    tenant_id: int
    code: str
    locations: dict[str, int] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)

    def gid(self, type_name: str, pk: int) -> str:
        return ids.encode(type_name, pk)

    def loc(self, code: str) -> str:
        return ids.encode("Location", self.locations[code])

    def app(
        self,
        scopes: str = "stock:read stock:write",
        locations: list[str] | None = None,
        client_id: str = "test-app",
    ) -> Caller:
        from auth.permissions import parse_scopes

        locs = frozenset(self.locations[c] for c in locations) if locations is not None else None
        return Caller.for_app(self.tenant_id, client_id, parse_scopes(scopes), locs)

    def staff(self, role: Role, locations: list[str] = (), staff_id: int = 1) -> Caller:  # type: ignore[assignment]
        return Caller.for_staff(
            self.tenant_id, staff_id, role, frozenset(self.locations[c] for c in locations)
        )

    @property
    def owner(self) -> Caller:
        return self.staff(Role.OWNER, staff_id=999)


async def make_tenant(db: Database, prefix: str = "t") -> TenantFixture:
    code = f"{prefix}{next(_counter)}-{uuid.uuid4().hex[:6]}"
    async with db.owner_transaction() as session:
        tenant = await tenancy.create_tenant(session, code, f"Tenant {code}")
        system = Caller.system(tenant.tenant_id)
        fx = TenantFixture(db=db, tenant_id=tenant.tenant_id, code=code)
        for loc_code, kind in (("WH", "CENTRAL_WAREHOUSE"), ("S1", "STORE"), ("S2", "STORE")):
            fx.locations[loc_code] = await tenancy.create_location(
                session, system, tenancy.NewLocation(loc_code, f"{loc_code}店", loc_code, kind)
            )
        for sku, price, cost in (
            ("A", "10.00", "4.00"),
            ("B", "20.00", "9.50"),
            ("C", "5.50", "2.25"),
        ):
            fx.products[sku] = await tenancy.create_product(
                session,
                system,
                tenancy.NewProduct(
                    sku,
                    f"產品{sku}",
                    f"Product {sku}",
                    retail_price=Decimal(price),
                    cost_price=Decimal(cost),
                ),
            )
    return fx


@pytest.fixture
async def tenant(db: Database) -> TenantFixture:
    return await make_tenant(db)


@pytest.fixture
async def other_tenant(db: Database) -> TenantFixture:
    return await make_tenant(db, "other")


class StatementCounter:
    """Every statement the app engine's connections run: SQLAlchemy's through its cursor
    event, a reader's (db/reader.py, asyncpg directly) through asyncpg's query logger."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.connections: list[Any] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def log(self, query: Any) -> None:
        self.statements.append(query.query)

    def checkout(self, dbapi_connection: Any, *args: Any) -> None:
        driver = dbapi_connection.driver_connection
        if driver not in self.connections:
            driver.add_query_logger(self.log)
            self.connections.append(driver)

    def detach(self) -> None:
        for driver in self.connections:
            driver.remove_query_logger(self.log)

    def selects(self, table: str) -> list[str]:
        return [
            s
            for s in self.statements
            if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s
        ]


@pytest.fixture
def count_statements(db: Database) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    engine = db.app_engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    event.listen(engine.pool, "checkout", counter.checkout)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)
    event.remove(engine.pool, "checkout", counter.checkout)
    counter.detach()


ALL_PERMISSIONS = frozenset(Permission)


@pytest.fixture
def gql(db: Database) -> Any:
    from tests.graphql_executor import Executor

    return Executor(db)
