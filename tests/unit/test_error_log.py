"""Unexpected errors are logged once per kind per window, with a count of the rest."""

from __future__ import annotations

import logging

import pytest

from api.error_log import ErrorLog, kind_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_kind_per_window_then_the_count(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    errors = ErrorLog(logging.getLogger("test.error_log"), window=60.0, clock=clock)
    boom = RuntimeError("database went away")
    kind = kind_of(boom, ["stockLevels", "edges", 3, "node"])
    with caplog.at_level(logging.ERROR, logger="test.error_log"):
        written = [errors.error(kind, "unexpected error", boom) for _ in range(5)]
        other = errors.error(kind_of(KeyError("x"), ["stockLevels"]), "unexpected error", None)
        clock.now += 59.0
        assert not errors.error(kind, "unexpected error", boom)
        clock.now += 1.0
        again = errors.error(kind, "unexpected error", boom)
    assert written == [True, False, False, False, False] and other and again
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "unexpected error",
        "unexpected error",
        "unexpected error (5 more of this kind not logged in the last window)",
    ]
    assert caplog.records[0].exc_info is not None and caplog.records[0].exc_info[1] is boom


def test_a_kind_is_what_was_raised_and_where_without_list_indexes() -> None:
    one = kind_of(ValueError("a"), ["stockLevels", "edges", 0, "node", "product"])
    two = kind_of(ValueError("b"), ["stockLevels", "edges", 7, "node", "product"])
    assert one == two == "builtins.ValueError@stockLevels.edges.node.product"
    assert kind_of(TypeError(), ["stockLevels"]) != kind_of(ValueError(), ["stockLevels"])
    assert kind_of(ValueError(), "compiled plan") == "builtins.ValueError@compiled plan"
