"""Unexpected errors in the log: once per kind per minute, with a count.

A fault that every request hits (a database that went away, a bug on a hot path)
would otherwise write one traceback per request, and any caller could flood the
log by repeating a request that fails. A kind is where it happened and what was
raised; its first occurrence in a window is logged whole, the rest are counted,
and the next line of that kind says how many were not logged.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
MAX_KINDS = 1024  # kinds remembered; the oldest is forgotten first


@dataclass(slots=True)
class _Seen:
    since: float
    suppressed: int = 0


class ErrorLog:
    """A logger's ``error`` that lets one line per kind through per window."""

    def __init__(
        self,
        logger: logging.Logger,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.window = window
        self.clock = clock
        self._seen: OrderedDict[str, _Seen] = OrderedDict()

    def error(self, kind: str, message: str, exc: BaseException | None = None) -> bool:
        """Log ``message`` (with ``exc``'s traceback) unless ``kind`` was logged within the
        window; True when it was written."""
        now = self.clock()
        seen = self._seen.get(kind)
        if seen is not None and now - seen.since < self.window:
            seen.suppressed += 1
            return False
        suppressed = seen.suppressed if seen is not None else 0
        self._seen[kind] = _Seen(now)
        self._seen.move_to_end(kind)
        while len(self._seen) > MAX_KINDS:
            self._seen.popitem(last=False)
        if suppressed:
            message = f"{message} ({suppressed} more of this kind not logged in the last window)"
        self.logger.error("%s", message, exc_info=exc)
        return True


def kind_of(error: BaseException, where: object) -> str:
    """What was raised and where: list indexes in a path do not make a new kind."""
    if isinstance(where, list | tuple):
        where = ".".join(str(p) for p in where if not isinstance(p, int))
    return f"{type(error).__module__}.{type(error).__qualname__}@{where}"
