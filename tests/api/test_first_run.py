"""The first run and the operator, as a new user meets them: `stockgraph serve` in stages,
a busy port, Ctrl-C, `db stop`, `keys generate`, and one-line errors for bad settings."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.cli import _where
from api.settings import Settings
from db.embedded import stop_embedded_postgres
from domain.members.crypto import parse_master_key
from tests.conftest import SERVER_POOL_SIZE


def _env(**extra: str | None) -> dict[str, str]:
    """The environment of a new user: no STOCKGRAPH_ settings but a small pool (shared server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKGRAPH_")}
    env.pop("DATABASE_URL", None)
    env["STOCKGRAPH_POOL_SIZE"] = str(SERVER_POOL_SIZE)
    for key, value in extra.items():
        if value is not None:
            env[key] = value
    return env


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(*args: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start `stockgraph serve` and wait until it answers /healthz."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), *args],
        env={**env, "COLUMNS": "200"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("serve did not start: " + log.read_text())


def _interrupt(process: subprocess.Popen[bytes]) -> None:
    """What Ctrl-C does: SIGINT, then wait for a clean exit."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def _postmaster_pid(home: Path) -> int | None:
    try:
        pid = int((home / "pgdata" / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return pid


def _alive(pid: int) -> bool:
    """Running, not gone nor a zombie (a container's init may be slow to reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_busy_port_fails_at_once_with_one_line(database_url):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        began = time.monotonic()
        result = cli("serve", "--port", str(port), env=_env(DATABASE_URL=database_url))
    assert result.returncode == 1
    assert time.monotonic() - began < 20  # no database work, no demo: at once
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"error: port {port} on 127.0.0.1 is in use: stop what holds it or choose another "
        f"(make run PORT={port + 10}, or stockgraph serve --port {port + 10})"
    ]
    assert "GraphiQL" not in result.stderr


@pytest.fixture
def home() -> Iterator[Path]:
    """Outside pytest's 0700 temporary tree: PostgreSQL runs as another user when we are root."""
    home = Path(tempfile.mkdtemp(prefix="sg-first-run-", dir="/tmp"))
    home.chmod(0o755)
    yield home
    stop_embedded_postgres(home)
    shutil.rmtree(home, ignore_errors=True)


def test_embedded_postgres_is_stopped_by_ctrl_c_and_by_db_stop(home, tmp_path):
    env = _env(STOCKGRAPH_HOME=str(home))
    # A command that is not serve leaves the server running for the next one ...
    upgraded = cli("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert json.loads(upgraded.stdout)["upgraded"] is True
    assert "INFO pgserver" not in upgraded.stderr  # pg_ctl chatter stays out of the way
    pid = _postmaster_pid(home)
    assert pid is not None
    # ... and `db stop` stops one left over.
    stopped = cli("db", "stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout) == {"stopped": True, "pgdata": str(home / "pgdata")}
    assert _postmaster_pid(home) is None
    again = cli("db", "stop", env=env)
    assert json.loads(again.stdout)["stopped"] is False

    log = tmp_path / "serve.log"
    process, url = _serve(env=env, log=log)
    pid = _postmaster_pid(home)
    assert pid is not None
    assert httpx.get(url + "/healthz").status_code == 200
    _interrupt(process)
    assert _postmaster_pid(home) is None
    assert not _alive(pid)
    output = log.read_text()
    stages = [
        "✓ PostgreSQL (embedded",
        "✓ Database schema up to date",
        f"✓ API listening on {url}/graphql",
        "✓ Embedded PostgreSQL stopped",
    ]
    positions = [output.index(s) for s in stages]
    assert positions == sorted(positions), output
    assert " INFO " not in output and "Uvicorn running" not in output


def test_keys_generate_prints_or_writes_keys_the_server_reads(tmp_path):
    printed = cli("keys", "generate", env=_env())
    assert printed.returncode == 0, printed.stderr
    keys = json.loads(printed.stdout)
    assert keys["signing_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert len(parse_master_key(keys["data_key"])) == 32
    assert "chmod 600" in printed.stderr and "Never replace or lose it" in printed.stderr

    out = tmp_path / "secrets"
    written = cli("keys", "generate", "--out", str(out), env=_env())
    assert written.returncode == 0, written.stderr
    files = json.loads(written.stdout)
    signing, data = Path(files["signing_key_file"]), Path(files["data_key_file"])
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(signing.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o600
    settings = Settings(**{"signing_key_file": signing, "data_key_file": data})  # type: ignore[arg-type]
    assert settings.signing_key_pem() == signing.read_bytes()
    key = settings.data_key_bytes()
    assert base64.urlsafe_b64encode(key).decode() == data.read_text().strip()
    # A second run never replaces a data key.
    refused = cli("keys", "generate", "--out", str(out), env=_env())
    assert refused.returncode == 2 and refused.stdout == ""
    assert "exists" in refused.stderr
    assert data.read_text().strip() == base64.urlsafe_b64encode(key).decode()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"STOCKGRAPH_ENV": "prod"},
            "error: setting STOCKGRAPH_ENV: Input should be 'development' or 'production'",
        ),
        (
            {"STOCKGRAPH_ENV": "production", "STOCKGRAPH_APP_DATABASE_URL": "postgresql://x/y"},
            "error: STOCKGRAPH_SIGNING_KEY or STOCKGRAPH_SIGNING_KEY_FILE must be set in "
            "production (`stockgraph keys generate` makes both keys)",
        ),
        (
            {"STOCKGRAPH_ENV": "production"},
            "error: production needs STOCKGRAPH_APP_DATABASE_URL: a login that is only a member "
            "of stockgraph_app (make one with `stockgraph db app-login`)",
        ),
        (
            {"STOCKGRAPH_POOL_SIZE": "ten"},
            "error: setting STOCKGRAPH_POOL_SIZE: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
    ],
)
def test_a_missing_or_bad_setting_is_one_line(database_url, settings, message):
    result = cli(
        "serve", "--port", str(_free_port()), env=_env(DATABASE_URL=database_url, **settings)
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [message]


def test_db_upgrade_against_a_missing_database_is_one_line(database_url):
    missing = database_url.rsplit("/", 1)[0] + "/sg_no_such_database"
    result = cli("db", "upgrade", env=_env(DATABASE_URL=missing))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f'error: PostgreSQL at {_where(missing)}: database "sg_no_such_database" '
        "does not exist (create it, or point DATABASE_URL at one that exists)"
    ]


def test_make_run_takes_a_port_and_test_runs_in_parallel():
    root = Path(__file__).resolve().parents[2]

    def dry_run(*args: str) -> list[str]:
        done = subprocess.run(
            ["make", "-n", "--no-print-directory", *args],
            cwd=root,
            env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},  # under make
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.splitlines()

    run = dry_run("run", "PORT=8010")
    assert run[-1].endswith("stockgraph serve --demo --host 127.0.0.1 --port 8010")
    assert any("cjk-font.sh" in line for line in run)  # the PDF reports' font, when missing
    test = dry_run("test", "TEST_WORKERS=3")
    assert test[-1].endswith("-m pytest -q -n 3 --dist loadfile")


def test_python_m_api_cli_has_every_command():
    """`python -m api.cli` (as the tests and some operators run it) is the same tool."""
    listed = cli("clients", "--help", env=_env(COLUMNS="200"))
    assert listed.returncode == 0, listed.stderr
    for command in ("create", "rotate-secret", "disable"):
        assert f" {command} " in listed.stdout
    top = cli("--help", env=_env(COLUMNS="200")).stdout
    for command in ("serve", "keys", "db", "reconcile", "export", "import"):
        assert f" {command} " in top


@pytest.fixture
def own_database(database_url: str) -> Iterator[str]:
    """A database of this test's own, where a tenant coded `demo` troubles no other test."""
    import asyncio

    import asyncpg

    from db.migrate import upgrade_sync
    from tests.conftest import BASE_URL, _with_database

    name = f"sg_first_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = database_url.rsplit("/", 1)[0] + "/postgres"

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    url = _with_database(BASE_URL, name)
    upgrade_sync(url)
    yield url
    asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_serve_demo_ends_with_whom_to_act_as_and_a_first_curl_that_works(own_database, tmp_path):
    """`serve --demo` on a chain loaded before (credentials kept under home): the staff with
    rank and locations, the apps' credentials, and last a curl that answers."""
    home = tmp_path / "home"
    env = _env(DATABASE_URL=own_database, STOCKGRAPH_HOME=str(home))

    def ok(*args: str) -> dict:
        result = cli(*args, env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    ok("tenants", "create", "--code", "demo", "--name", "示範 Demo")
    for code in ("MK", "CWB"):
        ok("locations", "create", "--tenant", "demo", "--code", code, "--name-zh", code,
           "--name-en", code)  # fmt: skip
    staff = [
        {
            "code": "E001",
            "name": "陳大文 Chan Tai Man",
            "role": "OWNER",
            "locations": ["MK", "CWB"],
        },
        {
            "code": "E010",
            "name": "王美玲 Wong Mei Ling",
            "role": "STORE_MANAGER",
            "locations": ["MK"],
        },
    ]
    for member in staff:
        where = ",".join(member["locations"])
        ok("staff", "create", "--tenant", "demo", "--code", member["code"], "--name",
           member["name"], "--role", member["role"], "--locations", where)  # fmt: skip
    client = ok("clients", "create", "--tenant", "demo", "--name", "POS", "--scopes", "stock:read")
    loaded = {
        "tenant": "demo",
        "clients": [{"name": "POS", "scopes": "stock:read", **client}],
        "staff": staff,
    }
    home.mkdir(exist_ok=True)
    (home / "demo-credentials.json").write_text(json.dumps(loaded, ensure_ascii=False))

    log = tmp_path / "serve.log"
    process, url = _serve("--demo", env=env, log=log)
    try:
        lines = [line.rstrip() for line in log.read_text().splitlines() if line.strip()]
        first_steps = lines.index("First steps (Ctrl-C stops the API):")
        token_cmd, query_cmd = lines[first_steps + 1].strip(), lines[first_steps + 2].strip()
        # After them only the access log of the requests made since (development logs all).
        assert all(line.startswith('{"method"') for line in lines[first_steps + 3 :])
        assert lines[0].startswith("✓ PostgreSQL from DATABASE_URL")
        assert any(line.startswith("✓ Demo chain already loaded") for line in lines)
        for member in staff:
            row = next(line for line in lines if f" {member['code']} " in line)
            assert member["name"] in row and member["role"] in row, row
            assert ", ".join(member["locations"]) in row, row
        shown = "\n".join(lines[:first_steps])
        assert f"client_id:     {client['client_id']}" in shown
        assert f"client_secret: {client['client_secret']}" in shown
        assert url in token_cmd and url + "/graphql" in query_cmd
        answer = subprocess.run(
            ["bash", "-c", f"{token_cmd}\n{query_cmd}"], capture_output=True, text=True, timeout=60
        )
        data = json.loads(answer.stdout)["data"]
        assert data["viewer"]["tenant"]["name"] == "示範 Demo"
        assert sorted(e["node"]["code"] for e in data["locations"]["edges"]) == ["CWB", "MK"]
    finally:
        _interrupt(process)
