"""Read-only asyncpg transactions on the app pool (db/reader.py), bound to one tenant.

Everything here runs as the API's own login against the real database: row-level
security, the per-transaction tenant, rollback, read-only, connection loss.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.loaders import Loaders, ReadLoader
from db.reader import (
    KEEP_IDLE_SECONDS,
    ConnectionLost,
    Reader,
    one_transaction,
    read,
    reader_pool,
    tenant_reader,
)
from db.session import Database, plain_url
from tests.helpers import count_rows, receive_lines


@pytest.fixture
async def two_stocked(gql, tenant, other_tenant) -> tuple[Any, Any]:
    await receive_lines(gql, tenant, {"S1": [("A", 1), ("B", 2)], "WH": [("C", 3)]})
    await receive_lines(gql, other_tenant, {"S2": [("A", 5), ("B", 6), ("C", 7)], "WH": [("A", 8)]})
    return tenant, other_tenant


@contextlib.asynccontextmanager
async def pooled_connection(engine: AsyncEngine, pid: int) -> AsyncIterator[Any]:
    """The pooled connection whose backend is ``pid`` (the others stay checked out
    meanwhile, so the pool has to hand each one out once)."""
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(60):
            conn = await stack.enter_async_context(engine.connect())
            raw = await conn.get_raw_connection()
            pg = raw.driver_connection
            if pg.get_server_pid() == pid:
                yield pg
                return
        raise AssertionError(f"backend {pid} is not in the pool")


async def _pid(reader: Reader) -> int:
    return int(await reader.fetchval("SELECT pg_backend_pid()"))


async def test_a_reader_sees_only_its_tenants_rows_without_a_filter(db, two_stocked):
    mine, theirs = two_stocked
    assert await count_rows(db, "stock_levels", mine.tenant_id) == 3
    assert await count_rows(db, "stock_levels", theirs.tenant_id) == 4
    async with tenant_reader(db.app_engine, mine.tenant_id) as reader:
        assert reader.tenant_id == mine.tenant_id
        assert await reader.fetchval("SELECT count(*) FROM stock_levels") == 3
        assert await reader.fetchval("SELECT count(*) FROM products") == 3
        tenants = await reader.fetch("SELECT DISTINCT tenant_id FROM stock_levels")
        assert [r.tenant_id for r in tenants] == [mine.tenant_id]
        assert await reader.fetchval("SELECT current_setting('app.tenant_id')") == str(
            mine.tenant_id
        )
    async with tenant_reader(db.app_engine, theirs.tenant_id) as reader:
        assert await reader.fetchval("SELECT count(*) FROM stock_levels") == 4
        on_hand = await reader.fetchval("SELECT sum(on_hand) FROM stock_levels")
        assert on_hand == 5 + 6 + 7 + 8


async def test_rows_are_named_tuples(db, two_stocked):
    mine, _ = two_stocked
    async with tenant_reader(db.app_engine, mine.tenant_id) as reader:
        rows = await reader.fetch(
            "SELECT l.code, p.sku, s.on_hand FROM stock_levels s "
            "JOIN locations l ON l.id = s.location_id JOIN products p ON p.id = s.product_id "
            "ORDER BY l.code, p.sku"
        )
        empty = await reader.fetch("SELECT id FROM products WHERE sku = $1", "NOPE")
        by_array = await reader.fetch(
            "SELECT sku FROM products WHERE sku = ANY($1::text[]) ORDER BY sku", ["C", "A", "X"]
        )
    assert rows == [("S1", "A", 1), ("S1", "B", 2), ("WH", "C", 3)]
    assert all(isinstance(r, tuple) for r in rows)
    assert rows[0]._fields == ("code", "sku", "on_hand")
    assert (rows[1].code, rows[1].sku, rows[1].on_hand) == ("S1", "B", 2)
    assert rows[2]._asdict() == {"code": "WH", "sku": "C", "on_hand": 3}
    assert empty == []
    assert [r.sku for r in by_array] == ["A", "C"]


async def test_after_the_block_the_connection_has_no_tenant_and_no_transaction(db, two_stocked):
    mine, _ = two_stocked
    async with tenant_reader(db.app_engine, mine.tenant_id) as reader:
        pid = await _pid(reader)
        assert reader.connection.is_in_transaction()
        assert await reader.fetchval("SELECT current_setting('transaction_read_only')") == "on"
    async with pooled_connection(db.app_engine, pid) as pg:
        assert not pg.is_in_transaction()
        assert await pg.fetchval("SELECT current_setting('app.tenant_id', true)") in (None, "")
        # and row-level security shows this connection nothing without a tenant
        assert await pg.fetchval("SELECT count(*) FROM stock_levels") == 0
        assert not pg.is_in_transaction()


async def test_an_exception_inside_the_block_rolls_back(db, two_stocked):
    mine, _ = two_stocked

    class Boom(Exception):
        pass

    pid = 0
    with pytest.raises(Boom):
        async with tenant_reader(db.app_engine, mine.tenant_id) as reader:
            pid = await _pid(reader)
            await reader.fetchval("SELECT count(*) FROM stock_levels")
            raise Boom
    async with pooled_connection(db.app_engine, pid) as pg:
        assert not pg.is_in_transaction()
        assert await pg.fetchval("SELECT current_setting('app.tenant_id', true)") in (None, "")
        assert await pg.fetchval("SELECT 41 + 1") == 42

    # an SQL error leaves the transaction aborted; the rollback still cleans it up
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with tenant_reader(db.app_engine, mine.tenant_id) as reader:
            pid = await _pid(reader)
            await reader.fetchval("SELECT 1 / 0")
    async with pooled_connection(db.app_engine, pid) as pg:
        assert not pg.is_in_transaction()
        assert await pg.fetchval("SELECT 1") == 1
    async with tenant_reader(db.app_engine, mine.tenant_id) as reader:
        assert await reader.fetchval("SELECT count(*) FROM stock_levels") == 3


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stock_levels SET on_hand = on_hand + 1",
        "INSERT INTO stock_movements (tenant_id) VALUES (0)",
        "DELETE FROM stock_levels",
        "CREATE TEMPORARY TABLE sneaky (x int)",
    ],
)
async def test_the_transaction_is_read_only(db, two_stocked, statement):
    mine, _ = two_stocked
    with pytest.raises(asyncpg.PostgresError) as info:
        async with tenant_reader(db.app_engine, mine.tenant_id) as reader:
            await reader.fetchval(statement)
    assert info.value.sqlstate == "25006"  # read_only_sql_transaction
    assert isinstance(info.value, asyncpg.ReadOnlySQLTransactionError)
    assert await count_rows(db, "stock_levels", mine.tenant_id) == 3
    async with tenant_reader(db.app_engine, mine.tenant_id) as reader:
        assert await reader.fetchval("SELECT sum(on_hand) FROM stock_levels") == 6


async def test_a_bad_tenant_id_is_refused_before_any_sql(db):
    with pytest.raises((ValueError, TypeError)):
        async with tenant_reader(db.app_engine, "1'; DROP TABLE products; --"):  # type: ignore[arg-type]
            pass


async def test_every_read_is_a_transaction_of_its_own(db, two_stocked):
    """No read holds its connection past its own work: two reads in a row are two
    transactions, and a foreign tenant's read sees only its own rows."""
    mine, theirs = two_stocked
    engine = db.app_engine

    async def snapshot(reader: Reader) -> tuple[Reader, Any, int]:
        row = (
            await reader.fetch(
                "SELECT now() AS started, (SELECT count(*) FROM stock_levels) AS levels"
            )
        )[0]
        return reader, row.started, row.levels

    first = await read(engine, mine.tenant_id, snapshot)
    await asyncio.sleep(0.01)
    second = await db.read(mine.tenant_id, snapshot)
    foreign = await read(engine, theirs.tenant_id, snapshot)
    assert first[0] is not second[0] and first[1] != second[1]
    assert [first[2], second[2], foreign[2]] == [3, 3, 4]


