"""Alerts, alert contacts and quiet hours, and job runs: arguments → one domain call → types."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain.audit.service import AuditEntry
from domain.pagination import page_size
from domain.replenishment import alerts, notify
from domain.scheduler import runs
from resolvers._mutation import MutationSpec, run_mutation
from schema.alerts import (
    AlertSettingsPayload,
    JobRun,
    ReplenishmentAlert,
    SetAlertContactInput,
    SetAlertQuietHoursInput,
)
from schema.relay import (
    After,
    Connection,
    First,
    connection,
    decode_id,
    int_cursor,
)

# --- job runs ---------------------------------------------------------------------------


async def job_runs(
    info: Info,
    first: First = None,
    after: After = None,
    job: Annotated[
        str | None, strawberry.argument(description="Only runs of this job (by its name).")
    ] = None,
) -> Connection[JobRun]:
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await runs.list_runs(
            session, caller, limit=page_size(first), after=int_cursor(after), job=job
        )
    return connection(page, JobRun.from_row, lambda r: r.id)


async def replenishment_alerts(
    info: Info,
    location_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only alerts of this location.")
    ] = None,
    first: First = None,
    after: After = None,
) -> Connection[ReplenishmentAlert]:
    caller = info.context.viewer
    loc = decode_id(location_id, "Location", ["locationId"]) if location_id is not None else None
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await alerts.list_alerts(
            session, caller, location_id=loc, limit=page_size(first), after=int_cursor(after)
        )
    return connection(page, ReplenishmentAlert.from_row, lambda r: r.id)


# --- alert contacts and quiet hours -----------------------------------------------------


def _settings_spec(action: str) -> MutationSpec:
    return MutationSpec(
        action=action,
        audit=lambda data: AuditEntry(action=action, target_type="AlertSettings", after=data),
        snapshot=lambda data: data,
        restore=lambda data: data,
    )


SET_CONTACT = _settings_spec("replenishment.set_alert_contact")
SET_QUIET = _settings_spec("replenishment.set_quiet_hours")


async def set_alert_contact(
    info: Info,
    input: Annotated[
        SetAlertContactInput,
        strawberry.argument(description="What to do; see SetAlertContactInput."),
    ],
) -> AlertSettingsPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> dict[str, Any]:
        cmd = notify.SetAlertContact(
            decode_id(input.staff_id, "Staff", ["staffId"]), input.channel, input.recipient
        )
        row = await notify.set_contact(session, caller, cmd)
        return {"staffId": row.staff_id, "channel": row.channel}

    return await run_mutation(
        info,
        SET_CONTACT,
        AlertSettingsPayload,
        input,
        execute,
        lambda _: AlertSettingsPayload(ok=True, user_errors=[]),
    )


async def set_alert_quiet_hours(
    info: Info,
    input: Annotated[
        SetAlertQuietHoursInput,
        strawberry.argument(description="What to do; see SetAlertQuietHoursInput."),
    ],
) -> AlertSettingsPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> dict[str, Any]:
        row = await notify.set_quiet_hours(
            session, caller, notify.SetQuietHours(input.start, input.end)
        )
        return {"quietStart": row.quiet_start, "quietEnd": row.quiet_end}

    return await run_mutation(
        info,
        SET_QUIET,
        AlertSettingsPayload,
        input,
        execute,
        lambda _: AlertSettingsPayload(ok=True, user_errors=[]),
    )
