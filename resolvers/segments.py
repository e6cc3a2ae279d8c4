"""Segment operations and the tenant's tag rule: arguments → one domain call → types."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from domain.members import segments, tags
from domain.pagination import page_size
from resolvers._mutation import MutationSpec, not_replayed, run_mutation
from schema.relay import After, Connection, First, connection, decode_id, int_cursor
from schema.segments import (
    CreateSegmentInput,
    DeleteSegmentInput,
    DeleteSegmentPayload,
    MemberTagRule,
    MemberTagRulePayload,
    Segment,
    SegmentFilterInput,
    SegmentPayload,
    SetMemberTagRuleInput,
    UpdateSegmentInput,
)


def _spec(action: str, audit: Any) -> MutationSpec:
    return MutationSpec(
        action=action, audit=audit, snapshot=lambda _: {}, restore=not_replayed, redact=None
    )


CREATE = _spec("segment.create", segments.SegmentChange.audit)
UPDATE = _spec("segment.update", segments.SegmentChange.audit)
DELETE = _spec("segment.delete", segments.SegmentChange.audit)
SET_RULE = _spec("member.set_tag_rule", tags.TagRuleChange.audit)


def _filter(value: SegmentFilterInput | None) -> segments.SegmentFilter:
    if value is None:
        return segments.SegmentFilter()
    path = ["filter", "homeLocationIds"]
    return segments.SegmentFilter(
        tags_all=tuple(value.tags_all or ()),
        tags_any=tuple(value.tags_any or ()),
        tags_none=tuple(value.tags_none or ()),
        home_location_ids=tuple(
            decode_id(g, "Location", [*path, str(i)])
            for i, g in enumerate(value.home_location_ids or ())
        ),
        tier=value.tier,
        consent_channel=value.consent_channel,
        created_after=value.created_after,
        created_before=value.created_before,
    )


def _render(change: segments.SegmentChange) -> SegmentPayload:
    return SegmentPayload(segment=Segment.from_row(change.row), user_errors=[])


async def create_segment(
    info: Info,
    input: Annotated[
        CreateSegmentInput, strawberry.argument(description="What to do; see CreateSegmentInput.")
    ],
) -> SegmentPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> segments.SegmentChange:
        cmd = segments.CreateSegment(
            name=input.name, description=input.description, filter=_filter(input.filter)
        )
        return await segments.create_segment(session, caller, cmd)

    return await run_mutation(info, CREATE, SegmentPayload, input, execute, _render)


async def update_segment(
    info: Info,
    input: Annotated[
        UpdateSegmentInput, strawberry.argument(description="What to do; see UpdateSegmentInput.")
    ],
) -> SegmentPayload:
    given = frozenset(
        n for n in ("name", "description", "filter") if getattr(input, n) is not strawberry.UNSET
    )

    async def execute(session: AsyncSession, caller: Caller, _: str) -> segments.SegmentChange:
        cmd = segments.UpdateSegment(
            segment_id=decode_id(input.id, "Segment", ["id"]),
            given=given,
            name=input.name if "name" in given else None,
            description=input.description if "description" in given else None,
            filter=_filter(input.filter) if "filter" in given else None,  # type: ignore[arg-type]
        )
        return await segments.update_segment(session, caller, cmd)

    return await run_mutation(info, UPDATE, SegmentPayload, input, execute, _render)


async def delete_segment(
    info: Info,
    input: Annotated[
        DeleteSegmentInput, strawberry.argument(description="What to do; see DeleteSegmentInput.")
    ],
) -> DeleteSegmentPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> segments.SegmentChange:
        cmd = segments.DeleteSegment(segment_id=decode_id(input.id, "Segment", ["id"]))
        return await segments.delete_segment(session, caller, cmd)

    def render(change: segments.SegmentChange) -> DeleteSegmentPayload:
        gid = strawberry.ID(ids.encode("Segment", change.segment_id))
        return DeleteSegmentPayload(deleted_segment_id=gid, user_errors=[])

    return await run_mutation(info, DELETE, DeleteSegmentPayload, input, execute, render)


async def set_member_tag_rule(
    info: Info,
    input: Annotated[
        SetMemberTagRuleInput,
        strawberry.argument(description="What to do; see SetMemberTagRuleInput."),
    ],
) -> MemberTagRulePayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> tags.TagRuleChange:
        cmd = tags.SetTagRule(input.vip_min_spend, input.vip_min_purchases, input.lapsed_days)
        return await tags.set_tag_rule(session, caller, cmd)

    def render(change: tags.TagRuleChange) -> MemberTagRulePayload:
        return MemberTagRulePayload(rule=MemberTagRule.from_domain(change.rule), user_errors=[])

    return await run_mutation(info, SET_RULE, MemberTagRulePayload, input, execute, render)


async def member_tag_rule(info: Info) -> MemberTagRule:
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        return MemberTagRule.from_domain(await tags.tag_rule(session, caller.tenant_id))


async def segment(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The segment's global ID.")],
) -> Segment | None:
    pk = decode_id(id, "Segment", ["id"])
    row = await info.context.loaders.segment_by_id.load(pk)
    return Segment.from_row(row) if row is not None else None


async def segments_(
    info: Info,
    first: First = None,
    after: After = None,
) -> Connection[Segment]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await segments.list_segments(session, caller, limit=limit, after=cursor)
    return connection(page, Segment.from_row, lambda r: r.id)
