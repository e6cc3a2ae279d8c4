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
from schema.errors import UserError
from schema.relay import Node

ReportKind = strawberry.enum(DomainKind, name="ReportKind")
ReportFormat = strawberry.enum(DomainFormat, name="ReportFormat")


@visible_with(Permission.COSTS_READ)
@strawberry.type(description="A requested report: its progress and, once DONE, where to fetch it.")
class ReportJob(Node):
    kind: ReportKind  # type: ignore[valid-type]
    format: ReportFormat  # type: ignore[valid-type]
    status: str = strawberry.field(description="QUEUED, RUNNING, DONE or FAILED.")
    progress: int = strawberry.field(description="Percent done, 0 to 100.")
    phase: str = strawberry.field(
        description="QUEUED, READING, RENDERING, STORING or DONE (jobProgress streams it)."
    )
    done: int = strawberry.field(description="Lines rendered so far (RENDERING).")
    total: int | None = strawberry.field(description="Lines in the report, once read.")
    file_name: str | None
    error: str | None
    created_by: str
    created_at: datetime
    finished_at: datetime | None
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


@strawberry.input
class RequestReportInput:
    kind: ReportKind  # type: ignore[valid-type]
    format: ReportFormat  # type: ignore[valid-type]
    from_: date = strawberry.field(name="from", description="First day (tenant time).")
    to: date = strawberry.field(description="Last day (tenant time), at most 400 days on.")
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Omitted: every location."
    )


@strawberry.type
class ReportJobPayload:
    report_job: ReportJob | None
    user_errors: list[UserError]

    @classmethod
    def failed(cls, errors: list[UserError]) -> ReportJobPayload:
        return cls(report_job=None, user_errors=errors)
