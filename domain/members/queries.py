"""Reading members: lists and search, personal data (masked or audited), purchases, export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import AuditEvent, Member, MemberConsent, Sale, StockMovement
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry, append
from domain.errors import Forbidden, InvalidInput, NotFound
from domain.members import crypto, keys, pii
from domain.members.consent import current_state
from domain.members.service import PII_FIELDS, TABLE, default_country
from domain.members.tags import has_tag
from domain.pagination import Page, make_page


@dataclass(frozen=True, slots=True)
class PersonalData:
    """A member's phone, email and birthday as this caller may see them."""

    phone: str | None
    email: str | None
    birthday: str | None
    masked: bool

    def to_json(self) -> dict[str, str | None]:
        return {"phone": self.phone, "email": self.email, "birthday": self.birthday}


ERASED = PersonalData(None, None, None, masked=False)


def _masked(values: dict[str, str | None]) -> PersonalData:
    return PersonalData(
        phone=pii.mask_phone(values["phone"]),
        email=pii.mask_email(values["email"]),
        birthday=pii.mask_birthday(values["birthday"]),
        masked=True,
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _filtered(
    session: AsyncSession, caller: Caller, master: bytes, search: str | None, tag: str | None
) -> Select[Any] | None:
    """The members matching the filter; None when nothing can match."""
    table = Member.__table__
    stmt = select(table).where(table.c.tenant_id == caller.tenant_id)
    if tag is not None:
        stmt = stmt.where(has_tag(tag.strip()))  # hand-set or computed
    text_ = (search or "").strip()
    if not text_:
        return stmt
    if len(text_) > 200:
        raise InvalidInput("search must be at most 200 characters", ["search"])
    if pii.looks_like_phone(text_):
        # A phone search answers "is this number a member?": that is personal data.
        if not caller.has(Permission.MEMBERS_PII):
            raise Forbidden("searching by phone needs members:pii", ["search"])
        await append(session, caller, AuditEntry("member.search_by_phone", "Member"))
        try:
            country = await default_country(session, caller)
            phone = pii.normalise_phone(text_, country, field="search")
        except InvalidInput:
            return None
        tkeys = await keys.tenant_keys(session, caller.tenant_id, master)
        if tkeys is None:
            return None
        return stmt.where(table.c.phone_index == tkeys.phone_index(phone))
    return stmt.where(
        or_(
            table.c.member_number == text_.upper(),
            table.c.name.ilike("%" + _escape_like(text_) + "%", escape="\\"),
        )
    )


async def list_members(
    session: AsyncSession,
    caller: Caller,
    master: bytes,
    *,
    limit: int,
    after: int | None,
    search: str | None = None,
    tag: str | None = None,
) -> Page[Any]:
    require(caller, Permission.MEMBERS_READ)
    stmt = await _filtered(session, caller, master, search, tag)
    if stmt is None:
        return make_page([], limit, after is not None)
    table = Member.__table__
    if after is not None:
        stmt = stmt.where(table.c.id > after)
    rows = (await session.execute(stmt.order_by(table.c.id).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


async def count_members(
    session: AsyncSession, caller: Caller, master: bytes, search: str | None, tag: str | None
) -> int:
    stmt = await _filtered(session, caller, master, search, tag)
    if stmt is None:
        return 0
    return int(
        (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    )


async def _decrypted(
    session: AsyncSession, caller: Caller, master: bytes, rows: Sequence[Any]
) -> dict[int, dict[str, str | None] | None]:
    """Plain values per member; None for an erased member (its key is gone)."""
    tkeys = await keys.tenant_keys(session, caller.tenant_id, master)
    if tkeys is None:
        return {r.id: None for r in rows}
    member_keys = await keys.member_keys(session, tkeys, [r.id for r in rows])
    out: dict[int, dict[str, str | None] | None] = {}
    for r in rows:
        key = member_keys.get(r.id)
        if key is None:
            out[r.id] = None
            continue
        out[r.id] = {
            column: crypto.decrypt_field(key, blob, caller.tenant_id, TABLE, column, r.id)
            if (blob := getattr(r, column)) is not None
            else None
            for column in PII_FIELDS
        }
    return out


async def read_personal_data(
    session: AsyncSession,
    caller: Caller,
    master: bytes,
    member_ids: Sequence[int],
    *,
    request_id: str | None = None,
) -> dict[int, PersonalData]:
    """Masked without members:pii; otherwise in clear, with one ``member.pii_read`` audit
    event per member whose data is returned (in this transaction)."""
    require(caller, Permission.MEMBERS_READ)
    table = Member.__table__
    rows = (
        await session.execute(
            select(table).where(
                table.c.tenant_id == caller.tenant_id, table.c.id.in_(list(member_ids))
            )
        )
    ).all()
    plain = await _decrypted(session, caller, master, rows)
    out: dict[int, PersonalData] = {}
    for member_id in sorted(plain):
        values = plain[member_id]
        if values is None:
            out[member_id] = ERASED
        elif not caller.has(Permission.MEMBERS_PII):
            out[member_id] = _masked(values)
        else:
            out[member_id] = PersonalData(**values, masked=False)
            shown = [f for f in PII_FIELDS if values[f] is not None]
            if shown:
                await append(
                    session,
                    caller,
                    AuditEntry(
                        action="member.pii_read",
                        target_type="Member",
                        target_id=ids.encode("Member", member_id),
                        after={"fields": shown},
                    ),
                    request_id=request_id,
                )
    return out


async def member_purchases(
    session: AsyncSession, caller: Caller, member_id: int, *, limit: int, after: int | None
) -> Page[Any]:
    """The member's sales, newest first."""
    require(caller, Permission.MEMBERS_READ)
    table = Sale.__table__
    stmt = select(table).where(
        table.c.tenant_id == caller.tenant_id, table.c.member_id == member_id
    )
    if after is not None:
        stmt = stmt.where(table.c.id < after)
    rows = (await session.execute(stmt.order_by(table.c.id.desc()).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_member(
    session: AsyncSession,
    caller: Caller,
    master: bytes,
    member_id: int,
    *,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Everything held about a member, in clear (members:pii), audited as member.export."""
    require(caller, Permission.MEMBERS_READ)
    require(caller, Permission.MEMBERS_PII)
    t = caller.tenant_id
    members, consents, sales = Member.__table__, MemberConsent.__table__, Sale.__table__
    movements, audit = StockMovement.__table__, AuditEvent.__table__
    row = (
        await session.execute(
            select(members).where(members.c.tenant_id == t, members.c.id == member_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such member", ["id"])
    gid = ids.encode("Member", member_id)
    plain = (await _decrypted(session, caller, master, [row]))[member_id]
    ledger = (
        await session.execute(
            select(consents)
            .where(consents.c.tenant_id == t, consents.c.member_id == member_id)
            .order_by(consents.c.id)
        )
    ).all()
    sale_rows = (
        await session.execute(
            select(sales)
            .where(sales.c.tenant_id == t, sales.c.member_id == member_id)
            .order_by(sales.c.id)
        )
    ).all()
    line_rows = (
        await session.execute(
            select(movements)
            .where(movements.c.tenant_id == t, movements.c.sale_id.in_([s.id for s in sale_rows]))
            .order_by(movements.c.id)
        )
    ).all()
    events = (
        await session.execute(
            select(audit.c.sequence, audit.c.occurred_at, audit.c.action, audit.c.actor)
            .where(audit.c.tenant_id == t, audit.c.target_id == gid)
            .order_by(audit.c.sequence)
        )
    ).all()
    document = {
        "exportedAt": datetime.now(UTC).isoformat(),
        "member": {
            "id": gid,
            "memberNumber": row.member_number,
            "name": row.name,
            **(plain or {"phone": None, "email": None, "birthday": None}),
            "homeLocation": ids.encode("Location", row.home_location_id)
            if row.home_location_id is not None
            else None,
            "tier": row.tier,
            "tags": list(row.tags),
            "createdBy": row.created_by,
            "createdAt": _iso(row.created_at),
            "updatedAt": _iso(row.updated_at),
            "erasedAt": _iso(row.erased_at),
        },
        "consents": {
            "current": [
                {"channel": s.channel.value, "granted": s.granted} for s in current_state(ledger)
            ],
            "ledger": [
                {
                    "channel": c.channel,
                    "granted": c.granted,
                    "wordingVersion": c.wording_version,
                    "recordedAt": _iso(c.recorded_at),
                    "actor": c.actor,
                    "clientId": c.client_id,
                    "staffId": c.staff_id,
                }
                for c in ledger
            ],
        },
        "purchases": [
            {
                "id": ids.encode("Sale", s.id),
                "receiptNumber": s.receipt_number,
                "location": ids.encode("Location", s.location_id),
                "occurredAt": _iso(s.occurred_at),
                "currency": s.currency,
                "total": str(s.total),
                "lines": [
                    {
                        "product": ids.encode("Product", m.product_id),
                        "quantity": -m.delta,
                        "unitPrice": str(m.unit_price) if m.unit_price is not None else None,
                    }
                    for m in line_rows
                    if m.sale_id == s.id
                ],
            }
            for s in sale_rows
        ],
        "auditEvents": [
            {
                "sequence": e.sequence,
                "occurredAt": _iso(e.occurred_at),
                "action": e.action,
                "actor": e.actor,
            }
            for e in events
        ],
    }
    await append(
        session,
        caller,
        AuditEntry(action="member.export", target_type="Member", target_id=gid),
        request_id=request_id,
    )
    return document
