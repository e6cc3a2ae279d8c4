"""Closing and reopening periods, and the guard every dated posting passes.

A close covers one location, or every location when it names none, through a
date in the tenant's time zone. A location's period is closed through the
latest such date of the closes not reopened. Only days before today can be
closed, so movements stamped "now" are always in an open period; only
movements given a date of their own (backdated sales, imports) can fall in a
closed one:

- a sale (a till must never lose one) is accepted, keeps its ``occurredAt``,
  and counts on the first open day: its sale row gets ``posted_on``;
- anything else is refused with ``PERIOD_CLOSED``.

A close and a dated posting exclude each other with a tenant-wide advisory
lock (exclusive for the close, shared for the posting), so a movement is
either committed before the close or judged against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission, Role
from db.models import PeriodClose, Tenant
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.catalog.lookup import location_row
from domain.errors import Forbidden, InvalidInput, InvalidTransition, NotFound, PeriodClosed
from domain.pagination import Page, make_page

C = cast(Table, PeriodClose.__table__)
# one advisory lock key space per purpose: (PERIOD_LOCK, tenant)
PERIOD_LOCK = 0x5EC1

_CLOSED_THROUGH = text(
    """
    SELECT k.location_id, max(c.through) AS through
    FROM unnest(CAST(:locations AS bigint[])) AS k(location_id)
    JOIN period_closes c ON c.tenant_id = :tenant AND c.reopened_at IS NULL
      AND (c.location_id = k.location_id OR c.location_id IS NULL)
    GROUP BY k.location_id
    """
)


@dataclass(frozen=True, slots=True)
class ClosePeriod:
    location_id: int | None  # None: every location
    through: date


@dataclass(frozen=True, slots=True)
class ReopenPeriod:
    id: int
    reason: str


@dataclass(frozen=True, slots=True)
class PeriodChange:
    row: Any
    action: str

    def audit(self) -> AuditEntry:
        return AuditEntry(
            action=self.action,
            target_type="Period",
            target_id=ids.encode("Period", self.row.id),
            after={
                "location": ids.encode("Location", self.row.location_id)
                if self.row.location_id is not None
                else None,
                "through": self.row.through.isoformat(),
                "reopened": self.row.reopened_at is not None,
            },
            reason=self.row.reopen_reason,
        )


async def tenant_zone(session: AsyncSession, tenant_id: int) -> ZoneInfo:
    name = (
        await session.execute(select(Tenant.timezone).where(Tenant.tenant_id == tenant_id))
    ).scalar_one()
    return ZoneInfo(name)


async def _lock(session: AsyncSession, tenant_id: int, *, shared: bool) -> None:
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await session.execute(text(f"SELECT {fn}(:k, :t)"), {"k": PERIOD_LOCK, "t": tenant_id})


async def close_period(session: AsyncSession, caller: Caller, cmd: ClosePeriod) -> PeriodChange:
    """Close one location (or all) through a day before today; needs admin."""
    require(caller, Permission.ADMIN, None, ["locationId"])
    if cmd.location_id is not None:
        await location_row(session, caller, cmd.location_id, ["locationId"])
    zone = await tenant_zone(session, caller.tenant_id)
    today = datetime.now(zone).date()
    if cmd.through >= today:
        raise InvalidInput(f"only days before {today.isoformat()} can be closed", ["through"])
    await _lock(session, caller.tenant_id, shared=False)
    row = (
        await session.execute(
            C.insert()
            .values(
                tenant_id=caller.tenant_id,
                location_id=cmd.location_id,
                through=cmd.through,
                closed_at=datetime.now(UTC),
                closed_by=caller.subject,
            )
            .returning(*C.c)
        )
    ).one()
    return PeriodChange(row, "period.close")


async def reopen_period(session: AsyncSession, caller: Caller, cmd: ReopenPeriod) -> PeriodChange:
    """Undo one close; only the owner, in person (a staff token), and with a reason."""
    if caller.role is not Role.OWNER:
        raise Forbidden("only the owner can reopen a period", ["id"])
    reason = cmd.reason.strip()
    if not reason or len(reason) > 1000:
        raise InvalidInput("reason must be 1 to 1000 characters", ["reason"])
    await _lock(session, caller.tenant_id, shared=False)
    row = (
        await session.execute(
            select(C).where(C.c.tenant_id == caller.tenant_id, C.c.id == cmd.id).with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("no such period close", ["id"])
    if row.reopened_at is not None:
        raise InvalidTransition("this close was already reopened", ["id"])
    row = (
        await session.execute(
            update(C)
            .where(C.c.tenant_id == caller.tenant_id, C.c.id == cmd.id)
            .values(reopened_at=datetime.now(UTC), reopened_by=caller.subject, reopen_reason=reason)
            .returning(*C.c)
        )
    ).one()
    return PeriodChange(row, "period.reopen")


async def list_periods(
    session: AsyncSession, caller: Caller, *, limit: int, after: int | None
) -> Page[Any]:
    """Closes, newest first (keyset on id)."""
    stmt = select(C).where(C.c.tenant_id == caller.tenant_id)
    if after is not None:
        stmt = stmt.where(C.c.id < after)
    rows = (await session.execute(stmt.order_by(C.c.id.desc()).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


async def closed_through(
    session: AsyncSession, tenant_id: int, location_ids: Sequence[int]
) -> dict[int, date]:
    """Per location, the last closed day (locations with none are absent)."""
    rows = await session.execute(
        _CLOSED_THROUGH, {"tenant": tenant_id, "locations": sorted(set(location_ids))}
    )
    return {r.location_id: r.through for r in rows}


@dataclass(frozen=True, slots=True)
class Dated:
    """What the guard needs of a posting line."""

    location_id: int
    occurred_at: datetime
    is_sale: bool
    sale_id: int | None
    field: tuple[str, ...]


async def guard(session: AsyncSession, tenant_id: int, lines: Sequence[Dated]) -> None:
    """Refuse lines dated in a closed period; move late sales to the first open day."""
    if not lines:
        return
    await _lock(session, tenant_id, shared=True)
    closed = await closed_through(session, tenant_id, [ln.location_id for ln in lines])
    if not closed:
        return
    zone = await tenant_zone(session, tenant_id)
    late: dict[int, date] = {}
    for ln in lines:
        through = closed.get(ln.location_id)
        if through is None or ln.occurred_at.astimezone(zone).date() > through:
            continue
        if not ln.is_sale:
            raise PeriodClosed(
                f"the period is closed through {through.isoformat()} at this location",
                [*ln.field, "occurredAt"] if ln.field else ["occurredAt"],
            )
        if ln.sale_id is not None:
            late[ln.sale_id] = through + timedelta(days=1)
    for sale_id, day in late.items():
        await session.execute(
            text("UPDATE sales SET posted_on = :day WHERE tenant_id = :t AND id = :id"),
            {"day": day, "t": tenant_id, "id": sale_id},
        )


async def guard_postings(session: AsyncSession, tenant_id: int, postings: Sequence[Any]) -> None:
    """``guard`` over the ledger's postings that carry a date of their own."""
    await guard(
        session,
        tenant_id,
        [
            Dated(p.location_id, p.occurred_at, p.kind == "SALE", p.sale_id, p.field)
            for p in postings
            if p.occurred_at is not None
        ],
    )
