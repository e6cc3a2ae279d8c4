"""Creating, changing and erasing members; the consent ledger. Personal data is sealed
before it reaches SQL and never enters the audit trail (member IDs only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Member, Tenant
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.catalog.lookup import location_row
from domain.errors import InvalidInput, InvalidTransition, NotFound
from domain.members import crypto, keys, pii
from domain.members.consent import Channel
from domain.notifications import service as notifications

TABLE = "members"
PII_FIELDS = ("phone", "email", "birthday")
MAX_TAGS = 50
DEFAULT_TIER = "STANDARD"


@dataclass(frozen=True, slots=True)
class ConsentChoice:
    channel: Channel
    granted: bool
    wording_version: str | None = None


@dataclass(frozen=True, slots=True)
class CreateMember:
    name: str
    phone: str | None = None
    email: str | None = None
    birthday: str | None = None
    home_location_id: int | None = None
    tier: str | None = None
    tags: tuple[str, ...] = ()
    consents: tuple[ConsentChoice, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateMember:
    """``given`` names the fields to change; a given field set to None is cleared."""

    member_id: int
    given: frozenset[str]
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    birthday: str | None = None
    home_location_id: int | None = None
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class SetMemberTags:
    member_id: int
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetMemberConsent:
    member_id: int
    channel: Channel
    granted: bool
    wording_version: str | None = None


@dataclass(frozen=True, slots=True)
class EraseMember:
    member_id: int


@dataclass(frozen=True, slots=True)
class MemberChange:
    """A changed member row and what the audit trail may say about it (no PII)."""

    row: Any
    action: str
    after: dict[str, Any] = field(default_factory=dict)

    def audit(self) -> AuditEntry:
        return AuditEntry(
            action=self.action,
            target_type="Member",
            target_id=ids.encode("Member", self.row.id),
            after=self.after,
        )


def _printable(text_: str) -> bool:
    return not any(ord(ch) < 32 or ord(ch) == 127 for ch in text_)


def _name(value: str | None) -> str:
    text_ = (value or "").strip()
    if not 1 <= len(text_) <= 200 or not _printable(text_):
        raise InvalidInput("name must be 1 to 200 printable characters", ["name"])
    return text_


def _tier(value: str | None) -> str:
    text_ = (value or DEFAULT_TIER).strip().upper()
    if not 1 <= len(text_) <= 32:
        raise InvalidInput("tier must be 1 to 32 characters", ["tier"])
    return text_


def _tags(values: tuple[str, ...], path: list[str]) -> list[str]:
    out: list[str] = []
    for i, raw in enumerate(values):
        tag = raw.strip()
        if not 1 <= len(tag) <= 64 or not _printable(tag):
            raise InvalidInput("a tag must be 1 to 64 printable characters", [*path, str(i)])
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags", path)
    return out


def _wording(value: str | None, path: list[str]) -> str | None:
    if value is not None and not 1 <= len(value.strip()) <= 64:
        raise InvalidInput("wordingVersion must be 1 to 64 characters", path)
    return value.strip() if value is not None else None


async def default_country(session: AsyncSession, caller: Caller) -> str:
    tz = (
        await session.execute(select(Tenant.timezone).where(Tenant.tenant_id == caller.tenant_id))
    ).scalar_one()
    return pii.COUNTRY_CODES["MO"] if tz == "Asia/Macau" else pii.COUNTRY_CODES["HK"]


async def _locked(session: AsyncSession, caller: Caller, member_id: int) -> Any:
    """The member's row, locked; an erased member can no longer be changed."""
    table = Member.__table__
    row = (
        await session.execute(
            select(table)
            .where(table.c.tenant_id == caller.tenant_id, table.c.id == member_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("no such member", ["id"])
    if row.erased_at is not None:
        raise InvalidTransition("this member has been erased", ["id"])
    return row


def _sealed(
    member_key: bytes, tenant_id: int, member_id: int, column: str, value: str | None
) -> bytes | None:
    if value is None:
        return None
    return crypto.encrypt_field(member_key, value, tenant_id, TABLE, column, member_id)


async def _normalised(
    session: AsyncSession, caller: Caller, phone: str | None, email: str | None, bday: str | None
) -> tuple[str | None, str | None, str | None]:
    country = await default_country(session, caller) if phone is not None else "852"
    return (
        pii.normalise_phone(phone, country) if phone is not None else None,
        pii.normalise_email(email) if email is not None else None,
        pii.normalise_birthday(bday) if bday is not None else None,
    )


_NEXT_ID = text("SELECT nextval(pg_get_serial_sequence('members', 'id'))")

_INSERT_CONSENT = text(
    """
    INSERT INTO member_consents (tenant_id, member_id, channel, granted, wording_version,
                                 actor, staff_id, client_id, request_id)
    VALUES (:tenant, :member, :channel, :granted, :wording, :actor, :staff, :client, :request)
    """
)


async def _append_consent(
    session: AsyncSession,
    caller: Caller,
    member_id: int,
    choice: ConsentChoice,
    request_id: str | None,
) -> None:
    await session.execute(
        _INSERT_CONSENT,
        {
            "tenant": caller.tenant_id,
            "member": member_id,
            "channel": choice.channel.value,
            "granted": choice.granted,
            "wording": choice.wording_version,
            "actor": caller.subject,
            "staff": caller.staff_id,
            "client": caller.client_id,
            "request": request_id,
        },
    )


def _consent_json(choice: ConsentChoice) -> dict[str, Any]:
    return {
        "channel": choice.channel.value,
        "granted": choice.granted,
        "wordingVersion": choice.wording_version,
    }


async def _row(session: AsyncSession, caller: Caller, member_id: int) -> Any:
    table = Member.__table__
    return (
        await session.execute(
            select(table).where(table.c.tenant_id == caller.tenant_id, table.c.id == member_id)
        )
    ).one()


async def create_member(
    session: AsyncSession,
    caller: Caller,
    master: bytes,
    cmd: CreateMember,
    *,
    request_id: str | None = None,
) -> MemberChange:
    require(caller, Permission.MEMBERS_WRITE)
    name = _name(cmd.name)
    tier = _tier(cmd.tier)
    tags = _tags(cmd.tags, ["tags"])
    home = None
    if cmd.home_location_id is not None:
        home = (await location_row(session, caller, cmd.home_location_id, ["homeLocationId"])).id
    phone, email, birthday = await _normalised(session, caller, cmd.phone, cmd.email, cmd.birthday)
    choices = [
        ConsentChoice(c.channel, c.granted, _wording(c.wording_version, ["consents", str(i)]))
        for i, c in enumerate(cmd.consents)
    ]
    if len({c.channel for c in choices}) != len(choices):
        raise InvalidInput("one consent per channel", ["consents"])
    tkeys = await keys.tenant_keys(session, caller.tenant_id, master, create=True)
    assert tkeys is not None
    member_id = int((await session.execute(_NEXT_ID)).scalar_one())
    member_key = crypto.new_key()
    t = caller.tenant_id
    await session.execute(
        insert(Member).values(
            tenant_id=t,
            id=member_id,
            member_number=f"M{member_id:08d}",
            name=name,
            phone=_sealed(member_key, t, member_id, "phone", phone),
            email=_sealed(member_key, t, member_id, "email", email),
            birthday=_sealed(member_key, t, member_id, "birthday", birthday),
            phone_index=tkeys.phone_index(phone) if phone is not None else None,
            home_location_id=home,
            tier=tier,
            tags=tags,
            created_by=caller.subject,
            created_by_staff_id=caller.staff_id,
            created_by_client_id=caller.client_id,
        )
    )
    await keys.store_member_key(session, tkeys, member_id, member_key)
    for choice in choices:
        await _append_consent(session, caller, member_id, choice, request_id)
    row = await _row(session, caller, member_id)
    return MemberChange(
        row=row,
        action="member.create",
        after={
            "memberNumber": row.member_number,
            "homeLocation": ids.encode("Location", home) if home is not None else None,
            "tier": tier,
            "personalFields": [
                f for f, v in zip(PII_FIELDS, (phone, email, birthday), strict=True) if v
            ],
            "tagCount": len(tags),
            "consents": [_consent_json(c) for c in choices],
        },
    )


async def update_member(
    session: AsyncSession, caller: Caller, master: bytes, cmd: UpdateMember
) -> MemberChange:
    require(caller, Permission.MEMBERS_WRITE)
    if not cmd.given:
        raise InvalidInput("give at least one field to change", ["input"])
    row = await _locked(session, caller, cmd.member_id)
    values: dict[str, Any] = {}
    if "name" in cmd.given:
        values["name"] = _name(cmd.name)
    if "tier" in cmd.given:
        values["tier"] = _tier(cmd.tier)
    if "home_location_id" in cmd.given:
        values["home_location_id"] = (
            (await location_row(session, caller, cmd.home_location_id, ["homeLocationId"])).id
            if cmd.home_location_id is not None
            else None
        )
    given = [f for f in PII_FIELDS if f in cmd.given]
    if given:
        phone, email, birthday = await _normalised(
            session,
            caller,
            cmd.phone if "phone" in cmd.given else None,
            cmd.email if "email" in cmd.given else None,
            cmd.birthday if "birthday" in cmd.given else None,
        )
        tkeys = await keys.tenant_keys(session, caller.tenant_id, master, create=True)
        assert tkeys is not None
        member_key = (await keys.member_keys(session, tkeys, [row.id]))[row.id]
        plain = {"phone": phone, "email": email, "birthday": birthday}
        for f in given:
            values[f] = _sealed(member_key, caller.tenant_id, row.id, f, plain[f])
        if "phone" in given:
            values["phone_index"] = tkeys.phone_index(phone) if phone is not None else None
    changed = sorted(
        {"home_location_id": "homeLocation"}.get(k, k) for k in values if k != "phone_index"
    )
    if values:
        table = Member.__table__
        await session.execute(
            update(Member)
            .where(table.c.tenant_id == caller.tenant_id, table.c.id == row.id)
            .values(**values, updated_at=text("now()"))
        )
    return MemberChange(
        row=await _row(session, caller, row.id),
        action="member.update",
        after={"changed": changed},
    )


async def set_member_tags(
    session: AsyncSession, caller: Caller, cmd: SetMemberTags
) -> MemberChange:
    require(caller, Permission.MEMBERS_WRITE)
    row = await _locked(session, caller, cmd.member_id)
    tags = _tags(cmd.tags, ["tags"])
    table = Member.__table__
    await session.execute(
        update(Member)
        .where(table.c.tenant_id == caller.tenant_id, table.c.id == row.id)
        .values(tags=tags, updated_at=text("now()"))
    )
    return MemberChange(
        row=await _row(session, caller, row.id),
        action="member.set_tags",
        after={"tagCount": len(tags)},
    )


async def set_member_consent(
    session: AsyncSession, caller: Caller, cmd: SetMemberConsent, *, request_id: str | None = None
) -> MemberChange:
    """Appends to the ledger. The member row is locked first, so ledger order is commit
    order: the latest row per channel is the state every reader sees after commit."""
    require(caller, Permission.MEMBERS_WRITE)
    row = await _locked(session, caller, cmd.member_id)
    choice = ConsentChoice(
        cmd.channel, cmd.granted, _wording(cmd.wording_version, ["wordingVersion"])
    )
    await _append_consent(session, caller, row.id, choice, request_id)
    return MemberChange(row=row, action="member.set_consent", after=_consent_json(choice))


async def erase_member(session: AsyncSession, caller: Caller, cmd: EraseMember) -> MemberChange:
    """Crypto-shredding: the member's key goes, so their sealed data never opens again;
    the name, tags and blind index are cleared. Sales, stock and the audit chain stay."""
    require(caller, Permission.MEMBERS_WRITE)
    require(caller, Permission.ADMIN)
    row = await _locked(session, caller, cmd.member_id)
    await keys.destroy_member_key(session, caller.tenant_id, row.id)
    # Their messages kept an address and a text in clear: gone too, and none still goes out.
    await notifications.forget_member(session, caller.tenant_id, row.id)
    await session.execute(  # tags computed from their purchases go with the hand-set ones
        text("DELETE FROM member_computed_tags WHERE tenant_id = :t AND member_id = :m"),
        {"t": caller.tenant_id, "m": row.id},
    )
    table = Member.__table__
    await session.execute(
        update(Member)
        .where(table.c.tenant_id == caller.tenant_id, table.c.id == row.id)
        .values(
            name="",
            tags=[],
            phone_index=None,
            erased_at=text("now()"),
            updated_at=text("now()"),
        )
    )
    return MemberChange(
        row=await _row(session, caller, row.id), action="member.erase", after={"erased": True}
    )


async def require_member(
    session: AsyncSession, caller: Caller, member_id: int, field: list[str]
) -> None:
    """A live member of the caller's tenant (sales link to it), else NOT_FOUND."""
    table = Member.__table__
    found = (
        await session.execute(
            select(table.c.id).where(
                table.c.tenant_id == caller.tenant_id,
                table.c.id == member_id,
                table.c.erased_at.is_(None),
            )
        )
    ).first()
    if found is None:
        raise NotFound("no such member", field)
