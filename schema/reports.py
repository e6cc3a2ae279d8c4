"""Report jobs over GraphQL: the type, the input and the payload."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from domain.reports.jobs import ReportFormat as DomainFormat
from domain.reports.jobs import ReportKind as DomainKind
from domain.reports.jobs import download_path
from schema.describe import enum_values
from schema.errors import UserError
from schema.relay import Node

ReportKind = enum_values(
    STOCK_MOVEMENT="Every stock movement in the period.",
    STOCKTAKE_RECORD="The stocktakes posted in the period, with their variances.",
)(strawberry.enum(DomainKind, name="ReportKind", description="What a report lists."))
ReportFormat = enum_values(
    XLSX="An Excel workbook.",
    PDF="A PDF document.",
)(strawberry.enum(DomainFormat, name="ReportFormat", description="A report's file format."))


@visible_with(Permission.COSTS_READ)
@strawberry.type(description="A requested report: its progress and, once DONE, where to fetch it.")
class ReportJob(Node):
    kind: ReportKind = strawberry.field(description="What the report lists.")  # type: ignore[valid-type]
    format: ReportFormat = strawberry.field(description="The file format.")  # type: ignore[valid-type]
    status: str = strawberry.field(description="QUEUED, RUNNING, DONE or FAILED.")
    progress: int = strawberry.field(description="Percent done, 0 to 100.")
    phase: str = strawberry.field(
        description="QUEUED, READING, RENDERING, STORING or DONE (jobProgress streams it)."
    )
    done: int = strawberry.field(description="Lines rendered so far (RENDERING).")
    total: int | None = strawberry.field(description="Lines in the report, once read.")
    file_name: str | None = strawberry.field(description="The file's name, once DONE.")
    error: str | None = strawberry.field(description="Why it failed; null unless FAILED.")
    created_by: str = strawberry.field(
        description='Who asked, as a stored subject ("staff:<id>" or "app:<client id>").'
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    finished_at: datetime | None = strawberry.field(
        description="When it finished; null until DONE or FAILED."
    )
    _row: strawberry.Private[Any]

    @strawberry.field(
        description="A signed path to the file (DONE only), good for 5 minutes and only for "
        "this tenant's job; fetch it with GET, no token needed."
    )
    def download_url(self) -> str | None:
        return download_path(self._row)[0] if self.status == "DONE" else None

    @strawberry.field(description="When downloadUrl stops working.")
    def download_expires_at(self) -> datetime | None:
        return download_path(self._row)[1] if self.status == "DONE" else None

    @classmethod
    def from_row(cls, row: Any) -> ReportJob:
        return cls(
            id=strawberry.ID(ids.encode("ReportJob", row.id)),
            kind=DomainKind(row.kind),
            format=DomainFormat(row.format),
            status=row.status,
            progress=row.progress,
            phase=row.phase,
            done=row.done,
            total=row.total,
            file_name=row.file_name,
            error=row.error,
            created_by=row.created_by,
            created_at=row.created_at,
            finished_at=row.finished_at,
            _row=row,
        )


@strawberry.input(description="The input of requestReport.")
class RequestReportInput:
    kind: ReportKind = strawberry.field(description="What to list. Needs costs:read.")  # type: ignore[valid-type]
    format: ReportFormat = strawberry.field(description="XLSX or PDF.")  # type: ignore[valid-type]
    from_: date = strawberry.field(name="from", description="First day (tenant time).")
    to: date = strawberry.field(description="Last day (tenant time), at most 400 days on.")
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Omitted: every location."
    )


@strawberry.type(description="The result of requestReport: what changed, or userErrors.")
class ReportJobPayload:
    report_job: ReportJob | None = strawberry.field(
        description="The job, QUEUED; follow it with reportJob. Null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> ReportJobPayload:
        return cls(report_job=None, user_errors=errors)
