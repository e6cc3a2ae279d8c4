"""Limits of the token endpoint: requests per client ID and per source address, and a
temporary lockout of a (client ID, address) pair after repeated wrong secrets.

The counters live in PostgreSQL (``edge.oauth_throttle``, owner only), not in each
process: with N API processes behind a balancer a per-process counter would allow N times the
limit, and a restart would forget a lockout. Each check is one upsert per key in
the owner's short transaction, and token requests are rare next to queries (a
token lasts an hour), so the cost is a few statements per token. Windows are
fixed (``window`` seconds from a key's first hit), so the limit holds within a
factor of two at a window's edge, whatever the number of processes.

The lockout is per pair, not per client, so that someone sending wrong secrets
for a client ID from their own address cannot lock the real client out; the
per-address limit bounds how many client IDs one address can try.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class Limits:
    per_client: int = 30  # token requests per window and client ID
    per_address: int = 60  # token requests per window and source address
    window: float = 60.0  # seconds
    failures: int = 5  # wrong secrets per window before a (client, address) pair is locked
    lockout: float = 300.0  # seconds


@dataclass(frozen=True, slots=True)
class Refusal:
    """Too many requests: the reason (for logs) and the seconds to wait."""

    reason: str
    retry_after: int


_HIT = text(
    """
    INSERT INTO edge.oauth_throttle AS t (key, window_start, hits, failures)
    VALUES (:key, now(), 1, 0)
    ON CONFLICT (key) DO UPDATE SET
      hits = CASE WHEN t.window_start <= now() - make_interval(secs => :window)
                  THEN 1 ELSE t.hits + 1 END,
      failures = CASE WHEN t.window_start <= now() - make_interval(secs => :window)
                      THEN 0 ELSE t.failures END,
      window_start = CASE WHEN t.window_start <= now() - make_interval(secs => :window)
                          THEN now() ELSE t.window_start END
    RETURNING t.hits,
      EXTRACT(EPOCH FROM t.window_start + make_interval(secs => :window) - now()) AS window_left,
      EXTRACT(EPOCH FROM t.locked_until - now()) AS locked_left
    """
)

_FAIL = text(
    """
    UPDATE edge.oauth_throttle AS t SET
      failures = t.failures + 1,
      locked_until = CASE WHEN t.failures + 1 >= :failures
                          THEN now() + make_interval(secs => :lockout) ELSE t.locked_until END
    WHERE t.key = :key
    RETURNING t.failures
    """
)

_CLEAR = text("UPDATE edge.oauth_throttle SET failures = 0, locked_until = NULL WHERE key = :key")

# Rows whose window and lockout are both long over say nothing; drop a few per request.
_PRUNE = text(
    """
    DELETE FROM edge.oauth_throttle WHERE key IN (
      SELECT key FROM edge.oauth_throttle
      WHERE window_start < now() - make_interval(secs => :keep)
        AND (locked_until IS NULL OR locked_until < now())
      LIMIT 100)
    """
)


def _keys(client_id: str, address: str) -> tuple[str, str, str]:
    return f"client:{client_id}", f"addr:{address}", f"pair:{client_id}|{address}"


def _seconds(value: object) -> int:
    return max(1, math.ceil(float(value)))  # type: ignore[arg-type]


async def admit(
    session: AsyncSession, client_id: str, address: str, limits: Limits
) -> Refusal | None:
    """Count this request; a Refusal when a limit is exceeded or the pair is locked."""
    client_key, address_key, pair_key = _keys(client_id, address)
    window = {"window": limits.window}
    refusal: Refusal | None = None
    for key, limit in ((address_key, limits.per_address), (client_key, limits.per_client)):
        row = (await session.execute(_HIT, {"key": key, **window})).one()
        if row.hits > limit and refusal is None:
            refusal = Refusal(f"rate limit of {key}", _seconds(row.window_left))
    pair = (await session.execute(_HIT, {"key": pair_key, **window})).one()
    if pair.locked_left is not None and pair.locked_left > 0:
        refusal = Refusal(f"{pair_key} locked out", _seconds(pair.locked_left))
    await session.execute(_PRUNE, {"keep": max(limits.window, limits.lockout) * 2})
    return refusal


async def failed(session: AsyncSession, client_id: str, address: str, limits: Limits) -> None:
    """A wrong secret (or unknown client): count it against the pair, lock at the limit."""
    await session.execute(
        _FAIL,
        {
            "key": _keys(client_id, address)[2],
            "failures": limits.failures,
            "lockout": limits.lockout,
        },
    )


async def succeeded(session: AsyncSession, client_id: str, address: str) -> None:
    """The right secret: the pair's failures start again from zero."""
    await session.execute(_CLEAR, {"key": _keys(client_id, address)[2]})
