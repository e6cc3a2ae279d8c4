"""Import jobs over GraphQL: the type, the input and the payload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.file_uploads import Upload

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from domain.imports.columns import ImportKind as DomainImportKind
from schema.errors import UserError
from schema.relay import Node

ImportKind = strawberry.enum(DomainImportKind, name="ImportKind")


@strawberry.type(description="One problem of one row (row and column null: the whole file).")
class ImportRowError:
    row: int | None
    column: str | None = strawberry.field(description="The column's header as in the file.")
    code: str
    value: str | None = strawberry.field(description="The cell as given (cut at 200 characters).")
    message: str


@visible_with(Permission.ADMIN)
@strawberry.type(description="One run of an import: what the file held and what was written.")
class ImportJob(Node):
    kind: ImportKind  # type: ignore[valid-type]
    status: str = strawberry.field(
        description="QUEUED and RUNNING (background imports), then VALIDATED (dry run), "
        "COMMITTED, REFUSED (rows had errors, nothing written) or FAILED (the file could not "
        "be read, or the import failed and wrote nothing)."
    )
    phase: str = strawberry.field(
        description="QUEUED, VALIDATING, WRITING or DONE (jobProgress streams it)."
    )
    progress: int = strawberry.field(description="Percent done, 0 to 100.")
    done: int = strawberry.field(description="Rows checked (VALIDATING) or written (WRITING).")
    total: int | None = strawberry.field(
        description="Rows to write (WRITING); null while validating."
    )
    dry_run: bool
    replayed: bool = strawberry.field(
        description="True when this file was already written: the earlier job is returned."
    )
    file_name: str
    sha256: str
    format: str | None
    encoding: str | None
    header_row: int | None
    rows_total: int
    rows_valid: int
    rows_written: int
    error_count: int
    errors: list[ImportRowError] = strawberry.field(description="The first 1,000 problems.")
    created_by: str
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Any, replayed: bool = False) -> ImportJob:
        return cls(
            id=strawberry.ID(ids.encode("ImportJob", row.id)),
            kind=DomainImportKind(row.kind),
            status=row.status,
            phase=row.phase,
            progress=row.progress,
            done=row.done,
            total=row.total,
            dry_run=row.dry_run,
            replayed=replayed,
            file_name=row.file_name,
            sha256=row.file_hash,
            format=row.format,
            encoding=row.encoding,
            header_row=row.header_row,
            rows_total=row.rows_total,
            rows_valid=row.rows_valid,
            rows_written=row.rows_written,
            error_count=row.error_count,
            errors=[ImportRowError(**e) for e in row.errors],
            created_by=row.created_by,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


@strawberry.input
class CreateImportInput:
    kind: ImportKind  # type: ignore[valid-type]
    file: Upload = strawberry.field(
        description="The CSV or XLSX file (GraphQL multipart request specification)."
    )
    dry_run: bool = False
    valid_only: bool = strawberry.field(
        default=False, description="Write the valid rows even when others have errors."
    )
    encoding: str | None = strawberry.field(
        default=None, description="utf-8, utf-8-sig, utf-16, big5 or big5hkscs; default detected."
    )
    sheet: str | None = strawberry.field(default=None, description="XLSX sheet; default first.")
    background: bool = strawberry.field(
        default=False,
        description="Answer at once with the job QUEUED and run it afterwards; follow it with "
        "jobProgress(jobId) or importJob(id). Default: answer when it has finished.",
    )


@strawberry.type
class ImportJobPayload:
    import_job: ImportJob | None
    user_errors: list[UserError]

    @classmethod
    def failed(cls, errors: list[UserError]) -> ImportJobPayload:
        return cls(import_job=None, user_errors=errors)
