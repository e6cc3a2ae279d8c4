"""A throwaway database and a real server for a benchmark run."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from db.migrate import upgrade_sync
from db.session import plain_url
from domain import ids

# Global IDs are encrypted under the deployment's ID key (domain/ids.py): the servers the
# benchmarks start and the IDs the benchmarks compute must share one.
ID_KEY = "stockgraph-benchmark-id-key"
ids.configure(ID_KEY.encode())

BASE_URL = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database() -> Iterator[str]:
    name = f"sg_bench_{secrets.token_hex(4)}"
    admin = plain_url(BASE_URL)

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(admin)
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    upgrade_sync(url)
    try:
        yield url
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def signing_key() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@contextmanager
def server(
    url: str, key: bytes, workers: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """A uvicorn process; yields (base URL, pid of the serving process).

    ``env`` adds or overrides environment variables of the server (e.g. ``STOCKGRAPH_ENV``).
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = Path(tempfile.mkdtemp(prefix="sg-bench-"))
    environ = {
        **os.environ,
        "DATABASE_URL": url,
        "STOCKGRAPH_SIGNING_KEY": key.decode(),
        "STOCKGRAPH_HOME": str(home),
        "STOCKGRAPH_WEBHOOKS_ENABLED": "false",
        # periodic jobs (forecasts, offers, retagging) would run inside the timed server
        "STOCKGRAPH_SCHEDULER_ENABLED": "false",
        # one client at thousands of requests a second: the per-client cost bucket
        # (a fairness limit for a public API) would measure itself, not the server
        "STOCKGRAPH_COST_BUCKET_SIZE": "100000000",
        "STOCKGRAPH_COST_RESTORE_RATE": "100000000",
        "STOCKGRAPH_ID_KEY": ID_KEY,
        **(env or {}),
    }
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:app_from_env",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
            "--ws-per-message-deflate",
            "false",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
        ],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    last = "no answer from /readyz"
    while True:
        try:
            ready = httpx.get(base + "/readyz", timeout=1)
            if ready.status_code == 200:
                break
            last = f"/readyz: {ready.status_code} {ready.text}"
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.terminate()
            raise RuntimeError(f"{last}\n{(home / 'server.log').read_text()}")
        time.sleep(0.1)
    try:
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
