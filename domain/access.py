"""Permission checks that depend on data (the location), done in the domain."""

from __future__ import annotations

from auth.caller import Caller
from auth.permissions import Permission
from domain.errors import Forbidden


def require(
    caller: Caller,
    permission: Permission,
    location_id: int | None = None,
    field: list[str] | None = None,
) -> None:
    if not caller.can(permission, location_id):
        where = " at this location" if location_id is not None and caller.has(permission) else ""
        raise Forbidden(f"{permission.value} is required{where}", field)
