"""closePeriod, reopenPeriod, periods: arguments → one domain call → types."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain.pagination import page_size
from domain.periods import service as periods
from resolvers._mutation import MutationSpec, not_replayed, run_mutation
from schema.periods import ClosePeriodInput, Period, PeriodPayload, ReopenPeriodInput
from schema.relay import After, Connection, First, connection, decode_id, int_cursor


def _spec(action: str) -> MutationSpec:
    return MutationSpec(
        action=action,
        audit=periods.PeriodChange.audit,
        snapshot=lambda _: {},
        restore=not_replayed,
    )


CLOSE = _spec("period.close")
REOPEN = _spec("period.reopen")


def _render(change: periods.PeriodChange) -> PeriodPayload:
    return PeriodPayload(period=Period.from_row(change.row), user_errors=[])


async def close_period(
    info: Info,
    input: Annotated[
        ClosePeriodInput, strawberry.argument(description="What to do; see ClosePeriodInput.")
    ],
) -> PeriodPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> periods.PeriodChange:
        location = (
            decode_id(input.location_id, "Location", ["locationId"])
            if input.location_id is not None
            else None
        )
        cmd = periods.ClosePeriod(location_id=location, through=input.through)
        return await periods.close_period(session, caller, cmd)

    return await run_mutation(info, CLOSE, PeriodPayload, input, execute, _render)


async def reopen_period(
    info: Info,
    input: Annotated[
        ReopenPeriodInput, strawberry.argument(description="What to do; see ReopenPeriodInput.")
    ],
) -> PeriodPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> periods.PeriodChange:
        cmd = periods.ReopenPeriod(id=decode_id(input.id, "Period", ["id"]), reason=input.reason)
        return await periods.reopen_period(session, caller, cmd)

    return await run_mutation(info, REOPEN, PeriodPayload, input, execute, _render)


async def periods_(
    info: Info,
    first: First = None,
    after: After = None,
) -> Connection[Period]:
    """Every close and reopening of the tenant, newest first."""
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await periods.list_periods(session, caller, limit=limit, after=cursor)
    return connection(page, Period.from_row, lambda r: r.id)
