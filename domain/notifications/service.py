"""The notification outbox: queue (the one way in), the delivery log, a test message.

``queue`` runs in the caller's transaction, so a notification exists exactly
when whatever caused it committed; the sender picks it up afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Notification, NotificationChannel
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.errors import Forbidden, InvalidInput
from domain.members.consent import Channel, consenting
from domain.notifications import recipients
from domain.notifications.records import CHANNELS, EMAIL, PENDING, STATUSES
from domain.pagination import Page, make_page

N = cast(Table, Notification.__table__)
C = cast(Table, NotificationChannel.__table__)
MAX_BODY = 10_000
MAX_SUBJECT = 500
MAX_LABEL = 200
TEST_TEMPLATE = "test"


@dataclass(frozen=True, slots=True)
class NewNotification:
    """What to send. ``member_id`` names the member it is for (if any); a caller that
    sets it must have checked the member's consent for this channel first and say so
    with ``consent_checked``."""

    channel: str
    recipient: str
    body: str
    subject: str | None = None
    template: str | None = None
    reference: str | None = None
    member_id: int | None = None
    consent_checked: bool = False


@dataclass(frozen=True, slots=True)
class ListNotifications:
    limit: int
    after: int | None = None
    status: str | None = None
    channel: str | None = None


def _check_text(value: str | None, limit: int, field: str, required: bool = False) -> None:
    if value is None:
        if required:
            raise InvalidInput(f"{field} is required", [field])
        return
    if (required and not value.strip()) or len(value) > limit:
        raise InvalidInput(f"{field} takes 1 to {limit} characters", [field])


async def queue(session: AsyncSession, caller: Caller, new: NewNotification) -> Row[Any]:
    """Put one notification in the outbox, due now; INVALID unless it can be sent."""
    if new.channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {new.channel!r}", ["channel"])
    enabled = (
        await session.execute(
            select(C.c.enabled).where(C.c.tenant_id == caller.tenant_id, C.c.channel == new.channel)
        )
    ).scalar_one_or_none()
    if not enabled:
        state = "disabled" if enabled is False else "not configured"
        raise InvalidInput(f"the {new.channel} channel is {state}", ["channel"])
    recipient = recipients.recipient(new.channel, new.recipient)
    _check_text(new.body, MAX_BODY, "body", required=True)
    _check_text(new.subject, MAX_SUBJECT, "subject")
    if new.channel == EMAIL and not (new.subject or "").strip():
        raise InvalidInput("an email needs a subject", ["subject"])
    if new.subject is not None and ("\n" in new.subject or "\r" in new.subject):
        raise InvalidInput("subject must be one line", ["subject"])
    _check_text(new.template, MAX_LABEL, "template")
    _check_text(new.reference, MAX_LABEL, "reference")
    if new.member_id is not None:
        # Checked here, whatever the caller says: no consent (or no such member), no message.
        allowed = await consenting(session, caller.tenant_id, Channel(new.channel), [new.member_id])
        if new.member_id not in allowed:
            raise Forbidden(f"the member has not consented to {new.channel} messages", ["memberId"])
    stmt = (
        insert(N)
        .values(
            tenant_id=caller.tenant_id,
            channel=new.channel,
            recipient=recipient,
            subject=new.subject,
            body=new.body,
            template=new.template,
            reference=new.reference,
            member_id=new.member_id,
            consent_checked=new.consent_checked,
            requested_by=caller.subject[:100],
            status=PENDING,
            attempts=0,
            next_attempt_at=func.now(),
        )
        .returning(N)
    )
    return (await session.execute(stmt)).one()


async def send_test(session: AsyncSession, caller: Caller, new: NewNotification) -> Row[Any]:
    """An admin's test message through a configured channel."""
    require(caller, Permission.ADMIN)
    return await queue(session, caller, new)


def _filter(caller: Caller, cmd: ListNotifications) -> list[Any]:
    if cmd.status is not None and cmd.status not in STATUSES:
        raise InvalidInput(f"unknown status {cmd.status!r}", ["status"])
    if cmd.channel is not None and cmd.channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {cmd.channel!r}", ["channel"])
    conditions: list[Any] = [N.c.tenant_id == caller.tenant_id]
    if cmd.status is not None:
        conditions.append(N.c.status == cmd.status)
    if cmd.channel is not None:
        conditions.append(N.c.channel == cmd.channel)
    return conditions


async def list_notifications(
    session: AsyncSession, caller: Caller, cmd: ListNotifications
) -> Page[Row[Any]]:
    """The delivery log, newest first (admin only; recipients are personal data)."""
    require(caller, Permission.ADMIN)
    stmt = select(N).where(*_filter(caller, cmd))
    if cmd.after is not None:
        stmt = stmt.where(N.c.id < cmd.after)
    rows = (await session.execute(stmt.order_by(N.c.id.desc()).limit(cmd.limit + 1))).all()
    return make_page(rows, cmd.limit, cmd.after is not None)


async def count_notifications(session: AsyncSession, caller: Caller, cmd: ListNotifications) -> int:
    stmt = select(func.count()).select_from(N).where(*_filter(caller, cmd))
    return int((await session.execute(stmt)).scalar_one())


def audit_test(row: Row[Any]) -> AuditEntry:
    """The recipient stays out of the (unerasable) audit trail; the log row has it."""
    return AuditEntry(
        action="notification.test",
        target_type="Notification",
        target_id=ids.encode("Notification", row.id),
        after={"channel": row.channel, "template": row.template},
    )


_FORGET = text(
    """
    UPDATE notifications
    SET recipient = '', subject = NULL, body = '', last_error = NULL,
        status = CASE WHEN status = 'PENDING' THEN 'DEAD' ELSE status END
    WHERE tenant_id = :tenant AND member_id = :member
    RETURNING id
    """
)
_FORGET_ATTEMPTS = text(
    """
    UPDATE notification_attempts SET error = NULL
    WHERE tenant_id = :tenant AND notification_id = ANY(:ids)
    """
)


async def forget_member(session: AsyncSession, tenant_id: int, member_id: int) -> int:
    """Erasure: a member's messages lose their address and text, and pending ones never go."""
    ids = list(
        (await session.execute(_FORGET, {"tenant": tenant_id, "member": member_id})).scalars()
    )
    if ids:
        await session.execute(_FORGET_ATTEMPTS, {"tenant": tenant_id, "ids": ids})
    return len(ids)
