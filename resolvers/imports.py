"""createImport and importJob: the upload goes to a temporary file, then one domain call.

With ``background`` the call only queues the job; the import runs once that has
committed (``domain.imports.jobs``) and the file is removed when it ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, cast

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from db.session import Database
from domain.errors import InvalidInput
from domain.imports import jobs as import_jobs
from domain.imports import service as imports
from resolvers._mutation import MutationSpec, not_replayed, run_mutation
from schema.imports import CreateImportInput, ImportJob, ImportJobPayload
from schema.relay import decode_id

MAX_UPLOAD = 64 * 1024 * 1024  # bytes

CREATE = MutationSpec(
    action="import.run",
    audit=imports.ImportOutcome.audit,
    snapshot=lambda _: {},
    restore=not_replayed,
    redact=lambda data: {k: v for k, v in data.items() if k != "file"},
)


async def _save(upload: Any, directory: str) -> tuple[Path, str]:
    """Copy the upload to disk in chunks, refusing it past MAX_UPLOAD."""
    name = str(getattr(upload, "filename", None) or "upload")
    path = Path(directory) / "upload"
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1 << 16):
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise InvalidInput(f"the file is over {MAX_UPLOAD // (1 << 20)} MiB", ["file"])
            out.write(chunk)
    return path, name


async def create_import(
    info: Info,
    input: Annotated[
        CreateImportInput, strawberry.argument(description="What to do; see CreateImportInput.")
    ],
) -> ImportJobPayload:
    directory = tempfile.mkdtemp(prefix="stockgraph-import-")
    handed_over = False
    try:
        queued: list[imports.RunImport] = []

        async def execute(session: AsyncSession, caller: Caller, _: str) -> imports.ImportOutcome:
            path, name = await _save(input.file, directory)
            cmd = imports.RunImport(
                kind=input.kind,
                path=path,
                file_name=name,
                dry_run=input.dry_run,
                valid_only=input.valid_only,
                encoding=input.encoding,
                sheet=input.sheet,
                master=info.context.db.data_key,
            )
            if input.background:
                queued.append(cmd)
                return await imports.queue_import(session, caller, cmd)
            return await imports.run_import(session, caller, cmd)

        def render(outcome: imports.ImportOutcome) -> ImportJobPayload:
            return ImportJobPayload(
                import_job=ImportJob.from_row(outcome.row, outcome.replayed), user_errors=[]
            )

        # the upload stays out of what run_mutation copies for hashing and audit: a file
        # past 1 MB is spooled to disk, and its handle cannot be copied
        described = dataclasses.replace(input, file=cast(Any, None))
        payload = await run_mutation(info, CREATE, ImportJobPayload, described, execute, render)
        job = payload.import_job
        if queued and job is not None and job.status == "QUEUED":  # committed: run it now
            pk = decode_id(job.id, "ImportJob", ["id"])
            _start(info.context.db, info.context.viewer, queued[-1], pk, directory)
            handed_over = True
        return payload
    finally:
        if not handed_over:
            shutil.rmtree(directory, ignore_errors=True)


# imports in flight, kept referenced until they finish
_RUNNING: set[asyncio.Task[None]] = set()


def _start(db: Database, caller: Caller, cmd: imports.RunImport, pk: int, directory: str) -> None:
    async def run() -> None:
        try:
            await import_jobs.run_queued(db, caller, cmd, pk)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    task = asyncio.create_task(run())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


async def import_job(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The import job's global ID.")],
) -> ImportJob | None:
    pk = decode_id(id, "ImportJob", ["id"])
    row = await info.context.loaders.import_job_by_id.load(pk)
    return ImportJob.from_row(row) if row is not None else None