async def test_overlapping_reads_each_get_a_connection(db, two_stocked):
    mine, _ = two_stocked
    engine = db.app_engine

    async def slow(reader: Reader) -> tuple[int, int]:
        row = (
            await reader.fetch(
                "SELECT pg_backend_pid() AS pid, (SELECT count(*) FROM stock_levels) AS n, "
                "pg_sleep(0.05) IS NULL AS slept"
            )
        )[0]
        return row.pid, row.n

    results = await asyncio.gather(*(read(engine, mine.tenant_id, slow) for _ in range(3)))
    assert [n for _, n in results] == [3, 3, 3]
    assert len({pid for pid, _ in results}) == 3


async def test_a_failing_read_leaves_its_connection_usable(db, two_stocked):
    mine, _ = two_stocked
    engine = db.app_engine

    async def fail(reader: Reader) -> None:
        raise LookupError("not this one")

    with pytest.raises(LookupError):
        await read(engine, mine.tenant_id, fail)
    assert await read(engine, mine.tenant_id, _pid) > 0
    assert await read(engine, mine.tenant_id, lambda r: r.fetchval("SELECT 7")) == 7


async def _wait_gone(db: Database, pids: set[int]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with db.owner_transaction() as session:
            alive = (
                await session.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(CAST(:p AS int[]))"
                    ),
                    {"p": list(pids)},
                )
            ).scalar_one()
        if alive == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"backends {pids} still alive")


