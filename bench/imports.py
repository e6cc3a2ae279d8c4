"""A 100,000-row Big5 CSV through ``stockgraph import products``: time and peak memory.

Run: ``.venv/bin/python -m bench.imports [--rows N]``. Each run is a real CLI
process against a scratch database; its peak resident memory is read from the
kernel (``ru_maxrss`` of the finished child). The bar: the import's memory
must not grow with the file, so the ratio printed is peak ÷ the peak of a
1,000-row import of the same shape (≤ 1.5 passes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import scratch_database

BAR = 1.5
NAMES = ["維他檸檬茶", "㗎喱魚蛋", "菠蘿包", "凍檸茶", "蝦餃", "燒賣", "腸粉", "奶茶"]


def ean13(body: str) -> str:
    digits = [int(c) for c in body]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return body + str(check)


def write_csv(path: Path, rows: int, bad_every: int = 0) -> None:
    """Product rows in Big5-HKSCS; every ``bad_every``-th row has a bad price."""
    rng = random.Random(7)
    with path.open("w", encoding="big5hkscs", newline="") as f:
        f.write("彩虹藥房 貨品清單\r\nSKU,條碼,中文名稱,English Name,類別,售價,成本\r\n")
        for i in range(rows):
            price = "abc" if bad_every and i % bad_every == 0 else f"{rng.uniform(1, 99):.2f}"
            name = NAMES[i % len(NAMES)]
            f.write(
                f"P{i:07d},{ean13(f'489{i:09d}')},{name}{i},Item {i},小食,{price},"
                f"{rng.uniform(0.5, 50):.2f}\r\n"
            )


def run_cli(url: str, tenant: str, path: Path, *extra: str) -> tuple[dict, float, float]:
    """(summary, seconds, peak RSS in MiB) of one import process."""
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "import",
            "products",
            str(path),
            "--tenant",
            tenant,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    out, _ = proc.communicate()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(out.decode().strip().splitlines()[-1]), seconds, peak


def tenant(url: str, code: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "api.cli", "tenants", "create", "--code", code, "--name", code],
        check=True,
        capture_output=True,
        env=env,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        small, big, bad = Path(tmp, "small.csv"), Path(tmp, "big.csv"), Path(tmp, "bad.csv")
        write_csv(small, 1000)
        write_csv(big, args.rows)
        write_csv(bad, args.rows, bad_every=1000)
        tenant(url, "bench-small")
        tenant(url, "bench-big")
        # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: smallest run first
        summary, seconds, base = run_cli(url, "bench-small", small)
        print(f"1,000 rows: {seconds:.1f} s, peak {base:.0f} MiB ({summary['status']})")
        summary, seconds, peak = run_cli(url, "bench-big", bad, "--dry-run")
        print(
            f"{args.rows:,} rows, dry run with {summary['errorCount']:,} errors listed: "
            f"{seconds:.1f} s, peak {peak:.0f} MiB"
        )
        summary, seconds, peak = run_cli(url, "bench-big", big)
        print(
            f"{args.rows:,} rows written ({summary['rowsWritten']:,}): {seconds:.1f} s, "
            f"{args.rows / seconds:,.0f} rows/s, peak {peak:.0f} MiB"
        )
        ratio = peak / base
        print(
            f"peak memory ratio to the 1,000-row import: {ratio:.2f} (bar {BAR}): "
            + ("ok" if ratio <= BAR else "OVER")
        )


if __name__ == "__main__":
    main()
