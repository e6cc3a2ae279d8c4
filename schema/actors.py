"""Actors: who recorded a stock movement or caused an audit event, readably."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.actors import ActorKind as DomainActorKind
from domain.actors import label, parse_subject
from schema.describe import enum_values

ActorKind = enum_values(
    STAFF="A staff member, with a staff token (possibly through an app).",
    APP="A partner app acting on its own, with client credentials.",
    SYSTEM="The server itself: the operator's command line or a scheduled job.",
    UNKNOWN="The stored subject names no staff member or app of this tenant.",
)(strawberry.enum(DomainActorKind, name="ActorKind", description="What kind of caller acted."))


@strawberry.type(
    description="Who acted: a staff member (by staff code), a partner app (by its name) "
    "or the server itself (command line, scheduled jobs), resolved within your own tenant."
)
class Actor:
    kind: ActorKind = strawberry.field(  # type: ignore[valid-type]
        description="STAFF, APP, SYSTEM, or UNKNOWN when the stored subject names "
        "nobody of this tenant."
    )
    code: str | None = strawberry.field(
        description="The staff code (e.g. MGR01) or the app's OAuth client_id; null for "
        "SYSTEM and UNKNOWN."
    )
    name: str | None = strawberry.field(
        description="The staff member's or the app's name; null for SYSTEM and UNKNOWN."
    )
    label: str = strawberry.field(
        description='One readable string: "staff:MGR01", "app:POS app" or "system" '
        "(the stored subject when it names nobody of this tenant)."
    )
    subject: str = strawberry.field(
        description='The stored subject, as the `actor` field gives it ("staff:<row id>", '
        '"app:<client id>", "system"); stable, for matching, not for display.'
    )


async def resolve_actor(info: Info, subject: str) -> Actor:
    """The readable actor of a stored subject, through the request's tenant-scoped loaders."""
    ref = parse_subject(subject)
    code: str | None = None
    name: str | None = None
    kind = ref.kind
    if ref.staff_id is not None:
        staff = await info.context.loaders.staff_by_id.load(ref.staff_id)
        if staff is not None:
            code, name = staff.code, staff.name
    elif ref.client_id is not None:
        app = await info.context.loaders.app_by_client_id.load(ref.client_id)
        if app is not None:
            code, name = app.client_id, app.name
    if kind in (DomainActorKind.STAFF, DomainActorKind.APP) and code is None:
        kind = DomainActorKind.UNKNOWN
    return Actor(
        kind=kind, code=code, name=name, label=label(kind, code, name, subject), subject=subject
    )