async def _alive(db: Database, pids: set[int]) -> set[int]:
    async with db.owner_transaction() as session:
        found = await session.execute(
            text("SELECT pid FROM pg_stat_activity WHERE pid = ANY(CAST(:p AS int[]))"),
            {"p": list(pids)},
        )
    return {int(pid) for (pid,) in found}


async def _terminate(db: Database, pids: set[int]) -> None:
    async with db.owner_transaction() as session:
        killed = (
            await session.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(p)) "
                    "FROM unnest(CAST(:p AS int[])) p"
                ),
                {"p": list(pids)},
            )
        ).scalar_one()
    assert killed == len(pids)
    await _wait_gone(db, pids)


@pytest.fixture
async def small_db(database_url: str, app_database_url: str) -> AsyncIterator[Database]:
    """A pool of its own (2 connections), so the test knows every connection in it."""
    small = Database.connect(plain_url(database_url), app_url=app_database_url, pool_size=2)
    yield small
    await small.dispose()


async def test_read_retries_after_the_pooled_connection_was_terminated(small_db, db, two_stocked):
    """What a server restart does to every idle connection, round after round: which
    error asyncpg raises on a dead connection depends on timing, so one round is luck."""
    mine, _ = two_stocked
    engine = small_db.app_engine
    for round_ in range(10):
        pid = await read(engine, mine.tenant_id, _pid)
        assert engine.pool.checkedin() == 1
        await _terminate(db, {pid})
        count = await read(
            engine, mine.tenant_id, lambda r: r.fetchval("SELECT count(*) FROM stock_levels")
        )
        assert count == 3, round_
        new_pid = await small_db.read(mine.tenant_id, _pid)
        assert new_pid != pid


async def test_read_goes_through_every_dead_connection_of_the_pool(small_db, db, two_stocked):
    """More reads at once than the pool holds wait for its connections (no overflow
    connection is opened and closed); after a restart every pooled one is dead."""
    mine, _ = two_stocked
    engine = small_db.app_engine

    async def slow_pid(reader: Reader) -> int:
        return int(await reader.fetchval("SELECT pg_backend_pid() FROM pg_sleep(0.05)"))

    pids = set(await asyncio.gather(*(read(engine, mine.tenant_id, slow_pid) for _ in range(8))))
    assert len(pids) == 2  # the pool's two, each used in turn
    assert engine.pool.checkedin() == 2
    assert await _alive(db, pids) == pids  # kept open, not closed on return
    again = set(await asyncio.gather(*(read(engine, mine.tenant_id, slow_pid) for _ in range(8))))
    assert again == pids  # the same backends: no connection was opened or closed
    await _terminate(db, pids)
    count = await small_db.read(
        mine.tenant_id, lambda r: r.fetchval("SELECT count(*) FROM stock_levels")
    )
    assert count == 3
    assert await small_db.read(mine.tenant_id, _pid) not in pids


async def test_tenant_reader_reports_a_dead_connection_as_connection_lost(
    small_db, db, two_stocked
):
    mine, _ = two_stocked
    engine = small_db.app_engine
    for _round in range(5):
        pid = await read(engine, mine.tenant_id, _pid)
        await _terminate(db, {pid})
        with pytest.raises(ConnectionLost):
            async with tenant_reader(engine, mine.tenant_id):
                pass  # pragma: no cover - BEGIN fails first
        # the dead connection was thrown away; the next reader gets a live one
        async with tenant_reader(engine, mine.tenant_id) as reader:
            assert await reader.fetchval("SELECT count(*) FROM stock_levels") == 3
            assert await _pid(reader) != pid


