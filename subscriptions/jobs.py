"""jobProgress: a report's or an import's progress, read from its row whenever it changes.

The job may run in any process. It writes its progress to its row and names
itself on ``JOB_CHANNEL`` (``domain.progress``); the broker's one LISTEN
connection wakes the followers of that job, which re-read the row (without the
report's file) and send an event when anything they show has changed. A
lost notification costs at most ``POLL`` seconds. The stream ends after the
event that shows the job finished.

Who may follow a job is what its type declares (``@visible_with`` on ReportJob
and ImportJob), read from the ID's type: FORBIDDEN without it. A string that is not a job's ID is
INVALID naming ``jobId``; a job of another tenant is NOT_FOUND.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table

from auth.caller import Caller
from auth.fields import type_permissions
from auth.permissions import Permission
from db.models import ImportJob as ImportJobRow
from db.models import ReportJob as ReportJobRow
from db.session import Database
from domain import ids
from domain.progress import JobKind, job_state
from schema.imports import ImportJob
from schema.jobs import JobProgressEvent
from schema.reports import ReportJob
from subscriptions.broker import Broker, LiveEvent
from subscriptions.stock import Refused

JOB_PROGRESS = "job.progress"
POLL = 1.0  # seconds between reads when no notification comes


@dataclass(frozen=True, slots=True)
class JobType:
    kind: JobKind
    table: Table
    node: type[Any]  # the schema type, which declares who may see one


JOB_TYPES: dict[str, JobType] = {
    "ReportJob": JobType(JobKind.REPORT, cast(Table, ReportJobRow.__table__), ReportJob),
    "ImportJob": JobType(JobKind.IMPORT, cast(Table, ImportJobRow.__table__), ImportJob),
}


def _missing() -> Refused:
    return Refused("NOT_FOUND", "no such job")


def _allowed(caller: Caller, job_type: JobType) -> Permission | None:
    """The first permission the job's type needs that the caller lacks, if any."""
    return next((p for p in type_permissions(job_type.node) if not caller.has(p)), None)


def resolve(caller: Caller, job_id: str) -> tuple[JobType, int]:
    """The job's type and key; FORBIDDEN without the type's permission, else NOT_FOUND."""
    parsed = ids.decode(job_id)
    job_type = JOB_TYPES.get(parsed[0]) if parsed is not None else None
    if parsed is None or job_type is None:  # a location code, another type's ID, a typo
        shown = job_id if len(job_id) <= 60 else job_id[:57] + "..."
        raise Refused(
            "INVALID", f'jobId is not a ReportJob or ImportJob ID: "{shown}"', field=["jobId"]
        )
    lacking = _allowed(caller, job_type)
    if lacking is not None:
        raise Refused("FORBIDDEN", f"{lacking.value} is required", permission=lacking.value)
    pk = ids.decode_int(job_id, parsed[0])
    if pk is None:
        raise _missing()
    return job_type, pk


def _shown(row: Any) -> tuple[Any, ...]:
    return (row.status, row.phase, row.done, row.total, row.progress)


async def batches(
    broker: Broker,
    db: Database,
    caller: Caller,
    job_id: str,
    permissions: tuple[Permission, ...] = (),
    poll: float = POLL,
) -> AsyncIterator[list[LiveEvent]]:
    """The job's state now, then each change, until the event that shows it finished.

    ``permissions`` (the field's declared ones) and the job type's are checked again
    before every event, with the token's expiry, as the broker does for its events.
    """
    job_type, pk = resolve(caller, job_id)
    tenant = caller.tenant_id
    wake = broker.watch_job(tenant, job_type.kind, pk)
    try:
        last: tuple[Any, ...] | None = None
        sequence = 0
        while True:
            wake.clear()
            async with db.tenant_transaction(tenant) as session:
                row = await job_state(session, job_type.table, tenant, pk)
            if row is None:
                raise _missing()
            if (
                _allowed(caller, job_type) is not None
                or not all(caller.has(p) for p in permissions)
                or (caller.expires_at is not None and caller.expires_at <= time.time())
            ):
                return
            if _shown(row) != last:
                last = _shown(row)
                sequence += 1
                payload = {"kind": job_type.kind, "row": row, "id": job_id}
                yield [LiveEvent(tenant, sequence, JOB_PROGRESS, payload, 0, 0)]
            if row.phase == "DONE":
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), poll)
    finally:
        broker.unwatch_job(tenant, job_type.kind, pk, wake)


def source(
    broker: Broker,
    db: Database,
    caller: Caller,
    args: dict[str, Any],
    permissions: tuple[Permission, ...],
) -> AsyncIterator[list[LiveEvent]]:
    """``batches`` for the WebSocket endpoint (``subscriptions.stock.LiveField.source``)."""
    return batches(broker, db, caller, str(args["jobId"]), permissions)


def job_progress_root(event: LiveEvent) -> JobProgressEvent:
    row, kind = event.payload["row"], event.payload["kind"]
    return JobProgressEvent(
        job_id=event.payload["id"],
        kind=kind,
        status=row.status,
        phase=row.phase,
        done=row.done,
        total=row.total,
        percent=row.progress,
        finished=row.phase == "DONE",
        report_job=ReportJob.from_row(row) if kind is JobKind.REPORT else None,
        import_job=ImportJob.from_row(row) if kind is JobKind.IMPORT else None,
    )
