"""Who the caller is, as the caller may see it."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from schema.locations import Location


@strawberry.enum
class ViewerKind(Enum):
    APP = "APP"
    STAFF = "STAFF"
    SYSTEM = "SYSTEM"


@strawberry.type
class Tenant:
    id: strawberry.ID
    code: str
    name: str
    currency: str
    timezone: str


@strawberry.type
class Viewer:
    kind: ViewerKind
    roles: list[str]
    permissions: list[str]
    client_id: str | None
    staff_id: strawberry.ID | None
    tenant: Tenant
    _location_pks: strawberry.Private[frozenset[int] | None]

    @strawberry.field(
        description="Where location-limited permissions (stock:write, transfers:write) hold; "
        "null means every location."
    )
    async def locations(self, info: Info) -> list[Location] | None:
        if self._location_pks is None:
            return None
        rows = await info.context.loaders.location_by_id.load_many(sorted(self._location_pks))
        return [Location.from_row(r) for r in rows if r is not None]

    @classmethod
    def of(cls, caller: Caller, tenant: Tenant) -> Viewer:
        scoped = caller.scoped_permissions and caller.location_ids is not None
        return cls(
            kind=ViewerKind(caller.kind.value),
            roles=[caller.role.value] if caller.role else [],
            permissions=sorted(p.value for p in caller.permissions),
            client_id=caller.client_id,
            staff_id=strawberry.ID(ids.encode("Staff", caller.staff_id))
            if caller.staff_id
            else None,
            tenant=tenant,
            _location_pks=caller.location_ids if scoped else None,
        )
