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
from schema.describe import enum_values
from schema.errors import UserError
from schema.relay import Node

ImportKind = enum_values(
    PRODUCTS="Products (SKU, names, prices).",
    SUPPLIERS="Suppliers and their terms.",
    SUPPLIER_PRODUCTS="What each supplier sells: unit cost, pack size, minimum order quantity.",
    OPENING_STOCK="Stock on hand when moving onto stockgraph (OPENING movements).",
    REPLENISHMENT_RULES="Replenishment rules per location and SKU.",
    MEMBERS="Loyalty members.",
)(strawberry.enum(DomainImportKind, name="ImportKind", description="What an import file holds."))


@strawberry.type(description="One problem of one row (row and column null: the whole file).")
class ImportRowError:
    row: int | None = strawberry.field(
        description="The row's number in the file; null for the whole file."
    )
    column: str | None = strawberry.field(description="The column's header as in the file.")
    code: str = strawberry.field(description="A stable code of the problem.")
    value: str | None = strawberry.field(description="The cell as given (cut at 200 characters).")
    message: str = strawberry.field(description="What is wrong, for people.")


@visible_with(Permission.ADMIN)
@strawberry.type(description="One run of an import: what the file held and what was written.")
class ImportJob(Node):
    kind: ImportKind = strawberry.field(description="What was imported.")  # type: ignore[valid-type]
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
    dry_run: bool = strawberry.field(
        description="True when it only checked the file and wrote nothing."
    )
    replayed: bool = strawberry.field(
        description="True when this file was already written: the earlier job is returned."
    )
    file_name: str = strawberry.field(description="The file's name, as uploaded.")
    sha256: str = strawberry.field(description="SHA-256 of the file's bytes, hex.")
    format: str | None = strawberry.field(
        description="The file's format as read (CSV or XLSX); null when it could not be read."
    )
    encoding: str | None = strawberry.field(description="The text encoding used (for CSV).")
    header_row: int | None = strawberry.field(description="The row the headers were found on.")
    rows_total: int = strawberry.field(description="Data rows in the file.")
    rows_valid: int = strawberry.field(description="Rows without errors.")
    rows_written: int = strawberry.field(
        description="Rows written (0 for a dry run or a refused file)."
    )
    error_count: int = strawberry.field(
        description="Problems found in all (errors lists the first 1,000)."
    )
    errors: list[ImportRowError] = strawberry.field(description="The first 1,000 problems.")
    created_by: str = strawberry.field(
        description='Who imported it, as a stored subject ("staff:<id>", "app:<client id>" '
        'or "system").'
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    finished_at: datetime | None = strawberry.field(
        description="When it finished; null while QUEUED or RUNNING."
    )

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


@strawberry.input(description="The input of createImport.")
class CreateImportInput:
    kind: ImportKind = strawberry.field(description="What the file holds. Needs admin.")  # type: ignore[valid-type]
    file: Upload = strawberry.field(
        description="The CSV or XLSX file (GraphQL multipart request specification)."
    )
    dry_run: bool = strawberry.field(
        default=False, description="true: check every row and write nothing (default false)."
    )
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


@strawberry.type(description="The result of createImport: what changed, or userErrors.")
class ImportJobPayload:
    import_job: ImportJob | None = strawberry.field(description="The job; null when refused.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> ImportJobPayload:
        return cls(import_job=None, user_errors=errors)
