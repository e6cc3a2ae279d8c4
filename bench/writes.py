"""M3: ``recordSale`` commits per second with many POS clients of one tenant.

Builds a small chain in a fresh database (8 locations × 2,000 SKUs), starts
stockgraph in production mode, and drives ``recordSale`` (``--lines`` lines,
a new receipt number each time) with wrk over ``--connections`` connections:
a warm-up, then ``--runs`` runs, the median printed with its ratio to the
figure before the write path changed (``BEFORE``) and to the bar (2×).

``--before DIR`` measures the code before instead of taking the recorded figure:
that code builds, migrates and serves a database of its own (its schema is older)
with the same data set, and the two servers are driven in turn, run by run, so the
machine's drift falls on both alike.

While wrk runs, ``pg_stat_activity`` of the benchmark's database is sampled
every 20 ms: the share of backends waiting on a row lock (the serial section),
flushing WAL, idle in a transaction (waiting for the API process) or running.
That is where a write's time goes. Afterwards the data are checked: levels
equal the ledger, sequences are gapless, the audit chain verifies.

    python -m bench.writes [--quick] [--connections 16] [--lines 2] [--workers 1]
                           [--before DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench import loadgen
from bench.common import scratch_database
from bench.compare import NO_USER_ERRORS, SKU_LUA, say, sql, stockgraph_server
from bench.dataset import Dataset, build_sync
from bench.loadgen import Result, Shape
from db.session import Database, plain_url
from domain.audit import service as audit

# recordSale commits/s with 16 clients before this design (one process, 2 cores, the
# counter row held to COMMIT): the 166–240/s, and 205/s measured by this module.
BEFORE = 205.0
BAR = 2.0

SG_M3 = (
    "mutation($input: RecordSaleInput!) { recordSale(input: $input) "
    "{ stockLevels { onHand } userErrors { code } } }"
)
# A receipt number no other request of this run or an earlier one can have: the wrk
# thread, the second, and a counter.
LUA_SALE = """
local n = 0
function new_op()
  n = n + 1
  local seen, lines = {}, {}
  while #lines < LINES do
    local k = math.random(NSKU)
    if not seen[k] then
      seen[k] = true
      lines[#lines + 1] = string.format('{"sku":"' .. SKU .. '","quantity":1}', k)
    end
  end
  return {loc = LOCS[math.random(#LOCS)], lines = table.concat(lines, ","),
          receipt = string.format("W%d-%d-%d", thread_id, os.time(), n)}
end
function make_body(op, page, cursor)
  return '{"query":' .. QUERY .. ',"variables":{"input":{"locationId":"' .. op.loc
    .. '","receiptNumber":"' .. op.receipt .. '","lines":[' .. op.lines .. ']}}}'
end
"""

_ACTIVITY = """
SELECT state, wait_event_type, wait_event, left(query, 40) AS query FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""

_CHECKS = """
SELECT
  (SELECT count(*) FROM stock_levels l WHERE l.tenant_id = $1 AND l.on_hand <>
     (SELECT coalesce(sum(m.delta), 0) FROM stock_movements m
      WHERE m.tenant_id = $1 AND m.location_id = l.location_id
        AND m.product_id = l.product_id)) AS unbalanced,
  (SELECT count(*) FROM stock_movements WHERE tenant_id = $1) AS movements,
  (SELECT count(*) FROM events WHERE tenant_id = $1) AS events,
  (SELECT count(*) FROM (SELECT sequence FROM stock_movements WHERE tenant_id = $1
                          UNION SELECT sequence FROM events WHERE tenant_id = $1) s)
    AS distinct_sequences,
  (SELECT min(sequence) FROM (SELECT sequence FROM stock_movements WHERE tenant_id = $1
                              UNION ALL SELECT sequence FROM events WHERE tenant_id = $1) s)
    AS min_sequence,
  (SELECT greatest(max(sequence), 0) FROM (SELECT sequence FROM stock_movements
     WHERE tenant_id = $1 UNION ALL SELECT sequence FROM events WHERE tenant_id = $1) s)
    AS max_sequence,
  (SELECT last_sequence FROM tenant_counters WHERE tenant_id = $1) AS last_sequence
"""


def sale_shape(data: Dataset, lines: int = 2) -> Shape:
    """``recordSale`` of ``lines`` distinct SKUs at a random location, a new receipt
    number each time."""
    return Shape(
        LUA_SALE,
        1,
        NO_USER_ERRORS,
        {
            "LOCS": data.location_gids,
            "NSKU": data.products,
            "SKU": SKU_LUA,
            "LINES": lines,
            "QUERY": json.dumps(SG_M3),
        },
    )


def classify(
    state: str | None, kind: str | None, event: str | None, query: str | None = None
) -> str:
    """One backend's moment, in the words of the write path."""
    if kind == "Lock":
        return f"waiting on a row lock ({_statement(query)})"
    if event in {"WALSync", "WALWrite", "WALInsert"} or (kind == "IO" and "WAL" in (event or "")):
        return "flushing WAL"
    if state == "idle in transaction":
        return "idle in transaction (waiting for the API)"
    if state == "active":
        return f"running ({kind}:{event})" if kind else "running"
    return "idle (no request)"


def _statement(query: str | None) -> str:
    """Which statement waits: COMMIT waits for the tenant's counter (numbering at
    commit), an UPDATE or INSERT for a level row."""
    words = (query or "").split()
    if not words:
        return "?"
    head = words[0].upper()
    if head == "WITH" and len(words) > 1:
        return "WITH …"
    if head in {"UPDATE", "INSERT", "DELETE"} and len(words) > 2:
        return " ".join(words[:3]) if head != "UPDATE" else " ".join(words[:2])
    return head


class Sampler(threading.Thread):
    """Samples pg_stat_activity every 20 ms until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.counts: Counter[str] = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        conn = await asyncpg.connect(plain_url(self.url))
        try:
            while not self.stop.is_set():
                for r in await conn.fetch(_ACTIVITY):
                    self.counts[
                        classify(r["state"], r["wait_event_type"], r["wait_event"], r["query"])
                    ] += 1
                await asyncio.sleep(0.02)
        finally:
            await conn.close()


async def check(url: str, tenant_id: int, audit_chain: bool = True) -> dict[str, object]:
    """The guarantees after the run: levels = ledger, gapless sequences, and (with this
    checkout's schema) the audit chain."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        row = dict(await conn.fetchrow(_CHECKS, tenant_id) or {})
    finally:
        await conn.close()
    # Movements and their stock.changed events share numbers: the union must be 1..tip.
    row["gapless"] = (
        row["min_sequence"] == 1
        and row["distinct_sequences"] == row["max_sequence"] == row["last_sequence"]
    )
    if audit_chain:
        db = Database.connect(url, pool_size=1)
        try:
            async with db.owner_transaction() as session:
                verified = await audit.verify(session, tenant_id)
        finally:
            await db.dispose()
        row["audit_chain"] = (
            "verifies" if verified.valid else f"broken at {verified.first_bad_sequence}"
        )
        row["audit_events"] = verified.checked
    return row


# Run in the older checkout's directory, with its own packages: a scratch database
# built and migrated by that code, its data set and its server. Prints what the load
# generator needs as one JSON line, then holds everything up until stdin closes.
_BEFORE_SERVER = """
import dataclasses, json, sys
from bench.common import scratch_database
from bench.compare import stockgraph_server
from bench.dataset import build_sync
with scratch_database() as url:
    data = build_sync(url, locations=8, products=2000)
    with stockgraph_server(url, data, {workers}) as (endpoint, headers, _pid):
        print(json.dumps({{"url": url, "endpoint": endpoint, "headers": headers,
                          "data": dataclasses.asdict(data)}}), flush=True)
        sys.stdin.read()
"""


@dataclass
class Target:
    """One server under test: where to send requests, and the database it writes."""

    endpoint: str
    headers: dict[str, str]
    shape: Shape
    url: str
    tenant_id: int


@contextmanager
def before_server(source: Path, workers: int, lines: int) -> Iterator[Target]:
    """The code before this design (``git archive 726faeb | tar -x -C DIR``) on a
    database of its own, built and migrated by that code (its schema is older than
    this checkout's), with the same data set."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _BEFORE_SERVER.format(workers=workers)],
        cwd=source,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"the server in {source} did not start (exit {proc.wait()})")
        got = json.loads(line)
        data = Dataset(**got["data"])
        yield Target(
            got["endpoint"], got["headers"], sale_shape(data, lines), got["url"], data.tenant_id
        )
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def sampled_run(opts: argparse.Namespace, target: Target, counts: Counter[str]) -> Result:
    """One wrk run, pg_stat_activity sampled meanwhile (added to ``counts``)."""
    sampler = Sampler(target.url)
    sampler.start()
    try:
        return loadgen.run_wrk(
            target.endpoint, target.shape, opts.connections, opts.seconds, target.headers
        )
    finally:
        sampler.stop.set()
        sampler.join()
        counts.update(sampler.counts)


def report(label: str, result: Result, counts: Counter[str]) -> None:
    print(
        f"{label}: {result.ops_per_s:,.0f} commits/s (spread {result.spread:.0%}); "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms; bad answers {result.bad}"
    )
    if result.sample:
        print(f"  a bad answer: {result.sample}")
    total = sum(counts.values()) or 1
    print("  where the database's backends were (share of samples):")
    for what, n in counts.most_common(10):
        print(f"    {n / total:6.1%}  {what}")


# The serial section alone, in SQL: a sale's level update and movement, then DELAY µs
# standing for the API's turn between the numbering statement and COMMIT (the audit
# append, the idempotency response, the COMMIT round trip on a busy event loop).
_MODEL_MOVE = (
    "UPDATE stock_levels SET on_hand = on_hand - 1, version = version + 1 "
    "WHERE tenant_id = {t} AND id = :id;\n"
)
_MODEL_INSERT = (
    "INSERT INTO stock_movements (tenant_id, sequence, location_id, product_id, kind, delta, "
    "on_hand_after, oversell, occurred_at, recorded_at, actor) "
    "SELECT {t}, {seq}, s.location_id, s.product_id, 'SALE', -1, s.on_hand, false, now(), "
    "now(), 'model' FROM {src} stock_levels s WHERE s.tenant_id = {t} AND s.id = :id;\n"
)
MODEL_BEFORE = (
    "\\set id random({lo}, {hi})\nBEGIN;\n"
    + _MODEL_MOVE
    + "WITH c AS (UPDATE tenant_counters SET last_sequence = last_sequence + 1 "
    "WHERE tenant_id = {t} RETURNING last_sequence) "
    + _MODEL_INSERT.format(t="{t}", seq="c.last_sequence", src="c,")
    + "\\sleep {delay} us\nCOMMIT;\n"
)
MODEL_AFTER = (
    "\\set id random({lo}, {hi})\nBEGIN;\n"
    + _MODEL_MOVE
    + _MODEL_INSERT.format(t="{t}", seq="-nextval('provisional_sequences')", src="")
    + "\\sleep {delay} us\nCOMMIT;\n"
)


def model(url: str, data: Dataset, opts: argparse.Namespace) -> None:
    """pgbench, both designs, for a few API delays: the ceiling the serial section sets."""
    print(f"\nmodel (pgbench, {opts.connections} clients, one-line sale; not M3 itself):")
    print(f"{'API delay':>10} {'before /s':>10} {'after /s':>10} {'ratio':>7}")
    for delay in (0, 1000, 3000):
        rates = []
        for template in (MODEL_BEFORE, MODEL_AFTER):
            sql = template.format(
                t=data.tenant_id, lo=data.level_id_min, hi=data.level_id_max, delay=delay
            )
            rates.append(loadgen.run_pgbench(url, sql, opts.connections, opts.seconds).ops_per_s)
        print(
            f"{delay / 1000:>8.0f}ms {rates[0]:>10,.0f} {rates[1]:>10,.0f} "
            f"{rates[1] / rates[0]:>6.2f}×"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--lines", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (the recorded figure: 1)"
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of the code before (git archive 726faeb | tar -x -C DIR): run on a "
        "database of its own with the same data set, measured in turn with this one, and "
        "the ratio printed",
    )
    parser.add_argument("--quick", action="store_true", help="one 5-second run each")
    parser.add_argument(
        "--model", action="store_true", help="only the serial section in SQL (pgbench)"
    )
    opts = parser.parse_args()
    if opts.quick:
        opts.seconds, opts.warmup, opts.runs = 5, 2, 1
    runs: dict[str, list[Result]] = {}
    counts: dict[str, Counter[str]] = {}
    with scratch_database() as url:
        say("building 8 locations × 2,000 SKUs …")
        data = build_sync(url, locations=8, products=2000)
        shape = sale_shape(data, opts.lines)
        if opts.model:
            model(plain_url(url), data, opts)
            found = asyncio.run(check(url, data.tenant_id))
            print(f"after the model: gapless {found['gapless']}, unbalanced {found['unbalanced']}")
            return
        with contextlib.ExitStack() as stack:
            # Both servers up at once, runs taken in turn: the machine's load drifts, and
            # alternating spreads the drift over both.
            endpoint, headers, _pid = stack.enter_context(
                stockgraph_server(url, data, opts.workers)
            )
            servers = {"after": Target(endpoint, headers, shape, url, data.tenant_id)}
            if opts.before:
                servers["before"] = stack.enter_context(
                    before_server(opts.before.resolve(), opts.workers, opts.lines)
                )
            for name, target in servers.items():
                say(f"{name}: warm-up …")
                loadgen.run_wrk(
                    target.endpoint, target.shape, opts.connections, opts.warmup, target.headers
                )
                runs[name], counts[name] = [], Counter()
                # Statistics of tables with history, as autovacuum keeps them in a running
                # database: the data set starts with no sales, and with those statistics
                # the movements' foreign-key check reads every sale (a sequential scan
                # that grows with each run) until autovacuum first analyzes them.
                sql(target.url, "ANALYZE")
            for i in range(opts.runs):
                for name, target in servers.items():
                    say(f"run {i + 1} of {opts.runs}: {name} …")
                    runs[name].append(sampled_run(opts, target, counts[name]))
                    time.sleep(0.5)
            checks = {
                name: asyncio.run(check(t.url, t.tenant_id, name == "after"))
                for name, t in servers.items()
            }
    print()
    print(
        f"M3 recordSale, {opts.lines} lines, {opts.connections} clients, {opts.workers} process(es)"
    )
    medians = {name: Result.median(rs) for name, rs in runs.items()}
    for name, result in medians.items():
        each = ", ".join(f"{r.ops_per_s:,.0f}" for r in runs[name])
        report(f"{name} (runs: {each})", result, counts[name])
    after = medians["after"].ops_per_s
    before = medians["before"].ops_per_s if "before" in medians else BEFORE
    source = "measured in turn" if "before" in medians else "recorded"
    print(
        f"after ÷ before ({source}: {before:,.0f}/s) = {after / before:.2f}× "
        f"(bar {BAR:.0f}×: {after / before / BAR:.2f} of the bar)"
    )
    if "before" in runs:
        pairs = [
            a.ops_per_s / b.ops_per_s for a, b in zip(runs["after"], runs["before"], strict=True)
        ]
        print("  ratio of each pair of runs: " + ", ".join(f"{x:.2f}×" for x in pairs))
    broken = False
    for name, found in checks.items():
        print(f"after the runs, {name}'s database:")
        for key in ("unbalanced", "movements", "events", "gapless", "audit_chain", "audit_events"):
            if key in found:
                print(f"    {key}: {found[key]}")
        broken |= bool(found["unbalanced"]) or not found["gapless"]
        broken |= found.get("audit_chain", "verifies") != "verifies"
    bad = sum(r.bad for rs in runs.values() for r in rs)
    if bad or broken:
        raise SystemExit("M3 broke a guarantee or got bad answers")


if __name__ == "__main__":
    main()
