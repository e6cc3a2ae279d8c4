"""Alerts to the people responsible, through the tenant's notification channels.

The responsible person of a location is its store manager (a STORE_MANAGER
assigned to it), else its regional manager, else the owner. Each person gets
one message listing all their new alerts (batched), on the channel of their
alert contact, never during the tenant's quiet hours (the alerts wait for the
next run after them). An alert is marked notified once its message is queued,
and queued at most once, so retries never repeat a message.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission, Role
from db.models import AlertContact, AlertSettings, ReplenishmentAlert, Staff
from domain.access import require
from domain.errors import DomainError, InvalidInput, NotFound
from domain.notifications import recipients
from domain.notifications import service as notifications
from domain.notifications.records import CHANNELS, EMAIL
from domain.replenishment import history

CONTACTS = cast(Table, AlertContact.__table__)
SETTINGS = cast(Table, AlertSettings.__table__)
ALERTS = cast(Table, ReplenishmentAlert.__table__)
STAFF = cast(Table, Staff.__table__)
MAX_LINES = 50


@dataclass(frozen=True, slots=True)
class SetAlertContact:
    staff_id: int | None
    channel: str
    recipient: str


@dataclass(frozen=True, slots=True)
class SetQuietHours:
    start: str | None  # "HH:MM", tenant time; None with end None: no quiet hours
    end: str | None


def _minutes(value: str, field: str) -> int:
    try:
        hours, minutes = value.split(":")
        h, m = int(hours), int(minutes)
    except ValueError:
        raise InvalidInput(f"{field} must be HH:MM", [field]) from None
    if not (0 <= h < 24 and 0 <= m < 60) or len(value) != 5:
        raise InvalidInput(f"{field} must be HH:MM", [field])
    return h * 60 + m


def quiet(minute_of_day: int, start: int | None, end: int | None) -> bool:
    """Whether a local time (minutes after midnight) is in the quiet hours [start, end)."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= minute_of_day < end
    return minute_of_day >= start or minute_of_day < end  # across midnight


