"""Which tokens are revoked, as this process last heard: a snapshot of the epochs.

The check runs on every request, so it reads memory only; a background task
reloads the snapshot from ``token_revocations`` every ``interval`` seconds (one
small query per process), which bounds how long a revoked token still works.
If a reload fails the old snapshot stays and the failure is logged: revocations
are never forgotten, only late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

log = logging.getLogger("stockgraph.revocations")

Loader = Callable[[], Awaitable[Mapping[tuple[int, str], int]]]


class Revocations:
    def __init__(self) -> None:
        self._epochs: Mapping[tuple[int, str], int] = {}
        self.loaded = False

    def replace(self, epochs: Mapping[tuple[int, str], int]) -> None:
        self._epochs = dict(epochs)
        self.loaded = True

    def revoked(self, claims: Mapping[str, Any]) -> bool:
        """True when the token's subject was revoked after the token was issued."""
        if not self._epochs:
            return False
        try:
            key = (int(claims["tid"]), str(claims["sub"]))
        except (KeyError, TypeError, ValueError):
            return False  # not one of ours; the caller's own checks refuse it
        current = self._epochs.get(key)
        if current is None:
            return False
        epoch = claims.get("rev", 0)
        return not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < current

    async def refresh(self, load: Loader) -> None:
        self.replace(await load())

    async def watch(self, load: Loader, interval: float) -> None:
        """Reload forever (run as a task; cancel to stop)."""
        while True:
            try:
                await self.refresh(load)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not reload token revocations; keeping the last snapshot")
            await asyncio.sleep(interval)
