"""Whether an app credential is still active, checked when its token is used.

Access tokens are self-contained, so a token issued before a client was
deactivated (a disabled till) would otherwise work until it expires. The edge
asks the database instead, and keeps each answer for ``TTL_SECONDS`` so that a
busy till costs one lookup every few seconds, not one per request.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from sqlalchemy import text

from auth.caller import Caller
from db.session import Database

TTL_SECONDS = 2.0
MAX_ENTRIES = 4096

_ACTIVE = text("SELECT active FROM partner_apps WHERE client_id = :c")
_seen: OrderedDict[str, tuple[float, bool]] = OrderedDict()


async def still_active(db: Database, caller: Caller | None) -> Caller | None:
    """The caller, or None when it acts through a client that is no longer active."""
    if caller is None or caller.client_id is None:
        return caller
    now = time.monotonic()
    cached = _seen.get(caller.client_id)
    if cached is not None and now - cached[0] < TTL_SECONDS:
        return caller if cached[1] else None
    async with db.owner_transaction() as session:
        found = (await session.execute(_ACTIVE, {"c": caller.client_id})).scalar_one_or_none()
    active = found is not False  # clients are deactivated, never deleted
    _seen[caller.client_id] = (now, active)
    _seen.move_to_end(caller.client_id)
    if len(_seen) > MAX_ENTRIES:
        _seen.popitem(last=False)
    return caller if active else None
