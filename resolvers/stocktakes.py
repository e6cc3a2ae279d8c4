"""Stocktake operations: arguments → one domain call → schema types."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from domain.audit.service import AuditEntry
from domain.pagination import page_size
from domain.stocktakes import queries, schedule, service
from domain.stocktakes.records import StocktakeResult
from resolvers._mutation import MutationSpec, run_mutation
from schema.relay import After, Connection, First, connection, decode_id, int_cursor
from schema.stocktakes import (
    CountDue,
    CountRecord,
    CountTotals,
    CycleCountRule,
    CycleCountSchedule,
    CycleCountSchedulePayload,
    RecordCountInput,
    SetCycleCountScheduleInput,
    StartStocktakeInput,
    Stocktake,
    StocktakePayload,
    StocktakeStatus,
    StocktakeTransitionInput,
)


def _spec(action: str) -> MutationSpec:
    return MutationSpec(
        action=action,
        audit=lambda result: service.audit_entry(action, result),
        snapshot=lambda result: result.to_json(),
        restore=StocktakeResult.from_json,
    )


START = _spec("stocktake.start")
COUNT = _spec("stocktake.count")
POST = _spec("stocktake.post")
CANCEL = _spec("stocktake.cancel")


def _stocktake_id(value: strawberry.ID) -> int:
    return decode_id(value, "Stocktake", ["id"])


async def start_stocktake(
    info: Info,
    input: Annotated[
        StartStocktakeInput, strawberry.argument(description="What to do; see StartStocktakeInput.")
    ],
) -> StocktakePayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> StocktakeResult:
        cmd = service.StartStocktake(
            location_id=decode_id(input.location_id, "Location", ["locationId"]),
            kind=input.kind,
            category=input.category,
            not_counted_days=input.not_counted_for_days,
            skus=tuple(input.skus) if input.skus is not None else None,
            note=input.note,
        )
        return await service.start_stocktake(session, caller, cmd)

    return await run_mutation(
        info, START, StocktakePayload, input, execute, StocktakePayload.from_result
    )


async def record_count(
    info: Info,
    input: Annotated[
        RecordCountInput, strawberry.argument(description="What to do; see RecordCountInput.")
    ],
) -> StocktakePayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> StocktakeResult:
        cmd = service.RecordCount(
            stocktake_id=_stocktake_id(input.id),
            lines=tuple(
                service.CountLine(sku=ln.sku, counted_quantity=ln.counted_quantity)
                for ln in input.lines
            ),
        )
        return await service.record_count(session, caller, cmd)

    return await run_mutation(
        info, COUNT, StocktakePayload, input, execute, StocktakePayload.from_result
    )


async def post_stocktake(
    info: Info,
    input: Annotated[
        StocktakeTransitionInput,
        strawberry.argument(description="What to do; see StocktakeTransitionInput."),
    ],
) -> StocktakePayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> StocktakeResult:
        cmd = service.StocktakeCommand(stocktake_id=_stocktake_id(input.id))
        return await service.post_stocktake(session, caller, cmd, request_id=request_id)

    return await run_mutation(
        info, POST, StocktakePayload, input, execute, StocktakePayload.from_result
    )


async def cancel_stocktake(
    info: Info,
    input: Annotated[
        StocktakeTransitionInput,
        strawberry.argument(description="What to do; see StocktakeTransitionInput."),
    ],
) -> StocktakePayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> StocktakeResult:
        cmd = service.StocktakeCommand(stocktake_id=_stocktake_id(input.id))
        return await service.cancel_stocktake(session, caller, cmd)

    return await run_mutation(
        info, CANCEL, StocktakePayload, input, execute, StocktakePayload.from_result
    )


async def stocktake(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The stocktake's global ID.")],
) -> Stocktake | None:
    pk = decode_id(id, "Stocktake", ["id"])
    row = await info.context.loaders.stocktake_by_id.load(pk)
    return Stocktake.from_row(row) if row is not None else None


async def stocktakes(
    info: Info,
    first: First = None,
    after: After = None,
    location_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only stocktakes at this location.")
    ] = None,
    status: Annotated[
        StocktakeStatus | None, strawberry.argument(description="Only stocktakes in this status.")  # type: ignore[valid-type]
    ] = None,
) -> Connection[Stocktake]:
    """Newest first."""
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    loc = None
    if location_id is not None:
        loc = decode_id(location_id, "Location", ["locationId"])
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await queries.list_stocktakes(
            session,
            caller,
            limit=limit,
            after=cursor,
            location_id=loc,
            status=status.value if status is not None else None,
        )
    return connection(page, Stocktake.from_row, lambda r: r.id)


async def count_record(
    info: Info,
    location_id: Annotated[
        strawberry.ID, strawberry.argument(description="The location's global ID.")
    ],
    month: Annotated[
        str,
        strawberry.argument(
            description='The month, written "YYYY-MM", in the tenant\'s time zone.'
        ),
    ],
) -> CountRecord | None:
    """Null for an unknown (or another tenant's) location."""
    pk = decode_id(location_id, "Location", ["locationId"])
    if await info.context.loaders.location_by_id.load(pk) is None:
        queries.parse_month(month)
        return None
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        record = await queries.count_record(session, caller, pk, month)
    return CountRecord(
        month=record.month.strftime("%Y-%m"),
        stocktakes=[Stocktake.from_row(r) for r in record.stocktakes],
        totals=CountTotals.from_totals(record.totals, record.currency),
        location_pk=record.location_id,
    )


def count_due(item: schedule.CountDue) -> CountDue:
    return CountDue(
        category=item.category,
        interval_days=item.interval_days,
        due_count=item.due_count,
        next_due_at=item.next_due_at,
        product_pks=item.due_product_ids,
    )


async def load_schedule(
    session: AsyncSession, caller: Caller, location_id: int
) -> CycleCountSchedule:
    rules = await schedule.schedule_rules(session, caller, location_id)
    due = await schedule.counts_due(session, caller, location_id)
    return CycleCountSchedule(
        rules=[CycleCountRule(category=r.category, interval_days=r.interval_days) for r in rules],
        counts_due=[count_due(d) for d in due],
        location_pk=location_id,
    )


async def cycle_count_schedule(
    info: Info,
    location_id: Annotated[
        strawberry.ID, strawberry.argument(description="The location's global ID.")
    ],
) -> CycleCountSchedule | None:
    pk = decode_id(location_id, "Location", ["locationId"])
    if await info.context.loaders.location_by_id.load(pk) is None:
        return None
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        return await load_schedule(session, caller, pk)


def _rules_json(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"category": r.category, "intervalDays": r.interval_days} for r in rows]


