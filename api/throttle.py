"""The cost bucket of each client (Shopify's leaky bucket), in this process.

Each client (a partner app or a staff member, within its tenant) has a bucket of
``maximum`` points that refills at ``restore_rate`` points a second. A document's
requested cost is taken before it runs (refused with a retry hint when the bucket
holds less), and what it did not use is given back once its actual cost is known.

Per process, on purpose: the bucket is touched twice on every request, and a
shared one (PostgreSQL, as the token endpoint's counters) would add a round trip
to each; with W processes a client may spend up to W × the restore rate, so an
operator sets the rate per process (the figure divided by the worker count).
Buckets are forgotten once full again (a full bucket is what a new one is), so
their number stays bounded by the clients active within ``maximum / restore_rate``
seconds, and by ``MAX_BUCKETS`` in any case.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_BUCKETS = 100_000  # ~200 bytes each: at most ~20 MB however many clients call

ClientKey = tuple[int, str]  # tenant, subject


@dataclass(slots=True)
class Bucket:
    available: float
    at: float


@dataclass(frozen=True, slots=True)
class Status:
    """Shopify's throttleStatus, and how long to wait when refused."""

    maximum: float
    available: float
    restore_rate: float
    retry_after: int = 0  # seconds; 0 when the request was let through

    def as_extension(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": math.floor(self.available),
            "restoreRate": self.restore_rate,
        }


class Throttle:
    def __init__(
        self,
        maximum: float,
        restore_rate: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.clock = clock
        self.buckets: OrderedDict[ClientKey, Bucket] = OrderedDict()

    def _bucket(self, key: ClientKey) -> Bucket:
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = Bucket(self.maximum, now)
            self.buckets[key] = bucket
            while len(self.buckets) > MAX_BUCKETS:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(key)
            bucket.available = min(
                self.maximum, bucket.available + (now - bucket.at) * self.restore_rate
            )
            bucket.at = now
        return bucket

    def take(self, key: ClientKey, cost: float) -> Status:
        """Take ``cost`` points; a Status with ``retry_after`` > 0 when there are too few."""
        bucket = self._bucket(key)
        if cost > bucket.available:
            missing = cost - bucket.available
            wait = math.ceil(missing / self.restore_rate) if self.restore_rate > 0 else 3600
            return Status(self.maximum, bucket.available, self.restore_rate, max(1, wait))
        bucket.available -= cost
        return self.status(key, bucket)

    def refund(self, key: ClientKey, points: float) -> Status:
        """Give back what a document did not use."""
        bucket = self._bucket(key)
        bucket.available = min(self.maximum, bucket.available + max(0.0, points))
        status = self.status(key, bucket)
        if bucket.available >= self.maximum:
            del self.buckets[key]  # a full bucket is what a new one would be
        return status

    def status(self, key: ClientKey, bucket: Bucket | None = None) -> Status:
        bucket = bucket or self._bucket(key)
        return Status(self.maximum, bucket.available, self.restore_rate)
