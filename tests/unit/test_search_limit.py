"""The member-search token bucket: a burst, then one per 1/rate seconds, per caller."""

from __future__ import annotations

import pytest

from domain.members.search_limit import Rate, SearchLimit, Throttled


def test_burst_then_refill_per_caller():
    now = [100.0]
    limit = SearchLimit(clock=lambda: now[0])
    rate = Rate(per_second=0.5, burst=3)
    for _ in range(3):
        limit.take("a", rate)
    with pytest.raises(Throttled) as refused:
        limit.take("a", rate)
    assert refused.value.code == "THROTTLED"
    assert "retry after 2 s" in refused.value.message
    limit.take("b", rate)  # another caller has its own bucket
    now[0] += 2.0
    limit.take("a", rate)  # one token back after 1/rate seconds
    with pytest.raises(Throttled):
        limit.take("a", rate)


def test_idle_callers_are_forgotten_beyond_the_bound():
    limit = SearchLimit(max_callers=100, clock=lambda: 0.0)
    for n in range(1000):
        limit.take(f"caller-{n}", Rate())
    assert len(limit._buckets) == 100
