"""stockgraph against PostGraphile v5 and pgbench on the same tables, the same data, the same load.

Builds one data set in a fresh database (1 tenant, 50 locations × 2,000 SKUs =
100,000 stock levels, one RECEIPT movement each), then, in turn: stockgraph
(uvicorn), PostGraphile v5 (Node 22, amber preset) and pgbench, each server with
the same number of processes, each shape driven by wrk on loopback with the same
number of connections: a warm-up, then three runs; the medians are printed.

Shapes: Q1 one location's first 50 stock levels with product sku and names; Q2 the
same for all 2,000 (stockgraph caps ``first`` at 250: eight pages following
``pageInfo.endCursor``, counted as one operation); Q3–Q6 (bench/read_shapes.py): two
root fields, 20 objects by global ID, fragments, and documents with inlined values
instead of variables; M1 ``adjustStock`` of one line;
M2 ``receiveStock`` of 100 lines; M1 and M2 again with the outbox NOTIFY trigger
disabled; pgbench: a one-row UPDATE of ``stock_levels``. For each shape of each server,
the connections PostgreSQL saw opened during its runs (``pg_stat_database.sessions``
before and after) are printed: a server that keeps its pool opens none.

    python -m bench.compare [--quick] [--workers 1] [--connections 16] [--shapes q1,q3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from bench import loadgen, postgraphile, read_shapes
from bench.common import BASE_URL, scratch_database, server, signing_key
from bench.dataset import SKU_FORMAT, Dataset, build_sync
from bench.loadgen import Result, Shape
from db.roles import create_app_login
from db.session import plain_url

BARS = {
    "q1": 0.70,
    "q2": 0.54,
    "q3": 0.6,
    "q4": 0.6,
    "q5": 0.6,
    "q6": 0.6,
    "notify": 0.85,
}
READ_SHAPES = read_shapes.READ
ALL_SHAPES = ("q1", "q2", *READ_SHAPES, "m1", "m2")
M2_LINES = 100
PAGE = 250  # stockgraph's largest page (domain.pagination.MAX_PAGE)
Q2_ROWS = 2000
JSON_HEADERS = {"Content-Type": "application/json"}
SKU_LUA = SKU_FORMAT.replace("{:05d}", "%05d")

SG_Q1 = (
    "query($loc: ID!) { stockLevels(first: 50, locationIds: [$loc]) "
    "{ edges { node { onHand product { sku nameZh nameEn } } } } }"
)
SG_Q2 = (
    f"query($loc: ID!, $after: String) {{ stockLevels(first: {PAGE}, after: $after, "
    "locationIds: [$loc]) { edges { node { onHand product { sku nameZh nameEn } } } "
    "pageInfo { endCursor } } }"
)
SG_M1 = (
    "mutation($loc: ID!, $sku: String!) { adjustStock(input: {locationId: $loc, sku: $sku, "
    "delta: 1, reason: FOUND}) { stockLevels { onHand } userErrors { code } } }"
)
SG_M2 = (
    "mutation($input: ReceiveStockInput!) { receiveStock(input: $input) "
    "{ stockLevels { onHand } userErrors { code } } }"
)

# Lua for loadgen.Shape: new_op() and make_body(op, page, cursor). QUERY is the query as a
# JSON string literal; LOCS the location ids; NSKU the number of products.
LUA_LOCATION = """
function new_op() return {loc = LOCS[math.random(#LOCS)]} end
function make_body(op, page, cursor)
  local after = ""
  if PAGES > 1 then after = ',"after":' .. (cursor and ('"' .. cursor .. '"') or "null") end
  return '{"query":' .. QUERY .. ',"variables":{"loc":"' .. op.loc .. '"' .. after .. '}}'
end
"""
LUA_ADJUST = """
function new_op() return {loc = LOCS[math.random(#LOCS)], n = math.random(NSKU)} end
function make_body(op, page, cursor)
  return '{"query":' .. QUERY .. ',"variables":{"loc":"' .. op.loc .. '","sku":"'
    .. string.format(SKU, op.n) .. '"}}'
end
"""
LUA_RECEIVE = """
function new_op()
  local seen, lines = {}, {}
  while #lines < LINES do
    local n = math.random(NSKU)
    if not seen[n] then
      seen[n] = true
      lines[#lines + 1] = string.format('{"sku":"' .. SKU .. '","quantity":1}', n)
    end
  end
  return {loc = LOCS[math.random(#LOCS)], lines = table.concat(lines, ",")}
end
function make_body(op, page, cursor)
  return '{"query":' .. QUERY .. ',"variables":{"input":{"locationId":"' .. op.loc
    .. '","lines":[' .. op.lines .. ']}}}'
end
"""
LUA_UPDATE = """
function new_op() return {id = math.random(LO, HI), v = math.random(1, 1000)} end
function make_body(op, page, cursor)
  return '{"query":' .. QUERY .. ',"variables":{"id":"' .. op.id .. '","v":' .. op.v .. '}}'
end
"""
READ_QUERIES = {
    "q3": read_shapes.SG_Q3,
    "q4": read_shapes.SG_Q4,
    "q5": read_shapes.SG_Q5,
    "q6": read_shapes.SG_Q6.format(first=50, loc="<location ID>"),
}
NO_USER_ERRORS = '"userErrors"%s*:%s*%[%]'
SOME_EDGES = '"edges"%s*:%s*%[{'
SOME_NODES = '"nodes"%s*:%s*%[{'

PGBENCH_SQL = """\\set id random({lo}, {hi})
UPDATE stock_levels SET on_hand = on_hand + 1, version = version + 1
 WHERE tenant_id = {tenant} AND id = :id;
"""


@dataclass(frozen=True, slots=True)
class Options:
    """How hard and how long to drive each server."""

    workers: int
    connections: int
    warmup: float
    seconds: float
    runs: int
    servers: frozenset[str]
    shapes: frozenset[str] = frozenset(ALL_SHAPES)


Row = dict[str, Result | None]


@dataclass
class Figures:
    """Everything measured: per server and shape, the paired notify ratios, the queries."""

    sg: Row = field(default_factory=dict)
    pgl: Row = field(default_factory=dict)
    pgb: Result | None = None
    paired: dict[str, float] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)
    # new PostgreSQL connections (pg_stat_database.sessions) during each shape's runs
    sessions: dict[str, int] = field(default_factory=dict)


def sg_shapes(data: Dataset) -> dict[str, Shape]:
    """stockgraph's four shapes."""
    common = {"LOCS": data.location_gids, "NSKU": data.products, "SKU": SKU_LUA}
    return {
        "q1": Shape(LUA_LOCATION, 1, SOME_EDGES, {**common, "QUERY": json.dumps(SG_Q1)}),
        "q2": Shape(
            LUA_LOCATION, Q2_ROWS // PAGE, SOME_EDGES, {**common, "QUERY": json.dumps(SG_Q2)}
        ),
        "m1": Shape(LUA_ADJUST, 1, NO_USER_ERRORS, {**common, "QUERY": json.dumps(SG_M1)}),
        "m2": Shape(
            LUA_RECEIVE,
            1,
            NO_USER_ERRORS,
            {**common, "QUERY": json.dumps(SG_M2), "LINES": M2_LINES},
        ),
    }


def pgl_queries(names: postgraphile.Names, data: Dataset) -> dict[str, str]:
    """PostGraphile's generated equivalents (names found by introspection)."""
    order = f", orderBy: [{names.order}]" if names.order else ""

    def listing(first: int) -> str:
        return (
            f"query($loc: BigInt!) {{ {names.list_field}(first: {first}, "
            f'condition: {{tenantId: "{data.tenant_id}", locationId: $loc}}'
            f"{order}) {{ nodes {{ onHand {names.product_field} {{ sku nameZh nameEn }} }} }} }}"
        )

    out = {"q1": listing(50), "q2": listing(Q2_ROWS)}
    if names.update_field:
        out["m1"] = (
            f"mutation($id: BigInt!, $v: Int!) {{ {names.update_field}(input: "
            f'{{tenantId: "{data.tenant_id}", {names.update_key}: $id, '
            f"{names.patch_field}: {{onHand: $v}}}}) {{ stockLevel {{ onHand }} }} }}"
        )
    return out


def pgl_shapes(queries: dict[str, str], data: Dataset) -> dict[str, Shape]:
    common = {"LOCS": [str(i) for i in data.location_ids], "NSKU": data.products}
    shapes = {
        k: Shape(LUA_LOCATION, 1, SOME_NODES, {**common, "QUERY": json.dumps(queries[k])})
        for k in ("q1", "q2")
    }
    if "m1" in queries:
        shapes["m1"] = Shape(
            LUA_UPDATE,
            1,
            '"onHand"',
            {"QUERY": json.dumps(queries["m1"]), "LO": data.level_id_min, "HI": data.level_id_max},
        )
    return shapes


def _post(
    endpoint: str, headers: dict[str, str], query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """One GraphQL request; its data, or an exception on any error."""
    r = httpx.post(
        endpoint, json={"query": query, "variables": variables}, headers=headers, timeout=60
    )
    body = r.json()
    if r.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"probe failed: {r.status_code} {r.text[:500]}")
    data: dict[str, Any] = body["data"]
    return data


def probe_stockgraph(endpoint: str, headers: dict[str, str], data: Dataset) -> None:
    """One of each shape through Python, checked, before wrk is let loose on it."""
    loc = data.location_gids[0]
    rows = _post(endpoint, headers, SG_Q1, {"loc": loc})["stockLevels"]["edges"]
    assert len(rows) == 50 and rows[0]["node"]["product"]["sku"], rows[:1]
    after, total = None, 0
    for _ in range(Q2_ROWS // PAGE):
        page = _post(endpoint, headers, SG_Q2, {"loc": loc, "after": after})["stockLevels"]
        total += len(page["edges"])
        after = page["pageInfo"]["endCursor"]
    assert total == Q2_ROWS, total
    m1 = _post(endpoint, headers, SG_M1, {"loc": loc, "sku": SKU_FORMAT.format(1)})
    assert not m1["adjustStock"]["userErrors"], m1
    lines = [{"sku": SKU_FORMAT.format(i + 1), "quantity": 1} for i in range(M2_LINES)]
    m2 = _post(endpoint, headers, SG_M2, {"input": {"locationId": loc, "lines": lines}})
    payload = m2["receiveStock"]
    assert not payload["userErrors"] and len(payload["stockLevels"]) == M2_LINES, payload


def probe_postgraphile(endpoint: str, queries: dict[str, str], data: Dataset) -> None:
    loc = str(data.location_ids[0])
    for key, count in (("q1", 50), ("q2", Q2_ROWS)):
        listing = _post(endpoint, {}, queries[key], {"loc": loc})
        nodes = next(iter(listing.values()))["nodes"]
        assert len(nodes) == count and all(n for n in nodes), (key, len(nodes))
    if "m1" in queries:
        _post(endpoint, {}, queries["m1"], {"id": str(data.level_id_min), "v": 7})


def measure(opts: Options, endpoint: str, shape: Shape, headers: dict[str, str]) -> Result:
    def run(seconds: float) -> Result:
        return loadgen.run_wrk(endpoint, shape, opts.connections, seconds, headers)

    return loadgen.measure(run, opts.warmup, opts.seconds, opts.runs)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _sql(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def sql(url: str, *statements: str) -> None:
    asyncio.run(_sql(url, *statements))


@contextmanager
def notifications_off(url: str) -> Iterator[None]:
    """The outbox's NOTIFY trigger disabled for the block (scratch database only)."""
    sql(url, "ALTER TABLE events DISABLE TRIGGER events_notify")
    try:
        yield
    finally:
        sql(url, "ALTER TABLE events ENABLE TRIGGER events_notify")


@contextmanager
def app_login(url: str) -> Iterator[str]:
    """A throwaway login that is only a member of stockgraph_app (production needs one)."""
    name = f"sg_bench_app_{secrets.token_hex(4)}"
    app_url = asyncio.run(create_app_login(url, name, secrets.token_urlsafe(16)))
    try:
        yield app_url
    finally:
        sql(BASE_URL, f'DROP ROLE IF EXISTS "{name}"')


def run_stockgraph(opts: Options, url: str, data: Dataset) -> tuple[Row, dict[str, float]]:
    """stockgraph in production mode under its own app login: Q1, Q2, M1, M2, notify off.

    Also returns, per mutation, the median of the paired on/off runs' ratios."""
    shapes = sg_shapes(data)
    row: Row = {}
    paired: dict[str, float] = {}
    with stockgraph_server(url, data, opts.workers) as (endpoint, headers, _pid):
        more = read_shapes.sg_shapes(data, endpoint, headers)
        read_shapes.probe(endpoint, headers, more)
        shapes.update(more)
        for key in ("q1", "q2", *READ_SHAPES):
            if key in opts.shapes:
                say(f"stockgraph {key} …")
                with counting_sessions(url, f"stockgraph {key}"):
                    row[key] = measure(opts, endpoint, shapes[key], headers)
        for key in ("m1", "m2"):
            if key in opts.shapes:
                say(f"stockgraph {key}, notifications on and off in turn …")
                row[key], row[key + "_off"], paired[key] = measure_notify(
                    opts, url, endpoint, shapes[key], headers
                )
    return row, paired


SESSIONS: dict[str, int] = {}  # filled by counting_sessions, reported at the end


async def _sessions(url: str) -> int:
    """pg_stat_database.sessions of ``url``'s database, as of now (this connection
    included: the caller subtracts it)."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        return int(
            await conn.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
        )
    finally:
        await conn.close()


@contextmanager
def counting_sessions(url: str, label: str) -> Iterator[None]:
    """Records how many connections to the database were opened during the block."""
    time.sleep(1.0)  # statistics reach the shared counters within a second
    before = asyncio.run(_sessions(url))
    yield
    time.sleep(1.0)
    after = asyncio.run(_sessions(url))
    SESSIONS[label] = after - before - 1  # the "before" reading's own connection


@contextmanager
def stockgraph_server(
    url: str, data: Dataset, workers: int
) -> Iterator[tuple[str, dict[str, str], int]]:
    """stockgraph in production mode under its own app login, probed once: yields the
    GraphQL endpoint, the request headers (with a bearer token) and the server's pid."""
    with app_login(url) as app_url:
        env = {
            "STOCKGRAPH_ENV": "production",
            "STOCKGRAPH_APP_DATABASE_URL": app_url,
            "STOCKGRAPH_DATA_KEY": secrets.token_hex(32),
        }
        with server(url, signing_key(), workers, env) as (base, pid):
            token = httpx.post(
                base + "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(data.client_id, data.client_secret),
                timeout=30,
            ).json()["access_token"]
            headers = {**JSON_HEADERS, "Authorization": f"Bearer {token}"}
            endpoint = base + "/graphql"
            probe_stockgraph(endpoint, headers, data)
            yield endpoint, headers, pid


def measure_notify(
    opts: Options, url: str, endpoint: str, shape: Shape, headers: dict[str, str]
) -> tuple[Result, Result, float]:
    """Runs with the NOTIFY trigger on and off taken in turn (on, off, on, off, …) after
    one warm-up, so that drift (table growth, other load on the machine) hits both alike.

    Returns the medians of both and the median of the pairs' on/off ratios."""
    on: list[Result] = []
    off: list[Result] = []
    if opts.warmup > 0:
        loadgen.run_wrk(endpoint, shape, opts.connections, opts.warmup, headers)
    for _ in range(opts.runs):
        on.append(loadgen.run_wrk(endpoint, shape, opts.connections, opts.seconds, headers))
        with notifications_off(url):
            off.append(loadgen.run_wrk(endpoint, shape, opts.connections, opts.seconds, headers))
    ratios = [a.ops_per_s / b.ops_per_s for a, b in zip(on, off, strict=True) if b.ops_per_s]
    return Result.median(on), Result.median(off), statistics.median(ratios or [float("nan")])


def run_postgraphile(opts: Options, url: str, data: Dataset) -> tuple[Row, dict[str, str]]:
    row: Row = {}
    with postgraphile.server(url, opts.workers) as endpoint:
        names = postgraphile.discover(endpoint)
        queries = pgl_queries(names, data)
        probe_postgraphile(endpoint, queries, data)
        shapes = pgl_shapes(queries, data)
        more, more_queries = read_shapes.pgl_shapes(
            data, endpoint, names.list_field, names.product_field, names.location_field
        )
        read_shapes.probe(endpoint, {}, more)
        shapes.update(more)
        queries.update(more_queries)
        for key, shape in shapes.items():
            if key in opts.shapes:
                say(f"PostGraphile {key} …")
                with counting_sessions(url, f"PostGraphile {key}"):
                    row[key] = measure(opts, endpoint, shape, JSON_HEADERS)
    return row, queries


def run_reads_interleaved(
    opts: Options, url: str, data: Dataset
) -> tuple[Row, Row, dict[str, str]]:
    """Both servers up at once; for each read shape, their runs taken in turn (stockgraph,
    PostGraphile, stockgraph, …) after a warm-up of each, so that the load others put on
    a shared machine falls on both alike. Medians per server; connections opened during
    stockgraph's runs are counted (pg_stat_database.sessions, before and after each)."""
    sg_row: Row = {}
    pgl_row: Row = {}
    shapes = sg_shapes(data)
    with (
        stockgraph_server(url, data, opts.workers) as (endpoint, headers, _pid),
        postgraphile.server(url, opts.workers) as pgl_endpoint,
    ):
        more = read_shapes.sg_shapes(data, endpoint, headers)
        read_shapes.probe(endpoint, headers, more)
        shapes.update(more)
        names = postgraphile.discover(pgl_endpoint)
        queries = pgl_queries(names, data)
        probe_postgraphile(pgl_endpoint, queries, data)
        pgl = pgl_shapes(queries, data)
        pgl_more, more_queries = read_shapes.pgl_shapes(
            data, pgl_endpoint, names.list_field, names.product_field, names.location_field
        )
        read_shapes.probe(pgl_endpoint, {}, pgl_more)
        pgl.update(pgl_more)
        queries.update(more_queries)
        for key in ("q1", "q2", *READ_SHAPES):
            if key not in opts.shapes:
                continue
            say(f"{key}: stockgraph and PostGraphile in turn …")
            ours: list[Result] = []
            theirs: list[Result] = []
            if opts.warmup > 0:
                loadgen.run_wrk(endpoint, shapes[key], opts.connections, opts.warmup, headers)
                loadgen.run_wrk(pgl_endpoint, pgl[key], opts.connections, opts.warmup, JSON_HEADERS)
            opened = 0
            for _ in range(opts.runs):
                with counting_sessions(url, "run") as _:
                    ours.append(
                        loadgen.run_wrk(
                            endpoint, shapes[key], opts.connections, opts.seconds, headers
                        )
                    )
                opened += SESSIONS.pop("run")
                theirs.append(
                    loadgen.run_wrk(
                        pgl_endpoint, pgl[key], opts.connections, opts.seconds, JSON_HEADERS
                    )
                )
            SESSIONS[f"stockgraph {key}"] = opened
            sg_row[key] = Result.median(ours)
            pgl_row[key] = Result.median(theirs)
    return sg_row, pgl_row, queries


def run_pgbench(opts: Options, url: str, data: Dataset) -> Result:
    script = PGBENCH_SQL.format(lo=data.level_id_min, hi=data.level_id_max, tenant=data.tenant_id)
    say("pgbench …")

    def run(seconds: float) -> Result:
        return loadgen.run_pgbench(plain_url(url), script, opts.connections, seconds)

    return loadgen.measure(run, opts.warmup, opts.seconds, opts.runs)


def tool_versions(with_postgraphile: bool) -> dict[str, str]:
    """wrk, pgbench and (when installed) PostGraphile and Node versions."""

    def first_line(cmd: list[str]) -> str:
        out = subprocess.run(cmd, capture_output=True, text=True)
        return (out.stdout or out.stderr).splitlines()[0].strip()

    wrk = first_line([loadgen.wrk_binary(), "--version"])
    found = {
        "wrk": re.sub(r"\s+Copyright.*", "", wrk),
        "pgbench": first_line([loadgen.pgbench_binary(), "--version"]),
    }
    if with_postgraphile:
        found.update(postgraphile.versions())
    return found


def _ratio(a: Result | None, b: Result | None, fa: float = 1.0, fb: float = 1.0) -> float | None:
    if a is None or b is None or not b.ops_per_s:
        return None
    return a.ops_per_s * fa / (b.ops_per_s * fb)


def report(
    opts: Options, data: Dataset, figures: Figures, versions: dict[str, str], elapsed: float
) -> str:
    """The whole table: figures, then ratios next to the bars, then what is not equal."""
    sg, pgl, pgb = figures.sg, figures.pgl, figures.pgb
    out: list[str] = []
    w = out.append
    w("")
    w(
        f"stockgraph vs PostGraphile {versions.get('postgraphile', '?')} "
        f"(Node {versions.get('node', '?')}) vs {versions.get('pgbench', 'pgbench')}; "
        f"load: {versions.get('wrk', 'wrk')}"
    )
    w(
        f"data: 1 tenant, {len(data.location_ids)} locations × {data.products:,} SKUs = "
        f"{data.levels:,} stock levels, {data.levels:,} movements"
    )
    w(
        f"load: {opts.connections} connections (wrk -t{opts.connections} -c{opts.connections}; "
        f"pgbench -c{opts.connections}), {opts.workers} process(es) per server; warm-up "
        f"{opts.warmup:g} s, then {opts.runs} × {opts.seconds:g} s, medians"
    )
    w("")
    header = (
        f"{'shape':<44} {'server':<13} {'ops/s':>9} {'req/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'spread':>6} {'errors':>6}"
    )
    w(header)
    w("-" * len(header))

    ran = {"stockgraph": bool(sg), "PostGraphile": bool(pgl), "pgbench": pgb is not None}

    def line(label: str, server: str, r: Result | None, note: str = "") -> None:
        if r is None:
            w(f"{label:<44} {server:<13} {'n/a':>9}  {note if ran[server] else 'not run'}")
            return
        errors = r.bad + r.socket_errors
        p50, p99 = (f"{x:>8.2f}" if x == x else f"{'n/a':>8}" for x in (r.p50_ms, r.p99_ms))
        w(
            f"{label:<44} {server:<13} {r.ops_per_s:>9.1f} {r.requests_per_s:>9.1f} "
            f"{p50} {p99} {r.spread:>6.0%} {errors:>6}  {note}".rstrip()
        )

    pages = Q2_ROWS // PAGE
    line("Q1 one location, first 50 levels", "stockgraph", sg.get("q1"))
    line("", "PostGraphile", pgl.get("q1"))
    line(
        f"Q2 one location, {Q2_ROWS:,} levels",
        "stockgraph",
        sg.get("q2"),
        f"{pages} sequential pages of {PAGE} = 1 op",
    )
    line("", "PostGraphile", pgl.get("q2"), f"1 request, first: {Q2_ROWS}")
    labels = {
        "q3": "Q3 two roots: 100 levels + location(code:)",
        "q4": "Q4 nodes(ids:), 20 IDs of two types",
        "q5": "Q5 Q1 with named and inline fragments",
        "q6": "Q6 inlined values, 3,050 distinct texts",
    }
    for key, label in labels.items():
        line(label, "stockgraph", sg.get(key))
        line("", "PostGraphile", pgl.get(key), "20 aliased node(id:)" if key == "q4" else "")
    line("M1 adjustStock, one line", "stockgraph", sg.get("m1"))
    line(
        "",
        "PostGraphile",
        pgl.get("m1"),
        "generated update mutation (plain UPDATE)" if pgl.get("m1") else "no update mutation",
    )
    m2 = sg.get("m2")
    line(
        f"M2 receiveStock, {M2_LINES} lines",
        "stockgraph",
        m2,
        f"= {m2.ops_per_s * M2_LINES:,.0f} lines/s" if m2 else "",
    )
    line("", "PostGraphile", None, "no equivalent (no multi-row mutation in the amber preset)")
    line("M1 adjustStock, notifications off", "stockgraph", sg.get("m1_off"))
    m2_off = sg.get("m2_off")
    line(
        f"M2 receiveStock {M2_LINES} lines, notif. off",
        "stockgraph",
        m2_off,
        f"= {m2_off.ops_per_s * M2_LINES:,.0f} lines/s" if m2_off else "",
    )
    line("one-row UPDATE of stock_levels", "pgbench", pgb, "TPS")
    measured = {f"stockgraph {k}": r for k, r in sg.items()}
    measured.update({f"PostGraphile {k}": r for k, r in pgl.items()})
    measured["pgbench"] = pgb
    for name, r in measured.items():
        if r is not None and (r.bad or r.socket_errors):
            w(
                f"!! {name}: {r.bad} bad answers, {r.socket_errors} socket errors; first: "
                f"{r.sample or '(none kept)'}"
            )
    w("")
    w("ops/s counts whole operations (a Q2 of stockgraph is 8 requests); p50/p99 are per")
    w("operation (wrk --latency; stockgraph's Q2: the 8 pages timed together by the Lua script;")
    w("n/a when the runs are too short for a whole Q2 to finish, as with --quick).")
    w("")
    w(f"{'ratio':<54} {'value':>7} {'bar':>7}  verdict")

    def ratio(label: str, value: float | None, bar: float | None = None) -> None:
        if value is None or value != value:
            w(f"{label:<54} {'n/a':>7}")
            return
        if bar is None:
            w(f"{label:<54} {value:>7.2f}")
            return
        verdict = "meets the bar" if value >= bar else "BELOW the bar"
        w(f"{label:<54} {value:>7.2f} {'≥ ' + format(bar, '.2f'):>7}  {verdict}")

    ratio("Q1 req/s, stockgraph / PostGraphile", _ratio(sg.get("q1"), pgl.get("q1")), BARS["q1"])
    ratio(
        "Q2 whole-set ops/s, stockgraph / PostGraphile",
        _ratio(sg.get("q2"), pgl.get("q2")),
        BARS["q2"],
    )
    for key in READ_SHAPES:
        ratio(
            f"{key.upper()} req/s, stockgraph / PostGraphile",
            _ratio(sg.get(key), pgl.get(key)),
            BARS[key],
        )
    ratio(
        "M1 commits/s, notifications on / off (paired runs)",
        figures.paired.get("m1"),
        BARS["notify"],
    )
    ratio(
        "M2 receipts/s, notifications on / off (paired runs)",
        figures.paired.get("m2"),
        BARS["notify"],
    )
    ratio("M1 commits/s / Q1 req/s, stockgraph", _ratio(sg.get("m1"), sg.get("q1")))
    ratio("M1 commits/s / Q1 req/s, PostGraphile", _ratio(pgl.get("m1"), pgl.get("q1")))
    ratio("M1 commits/s, stockgraph / PostGraphile update", _ratio(sg.get("m1"), pgl.get("m1")))
    ratio("M2 lines/s, stockgraph / pgbench TPS", _ratio(m2, pgb, fa=M2_LINES))
    ratio("M1 commits/s, stockgraph / pgbench TPS", _ratio(sg.get("m1"), pgb))
    w("")
    w("new PostgreSQL connections during each shape's runs (pg_stat_database.sessions):")
    for label, opened in figures.sessions.items():
        w(f"  {label:<24} {opened:>6}")
    w("")
    w("not equal, by design or by necessity:")
    w(
        "- stockgraph runs in production mode as its own login (RLS applies, tenant set per "
        "transaction); PostGraphile and pgbench connect as the superuser postgres, which "
        "bypasses row-level security (PostGraphile's queries name the tenant in their condition)."
    )
    w(
        "- stockgraph authenticates every request (ES256 bearer token); PostGraphile runs "
        "without authentication."
    )
    w(
        f"- Q2: stockgraph caps first at {PAGE}, so it answers with {pages} requests and "
        f"{pages} queries; PostGraphile answers first: {Q2_ROWS} in one."
    )
    w(
        "- M1: stockgraph's adjustStock posts to the ledger (locks the level, updates it, "
        "takes sequences from the tenant counter, inserts a movement, an outbox event and an "
        "audit event); PostGraphile's generated update sets on_hand to a value in one UPDATE. "
        "All stockgraph writes of one tenant serialise on its counter row; this data set has "
        "one tenant."
    )
    w(
        "- Both servers and the load generator share the machine's cores; wrk's CPU is "
        "included in what each server had left."
    )
    w("")
    w("queries: stockgraph Q1 " + SG_Q1)
    w("         stockgraph Q2 page " + SG_Q2)
    w("         stockgraph M1 " + SG_M1)
    w("         stockgraph M2 " + SG_M2 + f" ({M2_LINES} random distinct SKUs)")
    for key in READ_SHAPES:
        w(f"         stockgraph {key.upper()} " + READ_QUERIES[key])
    for key, query in figures.queries.items():
        w(f"         PostGraphile {key.upper()} {query}")
    w(f"elapsed: {elapsed / 60:.1f} min")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s warm-up, 3 × 3 s runs")
    parser.add_argument("--workers", type=int, default=1, help="processes per server")
    parser.add_argument("--connections", type=int, default=16, help="HTTP connections / clients")
    parser.add_argument("--warmup", type=float, default=None, help="seconds (default 5)")
    parser.add_argument("--seconds", type=float, default=None, help="per run (default 10)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="reads only: both servers up, their runs in turn (fairer on a shared machine)",
    )
    parser.add_argument(
        "--shapes",
        default=",".join(ALL_SHAPES),
        help="comma-separated subset of " + ",".join(ALL_SHAPES),
    )
    parser.add_argument(
        "--servers",
        default="stockgraph,postgraphile,pgbench",
        help="comma-separated subset of stockgraph,postgraphile,pgbench",
    )
    args = parser.parse_args(argv)
    opts = Options(
        workers=args.workers,
        connections=args.connections,
        warmup=args.warmup if args.warmup is not None else (1.0 if args.quick else 5.0),
        seconds=args.seconds if args.seconds is not None else (3.0 if args.quick else 10.0),
        runs=args.runs,
        servers=frozenset(s.strip() for s in args.servers.split(",") if s.strip()),
        shapes=frozenset(s.strip() for s in args.shapes.split(",") if s.strip()),
    )
    started = time.monotonic()
    loadgen.wrk_binary()
    if "postgraphile" in opts.servers:
        say("installing PostGraphile v5 and Node 22 into .stockgraph-bench/ (once) …")
        postgraphile.ensure_installed()
    versions = tool_versions("postgraphile" in opts.servers)
    figures = Figures()
    with scratch_database() as url:
        say("building the data set …")
        data = build_sync(url)
        if args.interleave:
            sql(url, "VACUUM ANALYZE")
            figures.sg, figures.pgl, figures.queries = run_reads_interleaved(opts, url, data)
        for name in ("stockgraph", "postgraphile", "pgbench"):
            if args.interleave or name not in opts.servers:
                continue
            sql(url, "VACUUM ANALYZE")  # each server starts from tidy tables and fresh stats
            if name == "stockgraph":
                figures.sg, figures.paired = run_stockgraph(opts, url, data)
            elif name == "postgraphile":
                figures.pgl, figures.queries = run_postgraphile(opts, url, data)
            elif "m1" in opts.shapes:
                figures.pgb = run_pgbench(opts, url, data)
    figures.sessions = dict(SESSIONS)
    print(report(opts, data, figures, versions, time.monotonic() - started))


if __name__ == "__main__":
    main()
