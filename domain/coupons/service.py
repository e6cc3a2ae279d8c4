"""Coupons: issue, redeem exactly once, read.

Redemption is one conditional ``UPDATE … WHERE redeemed_at IS NULL … RETURNING``:
the row lock makes a second till wait for the first and then find the coupon
redeemed, so of any number of concurrent redemptions exactly one succeeds.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, Table, and_, any_, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Coupon, Tenant
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.catalog.lookup import location_row
from domain.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound
from domain.members.service import require_member
from domain.pagination import Page, make_page

T = cast(Table, Coupon.__table__)
# No 0/O, 1/I/L: read aloud at a till. 12 of 31 symbols: about 59 bits.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
MAX_CODE = 40
MAX_STORES = 100


@dataclass(frozen=True, slots=True)
class IssueCoupon:
    valid_from: datetime
    valid_until: datetime
    amount_off: Decimal | None = None
    percent_off: Decimal | None = None
    code: str | None = None
    location_ids: tuple[int, ...] | None = None
    member_id: int | None = None
    rule_id: int | None = None


@dataclass(frozen=True, slots=True)
class RedeemCoupon:
    code: str
    location_id: int
    receipt_number: str | None = None


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str, field: list[str]) -> str:
    code = raw.strip().upper()
    if not 4 <= len(code) <= MAX_CODE or not all(c.isascii() and c.isalnum() for c in code):
        raise InvalidInput(f"a coupon code is 4 to {MAX_CODE} letters and digits", field)
    return code


def _two_decimals(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -2


def check_value(amount_off: Decimal | None, percent_off: Decimal | None) -> None:
    if (amount_off is None) == (percent_off is None):
        raise InvalidInput("give exactly one of amountOff and percentOff", ["amountOff"])
    if amount_off is not None and not (
        Decimal(0) < amount_off < Decimal(1_000_000) and _two_decimals(amount_off)
    ):
        raise InvalidInput("amountOff must be positive, at most 2 decimals", ["amountOff"])
    if percent_off is not None and not (
        Decimal(0) < percent_off <= Decimal(100) and _two_decimals(percent_off)
    ):
        raise InvalidInput("percentOff must be above 0 and at most 100", ["percentOff"])


def _check_value(cmd: IssueCoupon) -> None:
    check_value(cmd.amount_off, cmd.percent_off)
    if cmd.valid_from.tzinfo is None or cmd.valid_until.tzinfo is None:
        raise InvalidInput("validity needs a time zone offset", ["validFrom"])
    if cmd.valid_until <= cmd.valid_from:
        raise InvalidInput("validUntil must be after validFrom", ["validUntil"])


async def issue_coupon(session: AsyncSession, caller: Caller, cmd: IssueCoupon) -> Row[Any]:
    require(caller, Permission.MEMBERS_WRITE)
    return await create_coupon(session, caller, cmd)


async def create_coupon(session: AsyncSession, caller: Caller, cmd: IssueCoupon) -> Row[Any]:
    """``issue_coupon`` without the permission check, for a run its caller was allowed."""
    _check_value(cmd)
    stores: list[int] | None = None
    if cmd.location_ids is not None:
        if not cmd.location_ids or len(cmd.location_ids) > MAX_STORES:
            raise InvalidInput(f"1 to {MAX_STORES} stores, or none for all", ["locationIds"])
        stores = sorted(
            {(await location_row(session, caller, i, ["locationIds"])).id for i in cmd.location_ids}
        )
    if cmd.member_id is not None:
        await require_member(session, caller, cmd.member_id, ["memberId"])
    currency = (
        await session.execute(select(Tenant.currency).where(Tenant.tenant_id == caller.tenant_id))
    ).scalar_one()
    given = normalise_code(cmd.code, ["code"]) if cmd.code is not None else None
    for _ in range(5):
        code = given or new_code()
        row = (
            await session.execute(
                insert(T)
                .values(
                    tenant_id=caller.tenant_id,
                    code=code,
                    amount_off=cmd.amount_off,
                    percent_off=cmd.percent_off,
                    currency=currency,
                    valid_from=cmd.valid_from,
                    valid_until=cmd.valid_until,
                    location_ids=stores,
                    member_id=cmd.member_id,
                    rule_id=cmd.rule_id,
                    issued_by=caller.subject[:100],
                )
                .on_conflict_do_nothing(index_elements=["tenant_id", "code"])
                .returning(T)
            )
        ).first()
        if row is not None:
            return row
        if given is not None:
            raise AlreadyExists("a coupon with this code exists", ["code"])
    raise RuntimeError("could not draw an unused coupon code")  # pragma: no cover


async def redeem_coupon(session: AsyncSession, caller: Caller, cmd: RedeemCoupon) -> Row[Any]:
    """Exactly once: refused when expired, not yet valid, at a store it is not valid at,
    or already redeemed (INVALID_TRANSITION)."""
    location = await location_row(session, caller, cmd.location_id, ["locationId"])
    require(caller, Permission.STOCK_WRITE, location.id, ["locationId"])
    if cmd.receipt_number is not None and not 1 <= len(cmd.receipt_number.strip()) <= 100:
        raise InvalidInput("receiptNumber takes 1 to 100 characters", ["receiptNumber"])
    code = normalise_code(cmd.code, ["code"])
    now = func.now()
    where = [T.c.tenant_id == caller.tenant_id, T.c.code == code]
    row = (
        await session.execute(
            update(T)
            .where(
                *where,
                T.c.redeemed_at.is_(None),
                T.c.valid_from <= now,
                T.c.valid_until > now,
                or_(T.c.location_ids.is_(None), literal(location.id) == any_(T.c.location_ids)),
            )
            .values(
                redeemed_at=now,
                redeemed_location_id=location.id,
                redeemed_receipt=cmd.receipt_number.strip() if cmd.receipt_number else None,
                redeemed_by=caller.subject[:100],
            )
            .returning(T)
        )
    ).first()
    if row is not None:
        return row
    found = (
        await session.execute(
            select(
                T, (now < T.c.valid_from).label("early"), (now >= T.c.valid_until).label("late")
            ).where(and_(*where))
        )
    ).first()
    if found is None:
        raise NotFound("no coupon with this code", ["code"])
    if found.redeemed_at is not None:
        raise InvalidTransition("this coupon has already been redeemed", ["code"])
    if found.early:
        raise InvalidInput("this coupon is not valid yet", ["code"])
    if found.late:
        raise InvalidInput("this coupon has expired", ["code"])
    raise InvalidInput("this coupon is not valid at this store", ["locationId"])


async def coupon_by_code(session: AsyncSession, caller: Caller, code: str) -> Row[Any] | None:
    require(caller, Permission.MEMBERS_READ)
    text_ = code.strip().upper()
    return (
        await session.execute(select(T).where(T.c.tenant_id == caller.tenant_id, T.c.code == text_))
    ).first()


async def list_coupons(
    session: AsyncSession,
    caller: Caller,
    *,
    limit: int,
    after: int | None,
    member_id: int | None = None,
) -> Page[Row[Any]]:
    """Newest first."""
    require(caller, Permission.MEMBERS_READ)
    stmt = select(T).where(T.c.tenant_id == caller.tenant_id)
    if member_id is not None:
        stmt = stmt.where(T.c.member_id == member_id)
    if after is not None:
        stmt = stmt.where(T.c.id < after)
    rows = (await session.execute(stmt.order_by(T.c.id.desc()).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


def audit_issued(row: Row[Any]) -> AuditEntry:
    """The code is a bearer credential: the audit trail keeps the ID, not the code."""
    return AuditEntry(
        action="coupon.issue",
        target_type="Coupon",
        target_id=ids.encode("Coupon", row.id),
        after={
            "amountOff": str(row.amount_off) if row.amount_off is not None else None,
            "percentOff": str(row.percent_off) if row.percent_off is not None else None,
            "validFrom": row.valid_from.isoformat(),
            "validUntil": row.valid_until.isoformat(),
            "stores": [ids.encode("Location", i) for i in row.location_ids]
            if row.location_ids is not None
            else None,
            "member": ids.encode("Member", row.member_id) if row.member_id else None,
            "rule": ids.encode("OfferRule", row.rule_id) if row.rule_id else None,
        },
    )


def audit_redeemed(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        action="coupon.redeem",
        target_type="Coupon",
        target_id=ids.encode("Coupon", row.id),
        after={
            "location": ids.encode("Location", row.redeemed_location_id),
            "receiptNumber": row.redeemed_receipt,
        },
    )
