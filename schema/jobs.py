"""jobProgress's event: how far a report or import job has got, and at the end its result."""

from __future__ import annotations

import strawberry

from domain.progress import JobKind as DomainJobKind
from schema.describe import enum_values
from schema.imports import ImportJob
from schema.reports import ReportJob

JobKind = enum_values(
    REPORT="A report (requestReport): a ReportJob.",
    IMPORT="An import (createImport): an ImportJob.",
)(strawberry.enum(DomainJobKind, name="JobKind", description="What a job makes."))


@strawberry.type(
    description="One step of a job. Events come in order with percent never falling; the "
    "last one has finished: true and the job's final state (a report's downloadUrl, an "
    "import's summary)."
)
class JobProgressEvent:
    job_id: strawberry.ID = strawberry.field(description="The job's global ID, as subscribed.")
    kind: JobKind = strawberry.field(description="Report or import.")  # type: ignore[valid-type]
    status: str = strawberry.field(
        description="The job's status (ReportJob.status or ImportJob.status)."
    )
    phase: str = strawberry.field(
        description="Reports: QUEUED, READING, RENDERING (lines), STORING, DONE. Imports: "
        "QUEUED, VALIDATING (rows checked), WRITING (rows written of the valid), DONE."
    )
    done: int = strawberry.field(description="Lines or rows done in this phase.")
    total: int | None = strawberry.field(
        description="How many the phase has, once known (null while an import is validating)."
    )
    percent: int = strawberry.field(description="Of the whole job, 0 to 100.")
    finished: bool = strawberry.field(
        description="True on the last event: the job has ended (its status is final)."
    )
    report_job: ReportJob | None = strawberry.field(description="The job, when it is a report.")
    import_job: ImportJob | None = strawberry.field(description="The job, when it is an import.")
