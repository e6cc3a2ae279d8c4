"""createImport and importJob: the upload goes to a temporary file, then one domain call."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain.errors import InvalidInput
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
    with tempfile.TemporaryDirectory(prefix="stockgraph-import-") as directory:

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
            return await imports.run_import(session, caller, cmd)

        def render(outcome: imports.ImportOutcome) -> ImportJobPayload:
            return ImportJobPayload(
                import_job=ImportJob.from_row(outcome.row, outcome.replayed), user_errors=[]
            )

        return await run_mutation(info, CREATE, ImportJobPayload, input, execute, render)


async def import_job(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The import job's global ID.")],
) -> ImportJob | None:
    pk = decode_id(id, "ImportJob", ["id"])
    row = await info.context.loaders.import_job_by_id.load(pk)
    return ImportJob.from_row(row) if row is not None else None
