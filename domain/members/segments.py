"""Segments: saved filters over members, counted and listed live.

A filter combines, all at once: tags (all / any / none of, hand-set or computed), home
locations, tier, a consent channel granted now (``domain.members.consent.granted_now``:
a withdrawal excludes the member from the next read) and when the member was created.
Erased members are never in a segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, not_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Member, MemberSegment
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.catalog.lookup import location_row
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.members.consent import Channel, granted_now
from domain.members.tags import has_any_tag, has_tag
from domain.pagination import Page, make_page

MAX_FILTER_TAGS = 50
MAX_LOCATIONS = 250


@dataclass(frozen=True, slots=True)
class SegmentFilter:
    tags_all: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    tags_none: tuple[str, ...] = ()
    home_location_ids: tuple[int, ...] = ()
    tier: str | None = None
    consent_channel: Channel | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "tagsAll": list(self.tags_all),
            "tagsAny": list(self.tags_any),
            "tagsNone": list(self.tags_none),
            "homeLocationIds": list(self.home_location_ids),
            "tier": self.tier,
            "consentChannel": self.consent_channel.value if self.consent_channel else None,
            "createdAfter": self.created_after.isoformat() if self.created_after else None,
            "createdBefore": self.created_before.isoformat() if self.created_before else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SegmentFilter:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if value else None

        channel = data.get("consentChannel")
        return cls(
            tags_all=tuple(data.get("tagsAll") or ()),
            tags_any=tuple(data.get("tagsAny") or ()),
            tags_none=tuple(data.get("tagsNone") or ()),
            home_location_ids=tuple(int(i) for i in data.get("homeLocationIds") or ()),
            tier=data.get("tier"),
            consent_channel=Channel(channel) if channel else None,
            created_after=when("createdAfter"),
            created_before=when("createdBefore"),
        )


def conditions(f: SegmentFilter) -> list[ColumnElement[bool]]:
    """The filter as conditions on ``members`` (pure: no I/O)."""
    m = Member.__table__
    out: list[ColumnElement[bool]] = [m.c.erased_at.is_(None)]
    out.extend(has_tag(t) for t in f.tags_all)
    if f.tags_any:
        out.append(has_any_tag(f.tags_any))
    if f.tags_none:
        out.append(not_(has_any_tag(f.tags_none)))
    if f.home_location_ids:
        out.append(m.c.home_location_id.in_(list(f.home_location_ids)))
    if f.tier is not None:
        out.append(m.c.tier == f.tier)
    if f.consent_channel is not None:
        out.append(granted_now(f.consent_channel))
    if f.created_after is not None:
        out.append(m.c.created_at >= f.created_after)
    if f.created_before is not None:
        out.append(m.c.created_at < f.created_before)
    return out


def _tags(values: tuple[str, ...], path: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for i, raw in enumerate(values):
        tag = raw.strip()
        if not 1 <= len(tag) <= 64:
            raise InvalidInput("a tag must be 1 to 64 characters", [*path, str(i)])
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_FILTER_TAGS:
        raise InvalidInput(f"at most {MAX_FILTER_TAGS} tags", path)
    return tuple(out)


async def _checked(session: AsyncSession, caller: Caller, f: SegmentFilter) -> SegmentFilter:
    """Normalised; every location one of the caller's tenant (else NOT_FOUND)."""
    path = ["filter"]
    if len(f.home_location_ids) > MAX_LOCATIONS:
        raise InvalidInput(f"at most {MAX_LOCATIONS} locations", [*path, "homeLocationIds"])
    locations: list[int] = []
    for i, loc in enumerate(f.home_location_ids):
        row = await location_row(session, caller, loc, [*path, "homeLocationIds", str(i)])
        if row.id not in locations:
            locations.append(row.id)
    tier = f.tier.strip().upper() if f.tier is not None else None
    if tier is not None and not 1 <= len(tier) <= 32:
        raise InvalidInput("tier must be 1 to 32 characters", [*path, "tier"])
    for key, value in (("createdAfter", f.created_after), ("createdBefore", f.created_before)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput("needs a UTC offset", [*path, key])
    return SegmentFilter(
        tags_all=_tags(f.tags_all, [*path, "tagsAll"]),
        tags_any=_tags(f.tags_any, [*path, "tagsAny"]),
        tags_none=_tags(f.tags_none, [*path, "tagsNone"]),
        home_location_ids=tuple(locations),
        tier=tier,
        consent_channel=f.consent_channel,
        created_after=f.created_after,
        created_before=f.created_before,
    )


def _name(value: str | None) -> str:
    text_ = (value or "").strip()
    if not 1 <= len(text_) <= 100:
        raise InvalidInput("name must be 1 to 100 characters", ["name"])
    return text_


def _description(value: str | None) -> str | None:
    if value is None:
        return None
    text_ = value.strip()
    if len(text_) > 1000:
        raise InvalidInput("description must be at most 1000 characters", ["description"])
    return text_ or None


@dataclass(frozen=True, slots=True)
class CreateSegment:
    name: str
    filter: SegmentFilter
    description: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateSegment:
    """``given`` names the fields to change (``name``, ``description``, ``filter``)."""

    segment_id: int
    given: frozenset[str]
    name: str | None = None
    description: str | None = None
    filter: SegmentFilter | None = None


@dataclass(frozen=True, slots=True)
class DeleteSegment:
    segment_id: int


@dataclass(frozen=True, slots=True)
class SegmentChange:
    """A changed segment (its row; None once deleted) and its audit event."""

    segment_id: int
    row: Any
    action: str
    after: dict[str, Any] = field(default_factory=dict)

    def audit(self) -> AuditEntry:
        return AuditEntry(
            action=self.action,
            target_type="Segment",
            target_id=ids.encode("Segment", self.segment_id),
            after=self.after,
        )


async def _row(session: AsyncSession, caller: Caller, segment_id: int, lock: bool = False) -> Any:
    table = MemberSegment.__table__
    stmt = select(table).where(table.c.tenant_id == caller.tenant_id, table.c.id == segment_id)
    row = (await session.execute(stmt.with_for_update() if lock else stmt)).first()
    if row is None:
        raise NotFound("no such segment", ["id"])
    return row


async def _unique(session: AsyncSession, caller: Caller, name: str, but: int | None) -> None:
    table = MemberSegment.__table__
    stmt = select(table.c.id).where(table.c.tenant_id == caller.tenant_id, table.c.name == name)
    if but is not None:
        stmt = stmt.where(table.c.id != but)
    if (await session.execute(stmt)).first() is not None:
        raise AlreadyExists("a segment with this name exists", ["name"])


async def create_segment(
    session: AsyncSession, caller: Caller, cmd: CreateSegment
) -> SegmentChange:
    require(caller, Permission.MEMBERS_WRITE)
    name = _name(cmd.name)
    description = _description(cmd.description)
    f = await _checked(session, caller, cmd.filter)
    await _unique(session, caller, name, None)
    try:
        async with session.begin_nested():
            new_id = (
                await session.execute(
                    insert(MemberSegment)
                    .values(
                        tenant_id=caller.tenant_id,
                        name=name,
                        description=description,
                        filter=f.to_json(),
                        created_by=caller.subject,
                    )
                    .returning(MemberSegment.__table__.c.id)
                )
            ).scalar_one()
    except IntegrityError as exc:
        raise AlreadyExists("a segment with this name exists", ["name"]) from exc
    return SegmentChange(
        new_id,
        await _row(session, caller, new_id),
        "segment.create",
        {"name": name, "filter": f.to_json()},
    )


async def update_segment(
    session: AsyncSession, caller: Caller, cmd: UpdateSegment
) -> SegmentChange:
    require(caller, Permission.MEMBERS_WRITE)
    row = await _row(session, caller, cmd.segment_id, lock=True)
    values: dict[str, Any] = {}
    if "name" in cmd.given:
        values["name"] = _name(cmd.name)
        await _unique(session, caller, values["name"], row.id)
    if "description" in cmd.given:
        values["description"] = _description(cmd.description)
    if "filter" in cmd.given:
        if cmd.filter is None:
            raise InvalidInput("filter cannot be null", ["filter"])
        values["filter"] = (await _checked(session, caller, cmd.filter)).to_json()
    if values:
        table = MemberSegment.__table__
        await session.execute(
            update(MemberSegment)
            .where(table.c.tenant_id == caller.tenant_id, table.c.id == row.id)
            .values(**values, updated_at=func.now())
        )
    return SegmentChange(
        row.id,
        await _row(session, caller, row.id),
        "segment.update",
        {"changed": sorted(values), **({"filter": values["filter"]} if "filter" in values else {})},
    )


async def delete_segment(
    session: AsyncSession, caller: Caller, cmd: DeleteSegment
) -> SegmentChange:
    require(caller, Permission.MEMBERS_WRITE)
    row = await _row(session, caller, cmd.segment_id, lock=True)
    table = MemberSegment.__table__
    await session.execute(
        delete(MemberSegment).where(table.c.tenant_id == caller.tenant_id, table.c.id == row.id)
    )
    return SegmentChange(row.id, None, "segment.delete", {"name": row.name})


# --- reading ---------------------------------------------------------------------------


async def get_segment(session: AsyncSession, caller: Caller, segment_id: int) -> Any | None:
    require(caller, Permission.MEMBERS_READ)
    table = MemberSegment.__table__
    return (
        await session.execute(
            select(table).where(table.c.tenant_id == caller.tenant_id, table.c.id == segment_id)
        )
    ).first()


async def list_segments(
    session: AsyncSession, caller: Caller, *, limit: int, after: int | None
) -> Page[Any]:
    require(caller, Permission.MEMBERS_READ)
    table = MemberSegment.__table__
    stmt = select(table).where(table.c.tenant_id == caller.tenant_id)
    if after is not None:
        stmt = stmt.where(table.c.id > after)
    rows = (await session.execute(stmt.order_by(table.c.id).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


def _members(caller: Caller, f: SegmentFilter) -> Select[Any]:
    m = Member.__table__
    return select(m).where(and_(m.c.tenant_id == caller.tenant_id, *conditions(f)))


async def count_segment_members(session: AsyncSession, caller: Caller, f: SegmentFilter) -> int:
    """A live count: consent, tags and erasure as they are in this transaction."""
    require(caller, Permission.MEMBERS_READ)
    stmt = select(func.count()).select_from(_members(caller, f).subquery())
    return int((await session.execute(stmt)).scalar_one())


async def list_segment_members(
    session: AsyncSession, caller: Caller, f: SegmentFilter, *, limit: int, after: int | None
) -> Page[Any]:
    """The segment's members by id (keyset)."""
    require(caller, Permission.MEMBERS_READ)
    m = Member.__table__
    stmt = _members(caller, f)
    if after is not None:
        stmt = stmt.where(m.c.id > after)
    rows = (await session.execute(stmt.order_by(m.c.id).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)
