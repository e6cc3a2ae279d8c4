"""Segments (saved member filters, counted and listed live) and the tenant's tag rule."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from domain.members import segments
from domain.members.tags import TagRule
from domain.pagination import page_size
from schema.errors import UserError
from schema.members import ConsentChannel, Member
from schema.relay import After, Connection, First, Node, connection, int_cursor


@strawberry.type(description="What a segment selects; every part given must hold.")
class SegmentFilter:
    tags_all: list[str] = strawberry.field(description="Carries every one (hand-set or computed).")
    tags_any: list[str] = strawberry.field(description="Carries at least one.")
    tags_none: list[str] = strawberry.field(description="Carries none.")
    home_location_ids: list[strawberry.ID] = strawberry.field(
        description="Home store is one of these (Location IDs); empty: any."
    )
    tier: str | None = strawberry.field(description="In this tier; null: any.")
    consent_channel: ConsentChannel | None = strawberry.field(  # type: ignore[valid-type]
        description="Consent on this channel granted now (a withdrawal excludes at once)."
    )
    created_after: datetime | None = strawberry.field(description="Created at or after.")
    created_before: datetime | None = strawberry.field(description="Created before.")

    @classmethod
    def from_domain(cls, f: segments.SegmentFilter) -> SegmentFilter:
        return cls(
            tags_all=list(f.tags_all),
            tags_any=list(f.tags_any),
            tags_none=list(f.tags_none),
            home_location_ids=[
                strawberry.ID(ids.encode("Location", i)) for i in f.home_location_ids
            ],
            tier=f.tier,
            consent_channel=f.consent_channel,
            created_after=f.created_after,
            created_before=f.created_before,
        )


@visible_with(Permission.MEMBERS_READ)
@strawberry.type(description="A saved filter over members; its count and list are live.")
class Segment(Node):
    name: str = strawberry.field(description="The segment's name.")
    description: str | None = strawberry.field(description="What it is for, if given.")
    filter: SegmentFilter = strawberry.field(description="What it selects.")
    created_by: str = strawberry.field(
        description='Who created it, as a stored subject ("staff:<id>" or "app:<client id>").'
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]
    rule: strawberry.Private[segments.SegmentFilter]

    @strawberry.field(description="How many members match now.")
    async def member_count(self, info: Info) -> int:
        caller = info.context.viewer
        async with info.context.db.tenant_transaction(caller.tenant_id) as session:
            return await segments.count_segment_members(session, caller, self.rule)

    @strawberry.field(description="The members matching now, by member number.")
    async def members(
        self,
        info: Info,
        first: First = None,
        after: After = None,
    ) -> Connection[Member]:
        caller = info.context.viewer
        limit = page_size(first)
        cursor = int_cursor(after)
        async with info.context.db.tenant_transaction(caller.tenant_id) as session:
            page = await segments.list_segment_members(
                session, caller, self.rule, limit=limit, after=cursor
            )
        return connection(page, Member.from_row, lambda r: r.id)

    @classmethod
    def from_row(cls, row: Any) -> Segment:
        rule = segments.SegmentFilter.from_json(row.filter)
        return cls(
            id=strawberry.ID(ids.encode("Segment", row.id)),
            name=row.name,
            description=row.description,
            filter=SegmentFilter.from_domain(rule),
            created_by=row.created_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            rule=rule,
        )


@strawberry.input(description="What a segment selects; every part given must hold.")
class SegmentFilterInput:
    tags_all: list[str] | None = strawberry.field(
        default=None,
        description="Carries every one of these tags (hand-set or computed); at most 50, "
        "each 1 to 64 characters.",
    )
    tags_any: list[str] | None = strawberry.field(
        default=None, description="Carries at least one of these tags."
    )
    tags_none: list[str] | None = strawberry.field(
        default=None, description="Carries none of these tags."
    )
    home_location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Home store is one of these (Location IDs), at most 250."
    )
    tier: str | None = strawberry.field(
        default=None, description="In this tier, 1 to 32 characters."
    )
    consent_channel: ConsentChannel | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Consent on this channel granted now."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this instant (with a UTC offset)."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this instant (with a UTC offset)."
    )


@strawberry.input(description="The input of createSegment.")
class CreateSegmentInput:
    name: str = strawberry.field(description="The name, 1 to 100 characters. Needs members:write.")
    description: str | None = strawberry.field(
        default=None, description="What it is for, at most 1000 characters."
    )
    filter: SegmentFilterInput | None = strawberry.field(
        default=None, description="What it selects; omitted: every member."
    )


@strawberry.input(description="Omitted fields stay; `filter` replaces the whole filter.")
class UpdateSegmentInput:
    id: strawberry.ID = strawberry.field(
        description="The segment's global ID. Needs members:write."
    )
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new name, 1 to 100 characters."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new description; null clears it."
    )
    filter: SegmentFilterInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new filter, replacing the whole filter; cannot be null.",
    )


@strawberry.input(description="The input of deleteSegment.")
class DeleteSegmentInput:
    id: strawberry.ID = strawberry.field(
        description="The segment's global ID. Needs members:write."
    )


@strawberry.type(
    description="The result of createSegment and updateSegment: what changed, or userErrors."
)
class SegmentPayload:
    segment: Segment | None = strawberry.field(
        description="The segment after the change; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> SegmentPayload:
        return cls(segment=None, user_errors=errors)


@strawberry.type(description="The result of deleteSegment: what changed, or userErrors.")
class DeleteSegmentPayload:
    deleted_segment_id: strawberry.ID | None = strawberry.field(
        description="The ID of the segment deleted; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> DeleteSegmentPayload:
        return cls(deleted_segment_id=None, user_errors=errors)


@strawberry.type(description="The tenant's rule for the computed `vip` and `lapsed` tags.")
class MemberTagRule:
    vip_min_spend: Decimal | None = strawberry.field(
        description="`vip` at this spend over 365 days, in the tenant's currency."
    )
    vip_min_purchases: int | None = strawberry.field(
        description="`vip` at this many purchases over 365 days."
    )
    lapsed_days: int = strawberry.field(description="`lapsed` after this many days without.")

    @classmethod
    def from_domain(cls, rule: TagRule) -> MemberTagRule:
        return cls(
            vip_min_spend=rule.vip_min_spend,
            vip_min_purchases=rule.vip_min_purchases,
            lapsed_days=rule.lapsed_days,
        )


@strawberry.input(description="A null threshold is not used; tags follow at the next recompute.")
class SetMemberTagRuleInput:
    vip_min_spend: Decimal | None = strawberry.field(
        default=None,
        description="VIP when the spend over 365 days (tenant currency) reaches this; 0 or "
        "more; null: not used. Default 10000.",
    )
    vip_min_purchases: int | None = strawberry.field(
        default=None,
        description="VIP when purchases over 365 days reach this, 1 to 100000; null: not "
        "used. Default 24.",
    )
    lapsed_days: int = strawberry.field(
        default=180,
        description='Tagged "lapsed" after this many days without a purchase, 1 to 3650 '
        "(default 180).",
    )


@strawberry.type(description="The result of setMemberTagRule: what changed, or userErrors.")
class MemberTagRulePayload:
    rule: MemberTagRule | None = strawberry.field(
        description="The rule after the change; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> MemberTagRulePayload:
        return cls(rule=None, user_errors=errors)
