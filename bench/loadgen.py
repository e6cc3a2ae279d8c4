"""Load on loopback: wrk with a generated Lua script for GraphQL POSTs, and pgbench.

wrk (C, epoll) costs far less CPU per request than the servers under test, so on a
2-core machine the servers, not the client, are what saturates. Every wrk thread
drives exactly one connection (``-t N -c N``): a thread's Lua state then belongs to
one connection, which lets a multi-request operation (pages that follow
``pageInfo.endCursor``) run strictly in sequence and be timed as a whole.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

# The script's fixed part. The generated preamble defines PATH, HEADERS, PAGES, EXPECT,
# new_op() (the state of one operation) and make_body(op, page, cursor).
_CORE = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads = {}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

ops, bad, lat, sample = 0, 0, {}, ""
local page, cursor, started, op = 0, nil, 0, nil

function init(args)
  math.randomseed(thread_id * 7919 + os.time())
end

function request()
  if page == 0 then
    started = now_us()
    cursor = nil
    op = new_op()
  end
  return wrk.format("POST", PATH, HEADERS, make_body(op, page, cursor))
end

function response(status, headers, body)
  local ok = status == 200 and not body:find('"errors"', 1, true)
  if ok and EXPECT then ok = body:find(EXPECT) ~= nil end
  page = page + 1
  if ok and page < PAGES then
    cursor = body:match('"endCursor"%s*:%s*"([^"]*)"')
    ok = cursor ~= nil
  end
  if not ok then
    bad = bad + 1
    if sample == "" then sample = (status .. " " .. body:sub(1, 300)):gsub('[%c"\\]', " ") end
    page = 0
  elseif page >= PAGES then
    ops = ops + 1
    lat[#lat + 1] = now_us() - started
    page = 0
  end
end

local function pct(sorted, q)
  if #sorted == 0 then return -1 end
  local i = math.floor(q / 100 * (#sorted - 1) + 0.5) + 1
  return sorted[i]
end

function done(summary, latency, requests)
  local all_ops, all_bad, lats, first_sample = 0, 0, {}, ""
  for _, t in ipairs(threads) do
    all_ops = all_ops + t:get("ops")
    all_bad = all_bad + t:get("bad")
    for _, v in ipairs(t:get("lat")) do lats[#lats + 1] = v end
    if first_sample == "" then first_sample = t:get("sample") end
  end
  table.sort(lats)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"ops":%d,"bad":%d,"socket_errors":%d,'
    .. '"status_errors":%d,"req_p50_us":%.1f,"req_p99_us":%.1f,"op_p50_us":%.1f,'
    .. '"op_p99_us":%.1f,"sample":"%s"}\n',
    summary.requests, summary.duration, all_ops, all_bad,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), pct(lats, 50), pct(lats, 99),
    first_sample))
end
"""


@dataclass(frozen=True, slots=True)
class Shape:
    """One request shape for wrk: Lua that builds bodies, and what a good answer holds.

    ``lua`` defines ``new_op()`` and ``make_body(op, page, cursor)``; it may use the
    globals given in ``data`` (Lua literals). ``pages`` > 1 makes one operation that
    many sequential requests, each after the previous answer's ``endCursor``.
    """

    lua: str
    pages: int = 1
    expect: str | None = None
    data: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """One measurement. ``ops_per_s`` counts whole operations (``pages`` requests each);
    ``spread`` is (max − min) / median of ops/s over the runs a median was taken of."""

    ops_per_s: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    ops: int
    bad: int
    socket_errors: int
    sample: str = ""
    spread: float = 0.0

    @classmethod
    def median(cls, runs: Sequence[Result]) -> Result:
        """The median of every figure, taken separately; error counts are summed."""
        rates = [r.ops_per_s for r in runs]
        middle = statistics.median(rates)
        return cls(
            ops_per_s=middle,
            requests_per_s=statistics.median(r.requests_per_s for r in runs),
            p50_ms=statistics.median(r.p50_ms for r in runs),
            p99_ms=statistics.median(r.p99_ms for r in runs),
            ops=sum(r.ops for r in runs),
            bad=sum(r.bad for r in runs),
            socket_errors=sum(r.socket_errors for r in runs),
            sample=next((r.sample for r in runs if r.sample), ""),
            spread=(max(rates) - min(rates)) / middle if middle else 0.0,
        )

    def scaled(self, factor: float) -> Result:
        """The same measurement counted in other units (e.g. lines instead of receipts)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["ops_per_s"] = self.ops_per_s * factor
        return Result(**values)


def lua_literal(value: object) -> str:
    """A Python str/int/float/bool/None/list/dict as a Lua literal (strings JSON-escaped)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"[{json.dumps(k)}] = {lua_literal(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def script(shape: Shape, path: str, headers: Mapping[str, str]) -> str:
    """The whole Lua script for one shape."""
    preamble = [
        f"PATH = {lua_literal(path)}",
        f"HEADERS = {lua_literal(dict(headers))}",
        f"PAGES = {shape.pages}",
        f"EXPECT = {lua_literal(shape.expect)}",
    ]
    preamble += [f"{k} = {lua_literal(v)}" for k, v in (shape.data or {}).items()]
    return "\n".join(preamble) + "\n" + shape.lua + "\n" + _CORE


