"""Cycle-count schedules: per location, "every SKU (of a category) counted every N days".

A SKU is due when it has no posted count at the location within its rule's
interval. ``counts_due`` is what the workbench shows; starting a CYCLE count
with the same category and ``notCountedForDays = interval`` counts exactly it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import CycleCountSchedule
from domain.access import require
from domain.catalog.lookup import location_row
from domain.errors import InvalidInput
from domain.stocktakes.selection import last_counted, products_in_scope

C = CycleCountSchedule.__table__
MAX_RULES = 50
MAX_INTERVAL = 366
SHOWN_SKUS = 50


@dataclass(frozen=True, slots=True)
class ScheduleRule:
    category: str | None
    interval_days: int


@dataclass(frozen=True, slots=True)
class SetCycleCountSchedule:
    location_id: int | None
    rules: tuple[ScheduleRule, ...]


@dataclass(frozen=True, slots=True)
class CountDue:
    rule_id: int
    category: str | None
    interval_days: int
    due_count: int
    due_product_ids: list[int]
    next_due_at: datetime | None


async def schedule_rules(session: AsyncSession, caller: Caller, location_id: int) -> list[Row[Any]]:
    stmt = (
        select(C)
        .where(C.c.tenant_id == caller.tenant_id, C.c.location_id == location_id)
        .order_by(C.c.category.nulls_first(), C.c.id)
    )
    return list((await session.execute(stmt)).all())


async def set_schedule(
    session: AsyncSession, caller: Caller, cmd: SetCycleCountSchedule
) -> tuple[int, list[Row[Any]], list[Row[Any]]]:
    """Replace the location's rules; returns (location id, rules before, rules after)."""
    location = await location_row(session, caller, cmd.location_id, ["locationId"])
    require(caller, Permission.STOCK_WRITE, location.id, ["locationId"])
    if len(cmd.rules) > MAX_RULES:
        raise InvalidInput(f"at most {MAX_RULES} rules", ["rules"])
    seen: set[str | None] = set()
    for i, rule in enumerate(cmd.rules):
        if not 1 <= rule.interval_days <= MAX_INTERVAL:
            raise InvalidInput(
                f"intervalDays must be 1 to {MAX_INTERVAL}", ["rules", str(i), "intervalDays"]
            )
        if rule.category is not None and not 0 < len(rule.category) <= 100:
            raise InvalidInput(
                "category must be 1 to 100 characters", ["rules", str(i), "category"]
            )
        if rule.category in seen:
            raise InvalidInput("one rule per category", ["rules", str(i), "category"])
        seen.add(rule.category)
    # Serialise replacements of one location's rules (delete + insert is not atomic).
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"cycle-count-schedule:{caller.tenant_id}:{location.id}"},
    )
    before = await schedule_rules(session, caller, location.id)
    await session.execute(
        delete(CycleCountSchedule).where(
            C.c.tenant_id == caller.tenant_id, C.c.location_id == location.id
        )
    )
    if cmd.rules:
        await session.execute(
            insert(CycleCountSchedule),
            [
                {
                    "tenant_id": caller.tenant_id,
                    "location_id": location.id,
                    "category": rule.category,
                    "interval_days": rule.interval_days,
                    "updated_by": caller.subject,
                }
                for rule in cmd.rules
            ],
        )
    return location.id, before, await schedule_rules(session, caller, location.id)


async def counts_due(
    session: AsyncSession, caller: Caller, location_id: int, *, now: datetime | None = None
) -> list[CountDue]:
    """Per rule: the SKUs due now, and when the next one falls due if none is."""
    now = now or datetime.now(UTC)
    out = []
    for rule in await schedule_rules(session, caller, location_id):
        due = products_in_scope(
            caller.tenant_id,
            location_id,
            category=rule.category,
            not_counted_days=rule.interval_days,
            now=now,
        ).subquery()
        count = (await session.execute(select(func.count()).select_from(due))).scalar_one()
        shown = list(
            (await session.execute(select(due.c.id).order_by(due.c.id).limit(SHOWN_SKUS))).scalars()
        )
        next_due = None
        if count == 0:
            scope = products_in_scope(
                caller.tenant_id, location_id, category=rule.category, now=now
            ).subquery()
            last = last_counted(caller.tenant_id, location_id).subquery()
            oldest = (
                await session.execute(
                    select(func.min(last.c.last_counted_at)).select_from(
                        scope.join(last, last.c.product_id == scope.c.id)
                    )
                )
            ).scalar_one()
            if oldest is not None:
                next_due = oldest + timedelta(days=rule.interval_days)
        else:
            next_due = now
        out.append(
            CountDue(
                rule_id=rule.id,
                category=rule.category,
                interval_days=rule.interval_days,
                due_count=int(count),
                due_product_ids=shown,
                next_due_at=next_due,
            )
        )
    return out
