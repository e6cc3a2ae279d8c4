"""How often one caller may search members: a token bucket per caller, per process.

Searching by phone number or name is how personal data is probed, so each caller
(an app or a staff member, per tenant) gets ``burst`` searches at once and
``rate`` more per second. Buckets live in the process: with N processes a caller
can reach N times the rate, which still bounds probing to a small multiple
(run more processes, lower the rate). Idle buckets are forgotten, oldest first,
beyond ``max_callers``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from domain.errors import DomainError


class Throttled(DomainError):
    code = "THROTTLED"
    outcome = "denied"


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float = 1.0
    burst: int = 30


class SearchLimit:
    def __init__(
        self, *, max_callers: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at
        self._max = max_callers
        self._clock = clock

    def take(self, caller_key: str, rate: Rate) -> None:
        """Spend one search; Throttled with the seconds to wait when none is left."""
        now = self._clock()
        tokens, at = self._buckets.pop(caller_key, (float(rate.burst), now))
        tokens = min(float(rate.burst), tokens + (now - at) * rate.per_second)
        if tokens < 1.0:
            self._buckets[caller_key] = (tokens, now)
            wait = max(1, math.ceil((1.0 - tokens) / rate.per_second))
            raise Throttled(f"too many member searches; retry after {wait} s", ["search"])
        self._buckets[caller_key] = (tokens - 1.0, now)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)


SEARCHES = SearchLimit()  # this process's buckets
