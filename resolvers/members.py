"""Member operations: arguments → one domain call → schema types."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.scalars import JSON
from strawberry.types import Info

from auth.caller import Caller
from domain.members import queries, service
from domain.members.search_limit import SEARCHES
from domain.members.service import MemberChange
from domain.pagination import page_size
from resolvers._app import master_key, search_rate
from resolvers._mutation import MutationSpec, not_replayed, run_mutation
from schema.members import (
    CreateMemberInput,
    EraseMemberInput,
    Member,
    MemberPayload,
    SetMemberConsentInput,
    SetMemberTagsInput,
    UpdateMemberInput,
)
from schema.relay import After, Connection, First, connection, decode_id, int_cursor

PERSONAL_INPUTS = ("name", "phone", "email", "birthday", "tags")


def _redact(data: dict[str, Any]) -> dict[str, Any]:
    """A refused member mutation's audit event keeps no personal data, only its shape."""
    return {
        k: ("[redacted]" if k in PERSONAL_INPUTS and v not in (None, strawberry.UNSET) else v)
        for k, v in data.items()
        if v is not strawberry.UNSET
    }


def _spec(action: str) -> MutationSpec:
    return MutationSpec(
        action=action,
        audit=MemberChange.audit,
        snapshot=lambda change: {"id": change.row.id},
        restore=not_replayed,
        redact=_redact,
    )


CREATE = _spec("member.create")
UPDATE = _spec("member.update")
SET_TAGS = _spec("member.set_tags")
SET_CONSENT = _spec("member.set_consent")
ERASE = _spec("member.erase")


def _render(change: MemberChange) -> MemberPayload:
    return MemberPayload(member=Member.from_row(change.row), user_errors=[])


def _location(value: strawberry.ID | None) -> int | None:
    return decode_id(value, "Location", ["homeLocationId"]) if value is not None else None


async def create_member(
    info: Info,
    input: Annotated[
        CreateMemberInput, strawberry.argument(description="What to do; see CreateMemberInput.")
    ],
) -> MemberPayload:
    master = master_key(info)

    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> MemberChange:
        cmd = service.CreateMember(
            name=input.name,
            phone=input.phone,
            email=input.email,
            birthday=input.birthday,
            home_location_id=_location(input.home_location_id),
            tier=input.tier,
            tags=tuple(input.tags or ()),
            consents=tuple(
                service.ConsentChoice(c.channel, c.granted, c.wording_version)
                for c in input.consents or ()
            ),
        )
        return await service.create_member(session, caller, master, cmd, request_id=request_id)

    return await run_mutation(info, CREATE, MemberPayload, input, execute, _render)


async def update_member(
    info: Info,
    input: Annotated[
        UpdateMemberInput, strawberry.argument(description="What to do; see UpdateMemberInput.")
    ],
) -> MemberPayload:
    master = master_key(info)
    names = ("name", "phone", "email", "birthday", "home_location_id", "tier")
    given = frozenset(n for n in names if getattr(input, n) is not strawberry.UNSET)

    def value(name: str) -> Any:
        v = getattr(input, name)
        return None if v is strawberry.UNSET else v

    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> MemberChange:
        cmd = service.UpdateMember(
            member_id=decode_id(input.id, "Member", ["id"]),
            given=given,
            name=value("name"),
            phone=value("phone"),
            email=value("email"),
            birthday=value("birthday"),
            home_location_id=_location(value("home_location_id")),
            tier=value("tier"),
        )
        return await service.update_member(session, caller, master, cmd)

    info.context._personal_data = None  # values read earlier in this operation are stale now
    return await run_mutation(info, UPDATE, MemberPayload, input, execute, _render)


async def set_member_tags(
    info: Info,
    input: Annotated[
        SetMemberTagsInput, strawberry.argument(description="What to do; see SetMemberTagsInput.")
    ],
) -> MemberPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> MemberChange:
        cmd = service.SetMemberTags(
            member_id=decode_id(input.id, "Member", ["id"]), tags=tuple(input.tags)
        )
        return await service.set_member_tags(session, caller, cmd)

    return await run_mutation(info, SET_TAGS, MemberPayload, input, execute, _render)


async def set_member_consent(
    info: Info,
    input: Annotated[
        SetMemberConsentInput,
        strawberry.argument(description="What to do; see SetMemberConsentInput."),
    ],
) -> MemberPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> MemberChange:
        cmd = service.SetMemberConsent(
            member_id=decode_id(input.member_id, "Member", ["memberId"]),
            channel=input.channel,
            granted=input.granted,
            wording_version=input.wording_version,
        )
        return await service.set_member_consent(session, caller, cmd, request_id=request_id)

    return await run_mutation(info, SET_CONSENT, MemberPayload, input, execute, _render)


async def erase_member(
    info: Info,
    input: Annotated[
        EraseMemberInput, strawberry.argument(description="What to do; see EraseMemberInput.")
    ],
) -> MemberPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> MemberChange:
        cmd = service.EraseMember(member_id=decode_id(input.id, "Member", ["id"]))
        return await service.erase_member(session, caller, cmd)

    info.context._personal_data = None  # nothing read before the erasure may be served after it
    return await run_mutation(info, ERASE, MemberPayload, input, execute, _render)


async def member(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The member's global ID.")],
) -> Member | None:
    pk = decode_id(id, "Member", ["id"])
    row = await info.context.loaders.member_by_id.load(pk)
    return Member.from_row(row) if row is not None else None


async def members(
    info: Info,
    first: First = None,
    after: After = None,
    search: Annotated[
        str | None,
        strawberry.argument(
            description="A member number (exact), part of a name (any case), or a phone "
            "number (needs members:pii; audited). At most 200 characters."
        ),
    ] = None,
    tag: Annotated[
        str | None,
        strawberry.argument(
            description='Only members carrying this tag, hand-set or computed (e.g. "vip", '
            '"lapsed").'
        ),
    ] = None,
) -> Connection[Member]:
    caller = info.context.viewer
    if search is not None:
        SEARCHES.take(f"{caller.tenant_id}|{caller.subject}", search_rate(info))
    master = master_key(info)
    limit = page_size(first)
    cursor = int_cursor(after)
    db = info.context.db
    async with db.tenant_transaction(caller.tenant_id) as session:
        page = await queries.list_members(
            session, caller, master, limit=limit, after=cursor, search=search, tag=tag
        )

    async def count() -> int:
        async with db.tenant_transaction(caller.tenant_id) as s:
            return await queries.count_members(s, caller, master, search, tag)

    return connection(page, Member.from_row, lambda r: r.id, count)


async def export_member(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The member's global ID.")],
) -> JSON:
    """Everything held about one member, in clear; needs members:pii; audited."""
    caller = info.context.viewer
    master = master_key(info)
    pk = decode_id(id, "Member", ["id"])
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        document = await queries.export_member(
            session, caller, master, pk, request_id=info.context.request_id
        )
    return JSON(document)