async def set_contact(session: AsyncSession, caller: Caller, cmd: SetAlertContact) -> Row[Any]:
    require(caller, Permission.ADMIN)
    if cmd.channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(sorted(CHANNELS))}", ["channel"])
    recipient = recipients.recipient(cmd.channel, cmd.recipient)
    found = None
    if cmd.staff_id is not None:
        found = (
            await session.execute(
                select(STAFF.c.id).where(
                    STAFF.c.tenant_id == caller.tenant_id, STAFF.c.id == cmd.staff_id
                )
            )
        ).first()
    if found is None:
        raise NotFound("no such staff member", ["staffId"])
    stmt = pg_insert(CONTACTS).values(
        tenant_id=caller.tenant_id,
        staff_id=cmd.staff_id,
        channel=cmd.channel,
        recipient=recipient,
        updated_at=datetime.now(UTC),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "staff_id"],
        set_={
            "channel": stmt.excluded.channel,
            "recipient": stmt.excluded.recipient,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    return (await session.execute(stmt.returning(CONTACTS))).one()


async def set_quiet_hours(session: AsyncSession, caller: Caller, cmd: SetQuietHours) -> Row[Any]:
    require(caller, Permission.ADMIN)
    if (cmd.start is None) != (cmd.end is None):
        raise InvalidInput("give both start and end, or neither", ["end"])
    start = _minutes(cmd.start, "start") if cmd.start is not None else None
    end = _minutes(cmd.end, "end") if cmd.end is not None else None
    stmt = pg_insert(SETTINGS).values(
        tenant_id=caller.tenant_id, quiet_start=start, quiet_end=end, updated_at=datetime.now(UTC)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id"],
        set_={"quiet_start": start, "quiet_end": end, "updated_at": stmt.excluded.updated_at},
    )
    return (await session.execute(stmt.returning(SETTINGS))).one()


_PENDING = text(
    """
    SELECT a.id, a.location_id, a.kind, a.event, a.available, a.suggested_quantity,
           p.sku, p.name_zh, l.code AS location
    FROM replenishment_alerts a
    JOIN products p ON p.tenant_id = a.tenant_id AND p.id = a.product_id
    JOIN locations l ON l.tenant_id = a.tenant_id AND l.id = a.location_id
    WHERE a.tenant_id = :t AND NOT a.notified
    ORDER BY a.location_id, p.sku
    FOR UPDATE OF a
    """
)


def responsible(staff: list[Any], location_id: int) -> list[int]:
    """Store managers of the location, else its regional managers, else the owners."""
    for role, local in (
        (Role.STORE_MANAGER, True),
        (Role.REGIONAL_MANAGER, True),
        (Role.OWNER, False),
    ):
        found = [
            s.id
            for s in staff
            if s.role == role.value and (not local or location_id in (s.location_ids or []))
        ]
        if found:
            return found
    return []


def _line(a: Any) -> str:
    why = {
        "HOLIDAY": f"before {a.event}",
        "LOW_STOCK": "low stock",
        "FORECAST_STOCKOUT": "runs out before delivery",
    }.get(a.kind, a.kind)
    return (
        f"{a.location} {a.sku} {a.name_zh}: {why}, {a.available} available, "
        f"suggest {a.suggested_quantity}"
    )


async def notify_alerts(session: AsyncSession, tenant_id: int, now: datetime) -> dict[str, int]:
    """Queue one message per responsible person for the alerts not yet notified."""
    zone = await history.tenant_zone(session, tenant_id)
    local = now.astimezone(zone)
    settings = (
        await session.execute(select(SETTINGS).where(SETTINGS.c.tenant_id == tenant_id))
    ).first()
    pending = (await session.execute(_PENDING, {"t": tenant_id})).all()
    if not pending:
        return {"messages": 0, "held": 0}
    if settings is not None and quiet(
        local.hour * 60 + local.minute, settings.quiet_start, settings.quiet_end
    ):
        return {"messages": 0, "held": len(pending)}
    staff = (
        await session.execute(
            select(STAFF).where(STAFF.c.tenant_id == tenant_id, STAFF.c.active.is_(True))
        )
    ).all()
    contacts = {
        r.staff_id: r
        for r in await session.execute(select(CONTACTS).where(CONTACTS.c.tenant_id == tenant_id))
    }
    per_person: dict[int, list[Any]] = defaultdict(list)
    for a in pending:
        for person in responsible(list(staff), a.location_id):
            per_person[person].append(a)
    caller = Caller.system(tenant_id)
    sent = 0
    done: set[int] = set()
    for person, alerts in sorted(per_person.items()):
        contact = contacts.get(person)
        if contact is None:
            continue
        lines = [_line(a) for a in alerts[:MAX_LINES]]
        if len(alerts) > MAX_LINES:
            lines.append(f"… and {len(alerts) - MAX_LINES} more")
        try:
            async with session.begin_nested():
                await notifications.queue(
                    session,
                    caller,
                    notifications.NewNotification(
                        channel=contact.channel,
                        recipient=contact.recipient,
                        subject=f"補貨提示 Replenishment: {len(alerts)} SKUs"
                        if contact.channel == EMAIL
                        else None,
                        body="\n".join(lines),
                        template="replenishment.alerts",
                        reference=f"alerts:{local.date().isoformat()}",
                    ),
                )
        except DomainError:
            continue  # channel not configured or disabled: the alerts stay on the workbench
        sent += 1
        done.update(a.id for a in alerts)
    if done:
        await session.execute(
            update(ALERTS)
            .where(ALERTS.c.tenant_id == tenant_id, ALERTS.c.id.in_(sorted(done)))
            .values(notified=True)
        )
    return {"messages": sent, "held": 0}
