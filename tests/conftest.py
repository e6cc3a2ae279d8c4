"""Shared fixtures: a fresh database per test session, a fresh tenant per test.

Tests talk to a real PostgreSQL: ``DATABASE_URL`` when set, else the local
server on 127.0.0.1:5432. The session creates its own database, migrates it
with the real migrations, and drops it at the end. Under pytest-xdist each worker
is a session of its own, with its own database.

The server may be shared with other test runs: every pool the tests open is bounded
(``DB_POOL_SIZE`` here, ``SERVER_POOL_SIZE`` for the API processes), the run checks at
the start that PostgreSQL has the slots it needs, and a test that still runs out says so.
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
from db.reader import reader_pool
from db.session import Database, plain_url
from domain import ids
from domain.tenancy import service as tenancy

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TEST_DATA_KEY = bytes(range(32))  # the personal-data master key of the test database

# Connections one session (one xdist worker) holds at its peak: the ``db`` fixture's pools
# (DB_POOL_SIZE for the app role, up to 5 for the owner), the API processes it runs at once
# (SERVER_POOL_SIZE each, plus their owner pool and LISTEN connection) and CLI subprocesses.
DB_POOL_SIZE = 6
SERVER_POOL_SIZE = 3
# Measured: 21 at most for one worker running the heaviest files under -n 2 (the pools
# above; pg_stat_activity sampled every 0.2 s). STOCKGRAPH_TEST_CONNECTIONS overrides it.
CONNECTIONS_PER_SESSION = int(os.environ.get("STOCKGRAPH_TEST_CONNECTIONS", "22"))
OUT_OF_SLOTS = ("remaining connection slots are reserved", "too many clients already")


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


def _workers(config: pytest.Config) -> int:
    """How many sessions this run has at once: xdist's workers, else one."""
    count = getattr(config.option, "numprocesses", None)
    if isinstance(count, int) and count > 0:
        return count
    if count in ("auto", "logical"):
        return os.cpu_count() or 1
    return 1


def _free_slots() -> tuple[int, int, int]:
    """(free, max_connections, in use) for a login that is not a superuser."""

    async def count() -> tuple[int, int, int]:
        conn = await asyncpg.connect(plain_url(BASE_URL), timeout=10)
        try:
            row = await conn.fetchrow(
                "SELECT current_setting('max_connections')::int AS max,"
                " current_setting('superuser_reserved_connections')::int AS reserved,"
                " (SELECT count(*) FROM pg_stat_activity"
                "   WHERE backend_type = 'client backend')::int AS used"
            )
        finally:
            await conn.close()
        assert row is not None
        return row["max"] - row["reserved"] - row["used"], row["max"], row["used"]

    return asyncio.run(count())


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to start a run that PostgreSQL has no room for: one clear message, not a
    scatter of "remaining connection slots are reserved" failures half-way through."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller checked for the whole run
    try:
        free, most, used = _free_slots()
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.exit(f"cannot reach PostgreSQL at {BASE_URL}: {exc}", returncode=3)
    workers = _workers(session.config)
    need = workers * CONNECTIONS_PER_SESSION
    if free < need:
        pytest.exit(
            f"PostgreSQL has {free} free connection slots (max_connections {most}, {used} in "
            f"use by others) and this run needs up to {need} ({workers} session(s) x "
            f"{CONNECTIONS_PER_SESSION}). Wait for other runs to end, run fewer workers "
            "(make test TEST_WORKERS=1, or pytest -n 1), or raise max_connections.",
            returncode=3,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A test that met a full server says so first: the cause is the machine, not the code."""
    report = yield
    if report.failed and call.excinfo is not None:
        text = report.longreprtext
        if any(marker in text for marker in OUT_OF_SLOTS):
            free, most, used = _free_slots()
            report.sections.append(
                (
                    "PostgreSQL ran out of connection slots",
                    f"max_connections {most}, {used} in use now ({free} free): other runs "
                    "on this server hold them. Not a failure of the code under test.",
                )
            )
    return report


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
    database = Database.connect(database_url, app_url=app_database_url, pool_size=DB_POOL_SIZE)
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
        self.attach(dbapi_connection.driver_connection)

    def attach(self, driver: Any) -> None:
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
    pool = reader_pool(db.app_engine)
    for held in pool.idle if pool is not None else ():  # out of the engine's pool already
        counter.attach(held.driver)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)
    event.remove(engine.pool, "checkout", counter.checkout)
    counter.detach()


ALL_PERMISSIONS = frozenset(Permission)


@pytest.fixture
def gql(db: Database) -> Any:
    from tests.graphql_executor import Executor

    return Executor(db)


@pytest.fixture(scope="session")
def signing_key() -> bytes:
    """The token-signing key of every API process a session starts."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="session")
def server(
    database_url: str,
    app_database_url: str,
    signing_key: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:
    """The API as production runs it: its own login, a member of stockgraph_app only.

    Defined here, once, so every directory's tests share one process per session."""
    from tests.api.conftest import start_server, stop_server

    srv = start_server(
        database_url,
        signing_key,
        tmp_path_factory.mktemp("server"),
        extra_env={"STOCKGRAPH_APP_DATABASE_URL": app_database_url},
    )
    yield srv
    stop_server(srv)
