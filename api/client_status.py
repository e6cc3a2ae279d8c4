"""Whether an app credential is still active, checked when its token is used.

Access tokens are self-contained, so a token issued before a client was
deactivated (a disabled till) would otherwise work until it expires. The edge
asks the database instead, and keeps each answer for ``TTL_SECONDS`` so that a
busy till costs one lookup every few seconds, not one per request. Concurrent
requests of one client share one lookup.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from sqlalchemy import text
from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection

from auth.backend import BearerBackend, CallerUser
from auth.caller import Caller
from db.session import Database

TTL_SECONDS = 2.0
MAX_ENTRIES = 4096

_ACTIVE = text("SELECT active FROM partner_apps WHERE client_id = :c")
_seen: OrderedDict[str, tuple[float, bool]] = OrderedDict()
_pending: dict[str, asyncio.Future[bool]] = {}


async def _lookup(db: Database, client_id: str) -> bool:
    async with db.owner_transaction() as session:
        found = (await session.execute(_ACTIVE, {"c": client_id})).scalar_one_or_none()
    return found is not False  # clients are deactivated, never deleted


async def still_active(db: Database, caller: Caller | None) -> Caller | None:
    """The caller, or None when it acts through a client that is no longer active."""
    if caller is None or caller.client_id is None:
        return caller
    client = caller.client_id
    cached = _seen.get(client)
    if cached is not None and time.monotonic() - cached[0] < TTL_SECONDS:
        return caller if cached[1] else None
    pending = _pending.get(client)
    if pending is None:
        pending = asyncio.get_running_loop().create_future()
        _pending[client] = pending
        try:
            active = await _lookup(db, client)
        except BaseException as exc:
            pending.set_exception(exc)
            pending.exception()  # retrieved: the waiters re-raise it themselves
            raise
        finally:
            _pending.pop(client, None)
        pending.set_result(active)
        _seen[client] = (time.monotonic(), active)
        _seen.move_to_end(client)
        if len(_seen) > MAX_ENTRIES:
            _seen.popitem(last=False)
    else:
        active = await asyncio.shield(pending)
    return caller if active else None


class ActiveClientBackend(AuthenticationBackend):
    """The bearer backend, refusing the tokens of deactivated clients (at the edge, once)."""

    def __init__(self, inner: BearerBackend, db: Database) -> None:
        self.inner = inner
        self.db = db

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        found = await self.inner.authenticate(conn)
        if found is None:
            return None
        user = found[1]
        if isinstance(user, CallerUser) and await still_active(self.db, user.caller) is None:
            return None
        return found