async def test_a_connection_lost_inside_the_block_is_connection_lost(small_db, db, two_stocked):
    mine, _ = two_stocked
    engine = small_db.app_engine
    for _round in range(5):
        with pytest.raises(ConnectionLost):
            async with tenant_reader(engine, mine.tenant_id) as reader:
                pid = await _pid(reader)
                await _terminate(db, {pid})
                await reader.fetchval("SELECT 1")
        async with tenant_reader(engine, mine.tenant_id) as reader:
            assert await reader.fetchval("SELECT count(*) FROM stock_levels") == 3
            assert await _pid(reader) != pid


async def test_loaders_are_made_lazily_once_per_request(db, two_stocked):
    mine, theirs = two_stocked
    loaders = Loaders(db, mine.tenant_id)
    assert "product_by_sku" not in vars(loaders) and "level_by_id" not in vars(loaders)
    by_sku = loaders.product_by_sku
    assert isinstance(by_sku, ReadLoader)
    assert loaders.product_by_sku is by_sku and vars(loaders)["product_by_sku"] is by_sku
    assert isinstance(loaders.level_by_id, ReadLoader)  # one kind of loader for every type
    assert set(vars(loaders)) == {"db", "tenant_id", "rows", "product_by_sku", "level_by_id"}
    assert Loaders(db, mine.tenant_id).product_by_sku is not by_sku

    a, missing, b = await asyncio.gather(by_sku.load("A"), by_sku.load("NOPE"), by_sku.load("B"))
    assert (a.sku, a.name_en, a.currency, a.id) == ("A", "Product A", "HKD", mine.products["A"])
    assert missing is None and b.id == mine.products["B"]
    by_id = loaders.product_by_id
    rows = await by_id.load_many([mine.products["C"], theirs.products["C"], mine.products["C"]])
    assert [r.sku if r else None for r in rows] == ["C", None, "C"]
    location = await loaders.location_by_id.load(mine.locations["S1"])
    assert (location.code, location.kind) == ("S1", "STORE")
    assert await loaders.location_by_id.load(theirs.locations["S1"]) is None


async def test_one_transaction_serves_every_read_on_one_connection(db, two_stocked):
    """Sequential and overlapping reads alike take turns on the one reader; a foreign
    tenant's read never borrows it."""
    mine, theirs = two_stocked
    engine = db.app_engine

    async def snapshot(reader: Reader) -> tuple[int, Any, int]:
        row = (
            await reader.fetch(
                "SELECT pg_backend_pid() AS pid, now() AS started, "
                "(SELECT count(*) FROM stock_levels) AS levels, pg_sleep(0.02) IS NULL AS s"
            )
        )[0]
        return row.pid, row.started, row.levels

    async with one_transaction(engine, mine.tenant_id):
        first = await read(engine, mine.tenant_id, snapshot)
        together = await asyncio.gather(*(db.read(mine.tenant_id, snapshot) for _ in range(3)))
        foreign = await read(engine, theirs.tenant_id, snapshot)
    assert {r[:2] for r in together} == {first[:2]}  # one backend, one transaction
    assert [first[2], *(r[2] for r in together)] == [3, 3, 3, 3]
    assert foreign[0] != first[0] and foreign[2] == 4


async def test_a_failing_read_in_one_transaction_frees_the_reader(db, two_stocked):
    mine, _ = two_stocked
    engine = db.app_engine

    async def fail(reader: Reader) -> None:
        raise LookupError("not this one")

    with pytest.raises(LookupError):
        async with one_transaction(engine, mine.tenant_id):
            with pytest.raises(LookupError):
                await read(engine, mine.tenant_id, fail)
            assert await read(engine, mine.tenant_id, _pid) > 0
            raise LookupError("rolls the shared transaction back")
    assert await read(engine, mine.tenant_id, lambda r: r.fetchval("SELECT 7")) == 7


