"""Who the caller is, as the caller may see it."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from schema.describe import enum_values
from schema.locations import Location


@enum_values(
    APP="A partner app with client credentials (its scopes).",
    STAFF="A staff member with a staff token (the permissions of the rank).",
    SYSTEM="The server itself (the operator's command line).",
)
@strawberry.enum(description="The kind of caller.")
class ViewerKind(Enum):
    APP = "APP"
    STAFF = "STAFF"
    SYSTEM = "SYSTEM"


@strawberry.type(
    description="A retail chain: every caller and every object belongs to exactly one."
)
class Tenant:
    id: strawberry.ID = strawberry.field(description="The tenant's ID.")
    code: str = strawberry.field(description="The tenant's short code.")
    name: str = strawberry.field(description="The chain's name.")
    currency: str = strawberry.field(
        description="The currency of prices and costs (ISO 4217, e.g. HKD)."
    )
    timezone: str = strawberry.field(
        description="The IANA time zone of business days (e.g. Asia/Hong_Kong): dates, "
        "periods and reports follow it."
    )


@strawberry.type(description="The caller: who they are, in which tenant, and what they may do.")
class Viewer:
    kind: ViewerKind = strawberry.field(description="Partner app, staff member, or the system.")
    roles: list[str] = strawberry.field(
        description="The staff member's rank (e.g. STORE_MANAGER); empty for an app."
    )
    permissions: list[str] = strawberry.field(
        description="Every permission the caller holds (for a staff member through an app, "
        'the intersection), e.g. "stock:read".'
    )
    client_id: str | None = strawberry.field(
        description="The OAuth client_id of the app, if the caller came through one."
    )
    staff_id: strawberry.ID | None = strawberry.field(
        description="The staff member's global ID, for a staff token."
    )
    tenant: Tenant = strawberry.field(description="The tenant the caller belongs to.")
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