def apt_install(package: str) -> bool:
    """``apt-get install -y package`` when running as root on Debian; False otherwise."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    return subprocess.run(["apt-get", "install", "-y", "-qq", package], check=False).returncode == 0


def wrk_binary() -> str:
    """wrk on PATH, installed from Debian's packages if missing (as root)."""
    path = shutil.which("wrk")
    if path is None and apt_install("wrk"):
        path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    return path


def run_wrk(
    url: str, shape: Shape, connections: int, seconds: float, headers: Mapping[str, str]
) -> Result:
    """One wrk run of ``seconds`` against ``url`` (…/graphql)."""
    base, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script(shape, "/" + path, headers))
    try:
        proc = subprocess.run(
            [
                wrk_binary(),
                "-t",
                str(connections),
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                f.name,
                f"{base}://{host}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
    finally:
        os.unlink(f.name)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    raw = json.loads(line[6:])
    duration = raw["duration_us"] / 1e6
    paged = shape.pages > 1
    # A paged operation takes several seconds under load: count its good pages, not the
    # operations that happened to start and end inside the run, so edges do not bias the rate.
    ops = (raw["requests"] - raw["bad"]) / shape.pages if paged else raw["ops"]
    p50, p99 = (
        (raw["op_p50_us"], raw["op_p99_us"]) if paged else (raw["req_p50_us"], raw["req_p99_us"])
    )
    return Result(
        ops_per_s=ops / duration,
        requests_per_s=raw["requests"] / duration,
        p50_ms=p50 / 1000 if p50 >= 0 else float("nan"),
        p99_ms=p99 / 1000 if p99 >= 0 else float("nan"),
        ops=int(ops),
        bad=raw["bad"],
        socket_errors=raw["socket_errors"],
        sample=raw["sample"],
    )


def measure(run: Callable[[float], Result], warmup: float, seconds: float, runs: int = 3) -> Result:
    """Warm up (result discarded), then ``runs`` runs; the medians."""
    if warmup > 0:
        run(warmup)
    return Result.median([run(seconds) for _ in range(runs)])


def pgbench_binary() -> str:
    """pgbench on PATH or in /usr/lib/postgresql/*/bin, installed if missing (as root)."""
    for attempt in range(2):
        path = shutil.which("pgbench")
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
        if path or found:
            return path or str(found[-1])
        if attempt == 0 and not apt_install("postgresql-contrib"):
            break
    raise RuntimeError("pgbench not found: apt-get install -y postgresql-contrib")


_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.M)


def run_pgbench(url: str, sql: str, clients: int, seconds: float) -> Result:
    """One pgbench run of a custom script; latency percentiles from its per-transaction log."""
    with tempfile.TemporaryDirectory(prefix="sg-pgbench-") as tmp:
        script_path = Path(tmp) / "script.sql"
        script_path.write_text(sql)
        proc = subprocess.run(
            [
                pgbench_binary(),
                "-n",  # no vacuum of pgbench's own tables (there are none)
                "-M",
                "prepared",
                "-c",
                str(clients),
                "-j",
                str(min(2, clients)),
                "-T",
                str(max(1, round(seconds))),
                "-f",
                str(script_path),
                "-l",
                "--log-prefix",
                str(Path(tmp) / "tx"),
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
        match = _TPS.search(proc.stdout)
        if proc.returncode != 0 or match is None:
            raise RuntimeError(f"pgbench failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        latencies: list[float] = []
        failed = 0
        for log in Path(tmp).glob("tx*"):
            for row in log.read_text().split("\n"):
                cols = row.split()
                if len(cols) >= 3:
                    if cols[2].isdigit():
                        latencies.append(int(cols[2]) / 1000)
                    else:
                        failed += 1
    latencies.sort()
    tps = float(match.group(1))

    def pct(q: float) -> float:
        return latencies[round(q / 100 * (len(latencies) - 1))] if latencies else float("nan")

    return Result(
        ops_per_s=tps,
        requests_per_s=tps,
        p50_ms=pct(50),
        p99_ms=pct(99),
        ops=len(latencies),
        bad=failed,
        socket_errors=0,
    )