@pytest.mark.parametrize("pool_size", [1, 4])  # 4: readers keep connections between reads
async def test_a_cancelled_read_never_leaves_a_transaction_or_a_tenant_on_the_pool(
    database_url, app_database_url, two_stocked, pool_size
):
    """Reads cancelled at every point (before, during and after BEGIN, the query and
    COMMIT): the next user of the pooled or kept connection finds no transaction and no
    tenant."""
    mine, _ = two_stocked
    one = Database.connect(plain_url(database_url), app_url=app_database_url, pool_size=pool_size)
    try:

        async def work(reader: Reader) -> int:
            return int(await reader.fetchval("SELECT count(*) FROM stock_levels"))

        cancelled = 0
        for steps in range(40):
            task = asyncio.ensure_future(one.read(mine.tenant_id, work))
            for _ in range(steps):
                await asyncio.sleep(0)
            if task.cancel():
                cancelled += 1
            with contextlib.suppress(asyncio.CancelledError):
                await task
            async with one.app_engine.connect() as conn:
                pg = (await conn.get_raw_connection()).driver_connection
                assert not pg.is_in_transaction(), steps
                assert await pg.fetchval("SELECT current_setting('app.tenant_id', true)") in (
                    None,
                    "",
                ), steps
                assert await pg.fetchval("SELECT count(*) FROM stock_levels") == 0  # RLS
            pool = reader_pool(one.app_engine)
            for held in pool.idle if pool is not None else ():
                assert not held.driver.is_in_transaction(), steps
                assert await held.driver.fetchval("SELECT count(*) FROM stock_levels") == 0
        assert cancelled >= 5  # the loop really cancelled reads part-way
        assert await one.read(mine.tenant_id, work) == 3
    finally:
        await one.dispose()


async def test_a_session_block_that_waits_on_another_tasks_read_fails_instead_of_hanging(
    db, two_stocked, monkeypatch
):
    """In one transaction a session block holds the turn; a read from another task that
    the block awaits cannot have it. It fails after TURN_TIMEOUT (then the transaction
    ends), and reads and sessions of the same task take their turns freely."""
    import db.reader as reader_module

    mine, _ = two_stocked
    monkeypatch.setattr(reader_module, "TURN_TIMEOUT", 0.2)
    count = "SELECT count(*) FROM stock_levels"
    async with one_transaction(db.app_engine, mine.tenant_id):
        async with db.tenant_transaction(mine.tenant_id) as session:
            # the same task: a read inside its own session block takes the turn again
            assert await db.read(mine.tenant_id, lambda r: r.fetchval(count)) == 3
            assert (await session.execute(text(count))).scalar() == 3
            other = asyncio.create_task(db.read(mine.tenant_id, lambda r: r.fetchval(count)))
            with pytest.raises(TimeoutError):
                await other
    assert await db.read(mine.tenant_id, lambda r: r.fetchval(count)) == 3


async def test_a_session_in_one_transaction_is_read_only_and_sees_the_same_snapshot(
    db, two_stocked
):
    mine, _ = two_stocked
    async with one_transaction(db.app_engine, mine.tenant_id) as shared:
        pid = await db.read(mine.tenant_id, lambda r: r.fetchval("SELECT pg_backend_pid()"))
        async with db.tenant_transaction(mine.tenant_id) as session:
            same = (await session.execute(text("SELECT pg_backend_pid()"))).scalar()
            assert same == pid  # one connection for reads and sessions
            assert shared.reader.tenant_id == mine.tenant_id
    with pytest.raises(Exception, match="read-only transaction"):
        async with one_transaction(db.app_engine, mine.tenant_id):
            async with db.tenant_transaction(mine.tenant_id) as session:
                await session.execute(text("UPDATE stock_levels SET reserved = reserved"))
    assert (
        await db.read(mine.tenant_id, lambda r: r.fetchval("SELECT count(*) FROM stock_levels"))
        == 3
    )


@pytest.fixture
async def pool_of_four(database_url: str, app_database_url: str) -> AsyncIterator[Database]:
    four = Database.connect(plain_url(database_url), app_url=app_database_url, pool_size=4)
    yield four
    await four.dispose()


def _readers(engine: Any) -> Any:
    pool = reader_pool(engine)
    assert pool is not None and pool.limit == 2  # half the pool
    return pool


async def test_reads_reuse_a_kept_connection_without_going_to_the_pool(pool_of_four, two_stocked):
    mine, theirs = two_stocked
    engine = pool_of_four.app_engine
    checkouts: list[Any] = []

    def checkout(*args: Any) -> None:
        checkouts.append(args)

    event.listen(engine.sync_engine.pool, "checkout", checkout)
    try:
        pid = await read(engine, mine.tenant_id, _pid)
        assert len(checkouts) == 1 and len(_readers(engine).idle) == 1
        for tenant in (mine, theirs, mine):  # one connection, each read its own tenant
            assert await read(engine, tenant.tenant_id, _pid) == pid
            count = await read(
                engine, tenant.tenant_id, lambda r: r.fetchval("SELECT count(*) FROM stock_levels")
            )
            assert count == (3 if tenant is mine else 4)
        assert len(checkouts) == 1  # every later read used the kept connection
    finally:
        event.remove(engine.sync_engine.pool, "checkout", checkout)


