"""The embedded PostgreSQL used when DATABASE_URL is unset: starts, reuses, notifies, stops."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from db import embedded
from db.embedded import EmbeddedPostgresError, ensure_embedded_postgres, stop_embedded_postgres

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home() -> Iterator[Path]:
    # Not tmp_path: as root the server runs as another OS user, which must traverse every parent,
    # and pytest's /tmp/pytest-of-root is 0700 (pgserver would chmod it). A short /tmp path also
    # keeps the Unix socket path well under its ~107-byte limit.
    path = Path(tempfile.mkdtemp(prefix="sg-embedded-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        stop_embedded_postgres(path)
        shutil.rmtree(path, ignore_errors=True)


async def _notify_roundtrip(url: str) -> str:
    listener, sender = await asyncpg.connect(url), await asyncpg.connect(url)
    received: asyncio.Queue[str] = asyncio.Queue()
    try:
        await listener.add_listener("stock_events", lambda *args: received.put_nowait(args[3]))
        await sender.execute("NOTIFY stock_events, 'sku-42 moved'")
        return await asyncio.wait_for(received.get(), timeout=5)
    finally:
        await listener.close()
        await sender.close()


async def test_start_notify_reuse_and_stop(home: Path) -> None:
    url = ensure_embedded_postgres(home)
    assert url.startswith("postgresql://postgres@/stockgraph?host=")

    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("select 1") == 1
        assert await conn.fetchval("select current_database()") == "stockgraph"
        await conn.execute("create table kept (value int); insert into kept values (42)")
    finally:
        await conn.close()
    assert await _notify_roundtrip(url) == "sku-42 moved"

    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.connect() as sa_conn:
            assert (await sa_conn.execute(text("select value from kept"))).scalar_one() == 42
    finally:
        await engine.dispose()

    # Second call in this process and a call from another process reuse the same server.
    pid_before = (home / "pgdata" / "postmaster.pid").read_text().split()[0]
    assert ensure_embedded_postgres(home) == url
    other = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import pathlib, sys; from db.embedded import ensure_embedded_postgres as e; "
        "print(e(pathlib.Path(sys.argv[1])))",
        str(home),
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(other.communicate(), timeout=60)
    assert other.returncode == 0, err.decode()
    assert out.decode().strip() == url
    assert (home / "pgdata" / "postmaster.pid").read_text().split()[0] == pid_before

    # After a stop, the next call starts it again on the same data (no re-initdb).
    stop_embedded_postgres(home)
    assert not (home / "pgdata" / "postmaster.pid").exists()
    stop_embedded_postgres(home)  # stopping a stopped server is a no-op
    assert ensure_embedded_postgres(home) == url
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("select value from kept") == 42
    finally:
        await conn.close()

    stop_embedded_postgres(home)
    assert not (home / "pgdata" / "postmaster.pid").exists()


def test_system_binaries_fallback_with_other_database(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        embedded._find_bindir()
    except FileNotFoundError:
        pytest.skip("no system initdb/pg_ctl on this machine")

    def broken_pgserver(pgdata: Path) -> Path:
        raise RuntimeError("pgserver unavailable")

    monkeypatch.setattr(embedded, "_start_with_pgserver", broken_pgserver)
    url = ensure_embedded_postgres(home, database="stockgraph_test")
    assert ensure_embedded_postgres(home, database="stockgraph_test") == url

    async def current_database() -> str:
        conn = await asyncpg.connect(url)
        try:
            return str(await conn.fetchval("select current_database()"))
        finally:
            await conn.close()

    assert asyncio.run(current_database()) == "stockgraph_test"


def test_error_names_what_is_missing_and_the_alternative(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pgserver(pgdata: Path) -> Path:
        raise ModuleNotFoundError("No module named 'pgserver'")

    def no_binaries(pgdata: Path) -> Path:
        raise FileNotFoundError("initdb/pg_ctl not found")

    monkeypatch.setattr(embedded, "_start_with_pgserver", no_pgserver)
    monkeypatch.setattr(embedded, "_start_with_system_binaries", no_binaries)
    with pytest.raises(EmbeddedPostgresError) as failure:
        ensure_embedded_postgres(home)
    message = str(failure.value)
    assert "pgserver" in message
    assert "initdb" in message
    assert "DATABASE_URL" in message
    assert not (home / "pgdata" / "postmaster.pid").exists()
    assert os.listdir(home) == [".pgdata.lock"]
