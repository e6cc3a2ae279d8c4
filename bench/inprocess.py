"""CPU per request in-process: the ASGI app, middleware and all, answering one request at a time.

Why: on a shared 2-core machine the load-driven figures (``bench.compare``) move by
±15% from one minute to the next; one process answering requests one after another,
timed with ``time.process_time()``, shows what a change does to a request's own cost.
No HTTP server and no socket: each request is handed to the app as ASGI messages, so
uvicorn's share (about 125 µs a request here) is not in these figures.

Builds a small chain in a scratch database (10 locations × 2,000 products), starts the
app with its lifespan in production mode under its own app login, and answers
``--requests`` requests of one shape in blocks of 500; prints the fastest and the median
block's CPU time per request. ``--other DIR`` runs the same in a second process against
another checkout (say, ``git worktree add DIR <commit>``), in turn, ``--rounds`` times,
and prints both with their ratio. ``--profile`` prints cProfile's top functions (by CPU
time) and the own time per package.

Shapes: q1 (first 50 levels of a location with product sku and names), q2 (the same,
first 250), q5 (q1 written with fragments, as in bench/read_shapes.py), m3
(``recordSale`` of two lines, a new receipt each time).

    python -m bench.inprocess [--shape q1|q2|q5|m3] [--requests 2000] [--other DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BLOCK = 500
ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT = dict(os.environ)  # as started: a measurement sets the app's own variables


def _bodies(shape: str, data: Any, count: int) -> list[bytes]:
    from bench.compare import SG_Q1
    from bench.writes import SG_M3

    if shape in ("q1", "q2", "q5"):
        query = SG_Q1 if shape == "q1" else SG_Q1.replace("first: 50", "first: 250")
        if shape == "q5":
            from bench.read_shapes import SG_Q5 as query
        return [
            json.dumps({"query": query, "variables": {"loc": g}}).encode()
            for g in data.location_gids
        ]
    rng = random.Random(1)
    bodies = []
    for i in range(count):
        lines = [
            {"sku": f"SKU-{k:05d}", "quantity": 1} for k in rng.sample(range(1, data.products), 2)
        ]
        sale = {
            "locationId": rng.choice(data.location_gids),
            "receiptNumber": f"R{i}-{secrets.token_hex(4)}",
            "lines": lines,
        }
        bodies.append(json.dumps({"query": SG_M3, "variables": {"input": sale}}).encode())
    return bodies


async def _answer(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """One POST /graphql through the whole ASGI app; the response body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent = False
    out: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        out.append(message)

    await app(scope, receive, send)
    if out[0]["status"] != 200:
        raise RuntimeError(f"status {out[0]['status']}: {out[1].get('body', b'')[:300]!r}")
    answer = b"".join(m.get("body", b"") for m in out[1:])
    if b'"errors"' in answer or (b"userErrors" in answer and b'"userErrors":[]' not in answer):
        raise RuntimeError(f"unexpected answer: {answer[:300]!r}")
    return answer


async def _run(args: argparse.Namespace, url: str, app_url: str, data: Any) -> list[float]:
    from bench.common import ID_KEY, signing_key

    os.environ.update(
        {
            "DATABASE_URL": url,
            "STOCKGRAPH_SIGNING_KEY": signing_key().decode(),
            "STOCKGRAPH_ENV": "production",
            "STOCKGRAPH_APP_DATABASE_URL": app_url,
            "STOCKGRAPH_DATA_KEY": secrets.token_hex(32),
            "STOCKGRAPH_WEBHOOKS_ENABLED": "false",
            "STOCKGRAPH_SCHEDULER_ENABLED": "false",
            "STOCKGRAPH_COST_BUCKET_SIZE": "100000000",
            "STOCKGRAPH_COST_RESTORE_RATE": "100000000",
            "STOCKGRAPH_ID_KEY": ID_KEY,
            "STOCKGRAPH_HOME": tempfile.mkdtemp(prefix="sg-inprocess-"),
        }
    )
    import httpx

    from api.app import create_app

    app = create_app()
    warm = 300
    bodies = _bodies(args.shape, data, args.requests + warm)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            token = (
                await client.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(data.client_id, data.client_secret),
                )
            ).json()["access_token"]
        headers = [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ]
        for i in range(warm):
            await _answer(app, headers, bodies[i % len(bodies)])
        profile = cProfile.Profile(time.process_time) if args.profile else None
        blocks: list[float] = []
        if profile is not None:
            profile.enable()
        for b in range(max(1, args.requests // BLOCK)):
            started = time.process_time()
            for i in range(BLOCK):
                await _answer(app, headers, bodies[(warm + b * BLOCK + i) % len(bodies)])
            blocks.append((time.process_time() - started) / BLOCK * 1e6)
        if profile is not None:
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("tottime").print_stats(30)
            _by_package(stats)
    return blocks


def _by_package(stats: pstats.Stats) -> None:
    """Own CPU time summed per package (strawberry, sqlalchemy, this project's modules …)."""
    totals: dict[str, float] = {}
    for (path, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in path:
            package = path.split("site-packages/", 1)[1].split("/", 1)[0]
        elif path.startswith(str(ROOT)):
            package = "stockgraph:" + path[len(str(ROOT)) + 1 :].split("/", 1)[0]
        elif path == "~":
            package = "built-ins"
        else:
            package = "stdlib"
        totals[package] = totals.get(package, 0.0) + row[2]
    whole = sum(totals.values()) or 1.0
    print("own time per package:")
    for package, seconds in sorted(totals.items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {100 * seconds / whole:5.1f}%  {package}")


def measure(args: argparse.Namespace) -> list[float]:
    """This checkout's figures: CPU µs per request of each block."""
    import uvloop

    from bench.common import scratch_database
    from bench.compare import app_login, sql
    from bench.dataset import build_sync

    with scratch_database() as url:
        data = build_sync(url, locations=10, products=2000)
        sql(url, "VACUUM ANALYZE")
        with app_login(url) as app_url:
            return uvloop.run(_run(args, url, app_url, data))


def _other(args: argparse.Namespace) -> list[float]:
    """The same shape measured in a process that imports the other checkout first."""
    # the other checkout's packages come first; this module is loaded from its own file
    code = (
        "import sys, json, importlib.util; sys.path.insert(0, sys.argv[1]); "
        "spec = importlib.util.spec_from_file_location('inprocess', sys.argv[2]); "
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
        "print(json.dumps(m.main(sys.argv[3:], quiet=True)))"
    )
    command = [sys.executable, "-c", code, str(args.other), __file__, "--shape", args.shape]
    command += ["--requests", str(args.requests)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=args.other, env=ENVIRONMENT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    figures: list[float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _line(label: str, blocks: list[float]) -> str:
    return f"{label}: min {min(blocks):,.0f} µs, median {statistics.median(blocks):,.0f} µs"


def main(argv: list[str] | None = None, quiet: bool = False) -> list[float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="q1", choices=["q1", "q2", "q5", "m3"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--other", type=Path, help="another checkout to measure in turn")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if quiet:
        return measure(args)
    if args.other is None:
        print(_line(f"{args.shape}, CPU per request", measure(args)))
        return []
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(args.rounds):  # in turn, so that drift hits both alike
        mine += measure(args)
        theirs += _other(args)
    print(_line(f"{args.shape}, this checkout ({ROOT})", mine))
    print(_line(f"{args.shape}, other checkout ({args.other})", theirs))
    ratio = statistics.median(mine) / statistics.median(theirs)
    print(f"this ÷ other (median CPU per request): {ratio:.2f}")
    return mine


if __name__ == "__main__":
    main()
