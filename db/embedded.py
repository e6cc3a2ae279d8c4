"""Embedded PostgreSQL for development, used only when ``DATABASE_URL`` is unset: it lives in
``$STOCKGRAPH_HOME/pgdata``, listens on a Unix socket only and outlives the process, so later
runs reuse it. Prefers the ``pgserver`` wheel, else the system's own initdb/pg_ctl."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import pathlib
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import asyncpg

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"  # database role initdb creates (pgserver uses the same)
RUN_AS = "pgserver"  # OS user that runs the server when we are root (pgserver's choice too)


class EmbeddedPostgresError(RuntimeError):
    """No embedded PostgreSQL could be started; the message says what to install or set."""


def ensure_embedded_postgres(home: pathlib.Path, database: str = "stockgraph") -> str:
    """Start or reuse the server in ``home/pgdata``, create ``database``, return its URL
    (``postgresql://postgres@/DB?host=SOCKETDIR``: fine for asyncpg and SQLAlchemy+asyncpg)."""
    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    pgdata = home / "pgdata"
    with _locked(home):
        socket_dir = _running_socket_dir(pgdata)
        if socket_dir is None:
            socket_dir = _start(pgdata)
        # asyncio.run in a worker thread works even when our caller is inside an event loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _create_database(socket_dir, database)).result()
    return f"postgresql://{SUPERUSER}@/{quote(database)}?host={quote(str(socket_dir))}"


def stop_embedded_postgres(home: pathlib.Path) -> bool:
    """Stop the server in ``home/pgdata`` (fast shutdown, data kept); False if none ran."""
    pgdata = home.expanduser().resolve() / "pgdata"
    if (lines := _postmaster(pgdata)) is None:
        return False
    with _locked(pgdata.parent):
        os.kill(int(lines[0]), signal.SIGINT)  # what `pg_ctl stop -m fast` sends; any PG version
        deadline = time.monotonic() + 60
        while _postmaster(pgdata) is not None:  # the server deletes postmaster.pid last
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(f"PostgreSQL in {pgdata} did not stop within 60 s")
            time.sleep(0.05)
    logger.info("stopped embedded PostgreSQL in %s", pgdata)
    return True


def restart_embedded_postgres(home: pathlib.Path) -> None:
    """``pg_ctl restart -m fast``: every connection is cut, the data stays (fault tests)."""
    pgdata = home.expanduser().resolve() / "pgdata"
    version = (pgdata / "PG_VERSION").read_text().strip()
    bindir = _find_bindir()
    with contextlib.suppress(ImportError, OSError):
        from pgserver._commands import POSTGRES_BIN_PATH

        if (POSTGRES_BIN_PATH / "pg_ctl").is_file() and _major(POSTGRES_BIN_PATH) == version:
            bindir = POSTGRES_BIN_PATH
    owner = pwd.getpwuid(pgdata.stat().st_uid)
    user = owner if os.geteuid() == 0 and owner.pw_uid != 0 else None
    _run_as(user, bindir / "pg_ctl", "-D", pgdata, "-w", "-t", "60", "-m", "fast", "restart")


def _major(bindir: pathlib.Path) -> str:
    out = subprocess.run(  # noqa: S603
        [str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return out.strip().split()[-1].split(".")[0]


def _start(pgdata: pathlib.Path) -> pathlib.Path:
    """Try each way to start PostgreSQL; if all fail, say why each did and what to do."""
    failures = []
    for name, start in (
        ("pgserver package", _start_with_pgserver),
        ("system initdb/pg_ctl", _start_with_system_binaries),
    ):
        began = time.monotonic()
        try:
            socket_dir = start(pgdata)
        except Exception as exc:
            logger.warning("could not start PostgreSQL via %s: %s", name, exc)
            failures.append(f"{name}: {type(exc).__name__}: {exc}".strip())
            continue
        logger.info("started PostgreSQL via %s in %.1f s", name, time.monotonic() - began)
        return socket_dir
    raise EmbeddedPostgresError(
        f"Could not start an embedded PostgreSQL in {pgdata}:\n  "
        + "\n  ".join(failures)
        + "\nInstall the `pgserver` package or PostgreSQL's server binaries (initdb, pg_ctl), "
        "or set DATABASE_URL=postgresql://USER:PASSWORD@HOST:5432/DBNAME to use your own server."
    )


def _start_with_pgserver(pgdata: pathlib.Path) -> pathlib.Path:
    """pgserver handles initdb, socket-path limits and root (it runs the server as RUN_AS)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns if XDG_RUNTIME_DIR is unset
        from pgserver.postgres_server import PostgresServer, get_server
    # pgserver caches one handle per data dir and would not notice the server was stopped since.
    PostgresServer._instances.pop(pgdata, None)
    socket_dir = get_server(pgdata, cleanup_mode=None).get_postmaster_info().socket_dir
    assert socket_dir is not None  # always a Unix socket outside Windows
    return socket_dir


def _start_with_system_binaries(pgdata: pathlib.Path) -> pathlib.Path:
    """Use the machine's PostgreSQL; PostgreSQL refuses root, so run it as RUN_AS then."""
    bindir = _find_bindir()
    user = _unprivileged_user() if os.geteuid() == 0 else None
    pgdata.mkdir(exist_ok=True)
    socket_dir = pgdata
    if len(str(pgdata / ".s.PGSQL.5432").encode()) > 100:  # sun_path holds ~107 bytes
        digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
        socket_dir = pathlib.Path(tempfile.gettempdir()) / f"stockgraph-pg-{digest}"
        socket_dir.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        for parent in pgdata.parents:  # let RUN_AS traverse to the data dir (search bit only)
            parent.chmod(parent.stat().st_mode | 0o011)
        for path in (pgdata, socket_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
    if not (pgdata / "PG_VERSION").exists():
        _run_as(
            user,
            bindir / "initdb",
            "-D",
            pgdata,
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
        )
    _run_as(
        user,
        bindir / "pg_ctl",
        "-D",
        pgdata,
        "-l",
        pgdata / "log",
        "-w",
        "-t",
        "30",
        "-o",
        f"-h '' -k '{socket_dir}'",
        "start",
    )
    return socket_dir


def _find_bindir() -> pathlib.Path:
    """Directory holding both initdb and pg_ctl: PATH first, then Debian's versioned dirs."""
    found = shutil.which("initdb")
    candidates = [pathlib.Path(found).resolve().parent] if found else []
    versioned = pathlib.Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versioned, key=lambda p: (len(p.parent.name), p.parent.name))[::-1]
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise FileNotFoundError("initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin")


def _unprivileged_user() -> pwd.struct_passwd:
    """Return RUN_AS, creating it with useradd as pgserver does when it is missing."""
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(RUN_AS)
    cmd = ["useradd", "--system", "-s", "/bin/bash", RUN_AS]
    subprocess.run(cmd, check=True, capture_output=True)  # noqa: S603
    return pwd.getpwnam(RUN_AS)


def _run_as(user: pwd.struct_passwd | None, *args: str | pathlib.Path) -> None:
    """Run a PostgreSQL tool; output goes to a file because pipes inherited by postgres hang."""
    with tempfile.TemporaryFile() as out:
        done = subprocess.run(  # noqa: S603
            [str(a) for a in args],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd="/",
            timeout=60,
            check=False,
            user=user and user.pw_uid,
            group=user and user.pw_gid,
            extra_groups=None if user is None else [],
        )
        if done.returncode != 0:
            out.seek(0)
            raise RuntimeError(f"{pathlib.Path(args[0]).name}: {out.read().decode()[-2000:]}")


def _postmaster(pgdata: pathlib.Path) -> list[str] | None:
    """Lines of ``postmaster.pid`` if its process is alive and (per /proc, if any) a postgres."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        os.kill(int(lines[0]), 0)  # we are the server's owner or root: fails only if it is gone
        cmdline = pathlib.Path(f"/proc/{int(lines[0])}/cmdline")
        if cmdline.exists() and b"postgres" not in cmdline.read_bytes():
            return None  # stale file; the PID now belongs to something else
    except (OSError, ValueError, IndexError):
        return None
    return lines


def _running_socket_dir(pgdata: pathlib.Path) -> pathlib.Path | None:
    """Socket dir of a live server for ``pgdata``; waits while it is still starting up."""
    deadline = time.monotonic() + 30
    while (lines := _postmaster(pgdata)) is not None:
        if len(lines) >= 8 and lines[7].strip() == "ready" and lines[4].strip():
            return pathlib.Path(lines[4].strip())
        if time.monotonic() > deadline:
            raise EmbeddedPostgresError(f"PostgreSQL in {pgdata} is running but never got ready")
        time.sleep(0.1)
    return None


async def _create_database(socket_dir: pathlib.Path, database: str) -> None:
    """Create the application database unless it exists (another process may race us)."""
    conn = await asyncpg.connect(host=str(socket_dir), user=SUPERUSER, database="postgres")
    try:
        if not await conn.fetchval("select 1 from pg_database where datname = $1", database):
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute('create database "{}"'.format(database.replace('"', '""')))
    finally:
        await conn.close()


@contextlib.contextmanager
def _locked(home: pathlib.Path) -> Iterator[None]:
    """Exclusive cross-process lock so two starters never initdb/start one data dir at once."""
    with (home / ".pgdata.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield
