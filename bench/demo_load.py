"""The demo chain's load, timed: one long transaction of 90 days of sales.

``make run`` starts with it, and the test suite runs it once, so its time is what a
new user waits. It is also the longest single transaction the ledger sees, which
makes it the benchmark of the commit-time numbering inside one transaction
(migration 0017): before it, each row's numbering trigger walked every row the
transaction had numbered already.

    python -m bench.demo_load            # prints seconds, movements, movements/s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from bench.common import scratch_database

REFERENCE_SECONDS = 531.5  # 8 min 51 s before migration 0017, same machine and load


def main() -> None:
    with scratch_database() as url, tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DATABASE_URL": url, "STOCKGRAPH_HOME": home}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "demo", "load"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - started
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    movements = summary["movements"]
    print(f"demo load: {seconds:.1f} s, {summary['sales']:,} sales, {movements:,} movements")
    print(f"movements/s: {movements / seconds:,.0f}")
    print(f"time ÷ reference ({REFERENCE_SECONDS:.0f} s before migration 0017): "
          f"{seconds / REFERENCE_SECONDS:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
