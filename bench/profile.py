"""Where a request's time goes: one shape under load, sampled by py-spy in the server.

Builds the same data set as ``bench.compare`` in a scratch database, starts one
stockgraph process (production mode, its own app login), drives one shape with wrk
and, meanwhile, samples the server with ``py-spy record``. Prints requests/s, the
server's CPU time per request and the functions with the most samples (their own
and with what they call), and writes a flame graph (SVG) next to the raw samples.

    python -m bench.profile [--shape q1|q2|q3|q4|q5|q6|m1|m2|m3] [--seconds 10] [--out DIR]

py-spy comes with the ``bench`` extra (``pip install -e '.[bench]'``);
``make bench-profile SHAPE=q1`` installs it and runs this.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench import loadgen, read_shapes
from bench.common import scratch_database
from bench.compare import say, sg_shapes, sql, stockgraph_server
from bench.dataset import build_sync
from bench.writes import sale_shape

SITE = "site-packages/"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process on this machine so far (backends included):
    the database's share of a request, when nothing else is using it."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() not in {"postgres", "postmaster"}:
                continue
            total += cpu_seconds(int(proc.name))
        except (OSError, ValueError):
            continue  # gone meanwhile
    return total


def summarise(raw: Path, top: int) -> str:
    """Self and inclusive sample shares per function, from py-spy's raw (collapsed) output."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [f.split(SITE)[-1] for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    out = [f"{total} samples", "", "own time:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    out += ["", "with what it calls:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top * 2)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shape", default="q1", choices=["q1", "q2", *read_shapes.READ, "m1", "m2", "m3"]
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--rate",
        type=int,
        default=250,
        help="py-spy samples per second (0: none, CPU per request only)",
    )
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, default=Path(".stockgraph-bench/profile"))
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        sys.exit("py-spy is not installed: pip install -e '.[bench]'")
    loadgen.wrk_binary()
    args.out.mkdir(parents=True, exist_ok=True)
    with scratch_database() as url:
        say("building the data set …")
        data = build_sync(url)
        sql(url, "VACUUM ANALYZE")
        with stockgraph_server(url, data, 1) as (endpoint, headers, pid):
            shapes = sg_shapes(data)
            shapes["m3"] = sale_shape(data)
            if args.shape in read_shapes.READ:
                shapes.update(read_shapes.sg_shapes(data, endpoint, headers))
            shape = shapes[args.shape]
            say(f"warming up {args.shape} …")
            loadgen.run_wrk(endpoint, shape, args.connections, 3, headers)
            sql(url, "ANALYZE")  # statistics with what the warm-up wrote, as autovacuum would
            raw = args.out / f"{args.shape}.txt"
            svg = args.out / f"{args.shape}.svg"
            say(f"sampling {args.shape} for {args.seconds} s …")
            spies = [
                subprocess.Popen(
                    [py_spy, "record", "-p", str(pid), "-d", str(args.seconds),
                     "-r", str(args.rate), "-f", fmt, "-o", str(path)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for fmt, path in (("raw", raw), ("flamegraph", svg))
                if args.rate > 0
            ]  # fmt: skip
            before, db_before = cpu_seconds(pid), postgres_cpu_seconds()
            result = loadgen.run_wrk(endpoint, shape, args.connections, args.seconds, headers)
            used = cpu_seconds(pid) - before
            db_used = postgres_cpu_seconds() - db_before
            for spy in spies:
                spy.wait()
    requests = result.requests_per_s * args.seconds
    print(
        f"{args.shape}: {result.ops_per_s:.1f} ops/s, {result.requests_per_s:.1f} req/s, "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms "
        + (" (both with py-spy attached)" if args.rate > 0 else "")
    )
    print(f"server CPU: {used:.2f} s, {1000 * used / max(requests, 1):.2f} ms per request")
    print(
        f"PostgreSQL CPU (all of its processes): {db_used:.2f} s, "
        f"{1000 * db_used / max(requests, 1):.2f} ms per request"
    )
    if args.rate > 0:
        print(summarise(raw, args.top))
        print(f"\nflame graph: {svg}\nraw samples: {raw}")


if __name__ == "__main__":
    main()
