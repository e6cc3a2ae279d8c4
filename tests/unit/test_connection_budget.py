"""A run that PostgreSQL has no room for stops at once with one message naming the numbers,
instead of failing tests half-way with "remaining connection slots are reserved"."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_run_without_free_slots_stops_with_a_clear_message():
    env = {**os.environ, "STOCKGRAPH_TEST_CONNECTIONS": "100000"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "2",
            "tests/unit/test_cli_help.py",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "free connection slots (max_connections" in output
    assert "this run needs up to 200000 (2 session(s) x 100000)" in output
    assert "TEST_WORKERS=1" in output
    assert "passed" not in output  # nothing ran