def _schedule_audit(result: tuple[int, list[Any], list[Any]]) -> AuditEntry:
    location_id, before, after = result
    return AuditEntry(
        action="stocktake.set_schedule",
        target_type="Location",
        target_id=ids.encode("Location", location_id),
        before={"rules": _rules_json(before)},
        after={"rules": _rules_json(after)},
    )


SET_SCHEDULE = MutationSpec(
    action="stocktake.set_schedule",
    audit=_schedule_audit,
    snapshot=lambda result: {"location": result[0]},
    restore=lambda data: (data["location"], [], []),
)


async def set_cycle_count_schedule(
    info: Info,
    input: Annotated[
        SetCycleCountScheduleInput,
        strawberry.argument(description="What to do; see SetCycleCountScheduleInput."),
    ],
) -> CycleCountSchedulePayload:
    caller = info.context.viewer

    async def execute(
        session: AsyncSession, caller: Caller, request_id: str
    ) -> tuple[int, list[Any], list[Any]]:
        cmd = schedule.SetCycleCountSchedule(
            location_id=decode_id(input.location_id, "Location", ["locationId"]),
            rules=tuple(
                schedule.ScheduleRule(category=r.category, interval_days=r.interval_days)
                for r in input.rules
            ),
        )
        return await schedule.set_schedule(session, caller, cmd)

    payload = await run_mutation(
        info,
        SET_SCHEDULE,
        CycleCountSchedulePayload,
        input,
        execute,
        lambda result: CycleCountSchedulePayload(schedule=None, user_errors=[]),
    )
    if payload.user_errors:
        return payload
    location = decode_id(input.location_id, "Location", ["locationId"])
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        payload.schedule = await load_schedule(session, caller, location)
    return payload
