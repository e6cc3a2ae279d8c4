"""requestReport and reportJob: record the job, build it after the commit, read it back."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain.reports import jobs
from resolvers._mutation import MutationSpec, not_replayed, run_mutation
from schema.relay import decode_id
from schema.reports import ReportJob, ReportJobPayload, RequestReportInput

REQUEST = MutationSpec(
    action="report.request",
    audit=jobs.ReportRequested.audit,
    snapshot=lambda _: {},
    restore=not_replayed,
)

# builds in flight, kept referenced until they finish
_BUILDS: set[asyncio.Task[None]] = set()


async def request_report(
    info: Info,
    input: Annotated[
        RequestReportInput, strawberry.argument(description="What to do; see RequestReportInput.")
    ],
) -> ReportJobPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> jobs.ReportRequested:
        locations = (
            tuple(
                decode_id(g, "Location", ["locationIds", str(i)])
                for i, g in enumerate(input.location_ids)
            )
            if input.location_ids is not None
            else None
        )
        cmd = jobs.RequestReport(
            kind=input.kind,
            format=input.format,
            start=input.from_,
            end=input.to,
            location_ids=locations,
        )
        return await jobs.request_report(session, caller, cmd)

    def render(requested: jobs.ReportRequested) -> ReportJobPayload:
        return ReportJobPayload(report_job=ReportJob.from_row(requested.row), user_errors=[])

    payload = await run_mutation(info, REQUEST, ReportJobPayload, input, execute, render)
    if payload.report_job is not None:  # committed: build it in the background
        job_id = decode_id(payload.report_job.id, "ReportJob", ["id"])
        task = asyncio.create_task(jobs.build(info.context.db, info.context.viewer, job_id))
        _BUILDS.add(task)
        task.add_done_callback(_BUILDS.discard)
    return payload


async def report_job(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The report job's global ID.")],
) -> ReportJob | None:
    pk = decode_id(id, "ReportJob", ["id"])
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        row = await jobs.job_row(session, caller, pk)
    return ReportJob.from_row(row) if row is not None else None
