"""Reconciliation operations: arguments → one domain call → schema types."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from db.models import Location, Tenant
from domain.errors import InvalidInput
from domain.pagination import page_size
from domain.reconciliation import service
from domain.reconciliation.export import workbook
from resolvers._mutation import MutationSpec, not_replayed, run_mutation
from schema.reconciliation import (
    ImportSettlementInput,
    ImportSettlementPayload,
    ReconciliationExport,
    ReconciliationLine,
    ReconciliationRun,
    ReconciliationStatus,
    SettlementFormat,
)
from schema.relay import After, Connection, First, connection, decode_id, int_cursor

IMPORT = MutationSpec(
    action="reconciliation.import",
    audit=service.audit_entry,
    snapshot=not_replayed,
    restore=not_replayed,
    redact=lambda data: {"format": str(data.get("format")), "file_name": data.get("file_name")},
)


async def import_settlement(
    info: Info,
    input: Annotated[
        ImportSettlementInput,
        strawberry.argument(description="What to do; see ImportSettlementInput."),
    ],
) -> ImportSettlementPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Any:
        content = input.raw()
        if content is None:
            raise InvalidInput("give content or a valid contentBase64", ["content"])
        cmd = service.ImportSettlement(
            format=input.format.value, file_name=input.file_name, content=content
        )
        return await service.import_settlement(session, caller, cmd)

    def render(result: service.ImportResult) -> ImportSettlementPayload:
        return ImportSettlementPayload(
            run=ReconciliationRun.from_row(result.run), created=result.created, user_errors=[]
        )

    return await run_mutation(info, IMPORT, ImportSettlementPayload, input, execute, render)


async def reconciliation_runs(
    info: Info,
    first: First = None,
    after: After = None,
    format: Annotated[
        SettlementFormat | None, strawberry.argument(description="Only runs of this file format.")
    ] = None,
) -> Connection[ReconciliationRun]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await service.list_runs(
            session,
            caller,
            limit=limit,
            after=cursor,
            fmt=format.value if format is not None else None,
        )
    return connection(page, ReconciliationRun.from_row, lambda r: r.id)


async def reconciliation_lines(
    info: Info,
    run_id: Annotated[strawberry.ID, strawberry.argument(description="The run's global ID.")],
    status: Annotated[
        ReconciliationStatus | None,
        strawberry.argument(description="Only lines with this outcome."),
    ] = None,
    first: First = None,
    after: After = None,
) -> Connection[ReconciliationLine]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    pk = decode_id(run_id, "ReconciliationRun", ["runId"])
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await service.list_lines(
            session,
            caller,
            pk,
            limit=limit,
            after=cursor,
            status=status.value if status is not None else None,
        )
    return connection(page, ReconciliationLine.from_row, lambda r: r.id)


async def unreconciled(
    info: Info,
    location_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only lines of this location.")
    ] = None,
    first: First = None,
    after: After = None,
) -> Connection[ReconciliationLine]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    location = (
        decode_id(location_id, "Location", ["locationId"]) if location_id is not None else None
    )
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await service.list_lines(
            session,
            caller,
            0,
            limit=limit,
            after=cursor,
            location_id=location,
            unmatched_current=True,
        )
    return connection(page, ReconciliationLine.from_row, lambda r: r.id)


async def reconciliation_export(
    info: Info,
    run_id: Annotated[strawberry.ID, strawberry.argument(description="The run's global ID.")],
) -> ReconciliationExport | None:
    caller = info.context.viewer
    pk = decode_id(run_id, "ReconciliationRun", ["runId"])
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        run = await service.run_row(session, caller, pk)
        if run is None:
            return None
        lines = (await service.list_lines(session, caller, run.id, limit=None, after=None)).rows
        codes = {
            r.id: r.code
            for r in await session.execute(
                select(Location.id, Location.code).where(Location.tenant_id == caller.tenant_id)
            )
        }
        zone = (
            await session.execute(
                select(Tenant.timezone).where(Tenant.tenant_id == caller.tenant_id)
            )
        ).scalar_one()
    data = workbook(run, lines, codes, ZoneInfo(zone))
    return ReconciliationExport(
        file_name=f"reconciliation-{run.format.lower()}-{run.period_start}-{run.id}.xlsx",
        content_base64=base64.b64encode(data).decode(),
    )
