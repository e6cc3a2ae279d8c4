"""The per-request (per-operation, over WebSocket) context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auth.caller import Caller
from db.loaders import Loaders
from db.session import Database


@dataclass
class Context:
    db: Database
    caller: Caller | None
    request_id: str
    response: Any = None
    request: Any = None
    broker: Any = None
    connection_params: Any = None
    queue_size: int = 10_000
    # set when a mutation answered from its idempotency key (a replay, not a new attempt):
    # the response then says so (api/policy.py: the header and the extension field)
    idempotent_replay: bool = False
    _loaders: Loaders | None = field(default=None, repr=False)
    _personal_data: Any = field(default=None, repr=False)  # schema.members.personal_data()

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            if self.caller is None:
                raise PermissionError("no caller")
            self._loaders = Loaders(self.db, self.caller.tenant_id)
        return self._loaders

    @property
    def viewer(self) -> Caller:
        """The caller; resolvers only run with one (the auth extension makes sure)."""
        assert self.caller is not None
        return self.caller
