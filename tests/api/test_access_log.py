"""The process: production writes no per-request access log unless asked; when asked,
one JSON line per request (all, or a sampled share). Real `stockgraph serve`."""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.access_log import AccessLog
from api.settings import Settings


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_and_call(
    database_url: str, app_database_url: str, key: bytes, home: Path, env: dict[str, str]
) -> str:
    """Start `stockgraph serve` in production, make five requests, stop it; its stderr."""
    port = _port()
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STOCKGRAPH_APP_DATABASE_URL": app_database_url,
        "STOCKGRAPH_ENV": "production",
        "STOCKGRAPH_SIGNING_KEY": key.decode(),
        "STOCKGRAPH_DATA_KEY": bytes(range(32)).hex(),
        "STOCKGRAPH_HOME": str(home),
        "STOCKGRAPH_POOL_SIZE": "2",
        "STOCKGRAPH_WEBHOOKS_ENABLED": "false",
        "STOCKGRAPH_NOTIFICATIONS_ENABLED": "false",
        **env,
    }
    err = home / "stderr.log"
    with open(err, "wb") as sink:
        proc = subprocess.Popen(
            [Path(sys.executable).parent / "stockgraph", "serve", "--port", str(port)],
            env=environ,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, err.read_text()
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, err.read_text()
                time.sleep(0.2)
            for _ in range(3):
                assert httpx.get(base + "/healthz").status_code == 200
            assert httpx.post(base + "/graphql", json={"query": "{ __typename }"}).status_code
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return err.read_text()


def access_lines(output: str) -> list[dict]:
    lines = []
    for line in output.splitlines():
        if line.startswith("{") and '"path"' in line:
            lines.append(json.loads(line))
    return lines


def test_production_serves_without_an_access_log_by_default(
    database_url, app_database_url, signing_key, tmp_path
):
    output = serve_and_call(database_url, app_database_url, signing_key, tmp_path, {})
    assert "✓ API listening on http://127.0.0.1:" in output, output
    assert "GET /healthz" not in output  # uvicorn's own access log
    assert access_lines(output) == []
    assert "GraphiQL:" not in output  # off in production, so its URL is not printed


def test_production_writes_json_lines_when_asked(
    database_url, app_database_url, signing_key, tmp_path
):
    output = serve_and_call(
        database_url,
        app_database_url,
        signing_key,
        tmp_path,
        {"STOCKGRAPH_ACCESS_LOG": "all", "STOCKGRAPH_GRAPHIQL": "true"},
    )
    lines = access_lines(output)
    health = [x for x in lines if x["path"] == "/healthz"]
    assert len(health) >= 4  # the readiness probe's last call and the three
    assert {x["status"] for x in health} == {200}
    assert all(x["method"] == "GET" and x["ms"] >= 0 and not x["sampled"] for x in health)
    graphql = [x for x in lines if x["path"] == "/graphql"]
    assert len(graphql) == 1 and graphql[0]["method"] == "POST"
    assert graphql[0]["status"] in (200, 401)
    assert "GET /healthz" not in output  # never both
    assert "GraphiQL: http://127.0.0.1:" in output


def test_settings_choose_the_rate():
    assert Settings(env="production").access_log_rate == 0.0
    assert Settings(env="development").access_log_rate == 1.0
    assert Settings(env="production", access_log="all").access_log_rate == 1.0
    sampled = Settings(env="production", access_log="sampled", access_log_sample=0.05)
    assert sampled.access_log_rate == 0.05
    assert Settings(env="development", access_log="off").access_log_rate == 0.0


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(record.getMessage()))


async def test_a_sampled_log_keeps_about_its_share():
    async def ok(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/x", ok)], middleware=[Middleware(AccessLog, rate=0.25)])
    random.seed(14)
    seen = Lines()
    logger = logging.getLogger("stockgraph.access")
    logger.addHandler(seen)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            for _ in range(400):
                assert (await client.get("/x")).status_code == 200
    finally:
        logger.removeHandler(seen)
    assert 60 <= len(seen.lines) <= 140, len(seen.lines)
    assert all(x["path"] == "/x" and x["status"] == 200 and x["sampled"] for x in seen.lines)