async def test_readers_hold_half_the_pool_and_writers_the_rest(pool_of_four, two_stocked):
    mine, _ = two_stocked
    db = pool_of_four
    engine = db.app_engine

    async def slow(reader: Reader) -> int:
        return int(await reader.fetchval("SELECT pg_backend_pid() FROM pg_sleep(0.05)"))

    pids = set(await asyncio.gather(*(read(engine, mine.tenant_id, slow) for _ in range(8))))
    assert len(pids) == 2  # eight reads at once, on the readers' two connections in turn
    assert len(_readers(engine).idle) == 2 and engine.pool.checkedout() == 2

    async def write() -> int:
        async with db.tenant_transaction(mine.tenant_id) as session:
            await session.execute(text("SELECT pg_sleep(0.05)"))
            return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    started = time.monotonic()
    writers = await asyncio.gather(write(), write())
    assert time.monotonic() - started < 0.5  # no wait for the readers' connections
    assert len(set(writers)) == 2 and not set(writers) & pids


async def test_kept_connections_go_back_to_the_pool_when_unused(pool_of_four, two_stocked):
    mine, _ = two_stocked
    engine = pool_of_four.app_engine
    await asyncio.gather(*(read(engine, mine.tenant_id, _pid) for _ in range(4)))
    readers = _readers(engine)
    assert len(readers.idle) >= 1
    await asyncio.sleep(KEEP_IDLE_SECONDS * 2.5)
    assert readers.idle == [] and readers.held == 0
    assert engine.pool.checkedout() == 0  # the whole pool is free again


async def test_a_reader_connection_whose_transaction_broke_is_not_kept(pool_of_four, two_stocked):
    mine, _ = two_stocked
    engine = pool_of_four.app_engine
    pid = await read(engine, mine.tenant_id, _pid)
    readers = _readers(engine)
    assert [h.driver.get_server_pid() for h in readers.idle] == [pid]
    with pytest.raises(ConnectionLost):
        async with tenant_reader(engine, mine.tenant_id) as reader:
            await reader.fetchval("SELECT pg_terminate_backend(pg_backend_pid())")
    assert readers.idle == [] and readers.held == 0  # thrown away, its place free
    assert await read(engine, mine.tenant_id, _pid) != pid


async def test_readers_are_served_in_turn(pool_of_four, two_stocked):
    """A reader that arrives while every reader connection is busy waits in turn: a
    stream of later reads never overtakes it."""
    mine, _ = two_stocked
    engine = pool_of_four.app_engine

    async def slow(reader: Reader) -> int:
        return int(await reader.fetchval("SELECT 1 FROM pg_sleep(0.02)"))

    stop = time.monotonic() + 1.5

    async def busy() -> int:  # a steady stream of reads, always more than the readers hold
        done = 0
        while time.monotonic() < stop:
            await read(engine, mine.tenant_id, slow)
            done += 1
        return done

    streams = [asyncio.create_task(busy()) for _ in range(8)]
    await asyncio.sleep(0.2)
    started = time.monotonic()
    assert await read(engine, mine.tenant_id, slow) == 1
    waited = time.monotonic() - started
    finished = sum(await asyncio.gather(*streams))
    assert finished > 40  # the stream really ran meanwhile
    assert waited < 0.5, waited  # its turn came with the others', not after the stream


async def test_a_reader_that_gives_up_waiting_passes_its_turn_on(pool_of_four, two_stocked):
    """Readers cancelled while they wait in the queue leave it; the connections still
    reach the readers behind them, and none is lost."""
    mine, _ = two_stocked
    engine = pool_of_four.app_engine

    async def slow(reader: Reader) -> int:
        return int(await reader.fetchval("SELECT 1 FROM pg_sleep(0.1)"))

    holders = [asyncio.create_task(read(engine, mine.tenant_id, slow)) for _ in range(2)]
    await asyncio.sleep(0.02)
    waiting = [asyncio.create_task(read(engine, mine.tenant_id, slow)) for _ in range(4)]
    await asyncio.sleep(0.02)
    for task in waiting[:2]:
        task.cancel()
    results = await asyncio.gather(*holders, *waiting, return_exceptions=True)
    assert results[:2] == [1, 1] and results[4:] == [1, 1]
    assert all(isinstance(r, asyncio.CancelledError) for r in results[2:4])
    readers = _readers(engine)
    assert readers.waiters == collections.deque() and readers.held == len(readers.idle) == 2
