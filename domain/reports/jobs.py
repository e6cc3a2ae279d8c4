"""Reports as jobs: requested in one transaction, built in the background, fetched by URL.

``request_report`` records the job (QUEUED) in the caller's transaction;
``build`` runs after that commits, in short transactions of its own so that
``reportJob`` and ``jobProgress`` see its progress (``domain.progress``: phase,
lines rendered of the total, percent) from any process. The finished file is kept
on the job. A download URL names the tenant, the job and an expiry, signed
with HMAC-SHA256 by a secret kept on the job row (never handed out): it is
short-lived (``URL_TTL``), and the route refuses it for any other tenant or
job, or once it has expired. A job whose process dies stays RUNNING; asking
again starts a new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import ReportJob, Tenant
from db.session import Database
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.catalog.lookup import location_row
from domain.errors import InvalidInput
from domain.progress import JobKind, Tracker, percent_of
from domain.reports import movements, pdf, stocktakes, xlsx
from domain.reports.movements import MAX_DAYS, MovementReportQuery, movement_report

R = cast(Table, ReportJob.__table__)
URL_TTL = 300  # seconds a download URL stays good


class ReportKind(StrEnum):
    STOCK_MOVEMENT = "STOCK_MOVEMENT"
    STOCKTAKE_RECORD = "STOCKTAKE_RECORD"


class ReportFormat(StrEnum):
    XLSX = "XLSX"
    PDF = "PDF"


CONTENT_TYPES = {
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
}


@dataclass(frozen=True, slots=True)
class RequestReport:
    kind: ReportKind
    format: ReportFormat
    start: date
    end: date
    location_ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ReportRequested:
    row: Any

    def audit(self) -> AuditEntry:
        return AuditEntry(
            action="report.request",
            target_type="ReportJob",
            target_id=ids.encode("ReportJob", self.row.id),
            after={"kind": self.row.kind, "format": self.row.format, "params": self.row.params},
        )


async def request_report(
    session: AsyncSession, caller: Caller, cmd: RequestReport
) -> ReportRequested:
    """Record the job; the caller starts ``build`` once this transaction has committed."""
    require(caller, Permission.COSTS_READ, None, ["kind"])
    if cmd.end < cmd.start:
        raise InvalidInput("the period ends before it starts", ["to"])
    if (cmd.end - cmd.start).days >= MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days", ["to"])
    for i, pk in enumerate(cmd.location_ids or ()):
        await location_row(session, caller, pk, ["locationIds", str(i)])
    params = {
        "from": cmd.start.isoformat(),
        "to": cmd.end.isoformat(),
        "locationIds": list(cmd.location_ids) if cmd.location_ids is not None else None,
    }
    row = (
        await session.execute(
            insert(R)
            .values(
                tenant_id=caller.tenant_id,
                kind=cmd.kind.value,
                format=cmd.format.value,
                params=params,
                status="QUEUED",
                progress=0,
                download_secret=secrets.token_hex(32),
                created_by=caller.subject,
            )
            .returning(*R.c)
        )
    ).one()
    return ReportRequested(row)


class ReportPhase(StrEnum):
    """QUEUED → READING (locations read of total) → RENDERING (lines done of total) →
    STORING → DONE."""

    QUEUED = "QUEUED"
    READING = "READING"
    RENDERING = "RENDERING"
    STORING = "STORING"
    DONE = "DONE"


READ_START, RENDER_START, RENDER_END = 5, 20, 95  # percent: rendering takes the time


class _Lines:
    """Lines rendered so far; bumped by the render thread, read by the job's task."""

    def __init__(self) -> None:
        self.done = 0

    def tick(self) -> None:
        self.done += 1


async def build(db: Database, caller: Caller, job_id: int, tick_interval: float = 0.25) -> None:
    """Build the job's file, recording progress as it goes; a failure is recorded, never raised.

    The file is rendered in a worker thread (openpyxl and fpdf2 are synchronous) while
    this task records how many lines are done every ``tick_interval`` seconds.
    """
    tenant = caller.tenant_id
    track = Tracker(db, R, JobKind.REPORT, tenant, job_id)
    try:
        await track.update(ReportPhase.READING, 0, None, READ_START, force=True, status="RUNNING")
        async with db.tenant_transaction(tenant) as session:
            job = (
                await session.execute(select(R).where(R.c.tenant_id == tenant, R.c.id == job_id))
            ).one()
            params = job.params
            query = MovementReportQuery(
                start=date.fromisoformat(params["from"]),
                end=date.fromisoformat(params["to"]),
                location_ids=tuple(params["locationIds"])
                if params["locationIds"] is not None
                else None,
            )
            kind = ReportKind(job.kind)
            name, currency = (
                await session.execute(
                    select(Tenant.name, Tenant.currency).where(Tenant.tenant_id == tenant)
                )
            ).one()
            if kind is ReportKind.STOCK_MOVEMENT:
                parts = await movements.sections(session, caller, query)
            else:
                report: Any = await stocktakes.stocktake_record(
                    session, caller, query.start, query.end, query.location_ids
                )
        if kind is ReportKind.STOCK_MOVEMENT:
            report = await _read_by_location(db, caller, query, parts, currency, track)
        fmt = ReportFormat(job.format)
        total = len(report.lines)
        lines = _Lines()
        await track.update(ReportPhase.RENDERING, 0, total, RENDER_START, force=True)
        rendering = asyncio.ensure_future(
            asyncio.to_thread(_render, kind, fmt, report, name, lines.tick)
        )
        while not rendering.done():
            await asyncio.wait({rendering}, timeout=tick_interval)
            percent = percent_of(RENDER_START, RENDER_END, lines.done, total)
            await track.progress(ReportPhase.RENDERING, lines.done, total, percent)
        content = rendering.result()
        await track.update(ReportPhase.STORING, total, total, RENDER_END + 2, force=True)
        stem = "stock-movements" if kind is ReportKind.STOCK_MOVEMENT else "stocktake-record"
        file_name = f"{stem}-{query.start.isoformat()}-{query.end.isoformat()}.{fmt.lower()}"
        await track.update(
            ReportPhase.DONE,
            total,
            total,
            100,
            force=True,
            status="DONE",
            content=content,
            content_type=CONTENT_TYPES[fmt],
            file_name=file_name,
            finished_at=datetime.now(UTC),
        )
    except Exception as error:  # recorded on the job for the caller to see
        await track.update(
            ReportPhase.DONE,
            0,
            None,
            100,
            force=True,
            status="FAILED",
            error=f"{type(error).__name__}: {error}"[:1000],
            finished_at=datetime.now(UTC),
        )


async def _read_by_location(
    db: Database,
    caller: Caller,
    query: MovementReportQuery,
    parts: movements.Sections,
    currency: str,
    track: Tracker,
) -> movements.MovementReport:
    """The report read one location (section) at a time, recording sections done.

    Each part is its own short transaction at the same cut of the ledger, so the
    connection is free between them and the whole is the report of one instant.
    """
    read = []
    count = len(parts.location_ids)
    for index in range(count):
        async with db.tenant_transaction(caller.tenant_id) as session:
            read.append(await movement_report(session, caller, parts.part(query, index)))
        percent = percent_of(READ_START, RENDER_START, index + 1, count)
        await track.progress(ReportPhase.READING, index + 1, count, percent)
    return movements.joined(query, currency, read)


def _render(
    kind: ReportKind,
    fmt: ReportFormat,
    report: Any,
    tenant_name: str,
    tick: Callable[[], object],
) -> bytes:
    if kind is ReportKind.STOCK_MOVEMENT:
        if fmt is ReportFormat.XLSX:
            return xlsx.render(report, tick)
        return pdf.render(report, tenant_name, tick)
    if fmt is ReportFormat.XLSX:
        return stocktakes.render_xlsx(report, tick)
    return stocktakes.render_pdf(report, tenant_name, tick)


def signature(secret: str, tenant_id: int, job_id: int, expires: int) -> str:
    message = f"{tenant_id}:{job_id}:{expires}".encode()
    return hmac.new(bytes.fromhex(secret), message, hashlib.sha256).hexdigest()


def download_path(row: Any, now: float | None = None) -> tuple[str, datetime]:
    """A signed path to the job's file, good for ``URL_TTL`` seconds."""
    expires = int((now if now is not None else time.time()) + URL_TTL)
    sig = signature(row.download_secret, row.tenant_id, row.id, expires)
    path = f"/reports/{row.tenant_id}/{row.id}?expires={expires}&signature={sig}"
    return path, datetime.fromtimestamp(expires, UTC)


_DOWNLOAD = text(
    "SELECT tenant_id, id, status, content, content_type, file_name, download_secret "
    "FROM report_jobs WHERE tenant_id = :t AND id = :id"
)


async def fetch_download(
    session: AsyncSession, tenant_id: int, job_id: int, expires: int, sig: str
) -> Any | None:
    """The finished job behind a download URL, or None when the URL is not good (any reason)."""
    if expires < time.time():
        return None
    row = (await session.execute(_DOWNLOAD, {"t": tenant_id, "id": job_id})).first()
    if row is None or row.status != "DONE":
        return None
    expected = signature(row.download_secret, tenant_id, job_id, expires)
    return row if hmac.compare_digest(expected, sig) else None


async def job_row(session: AsyncSession, caller: Caller, job_id: int) -> Any | None:
    return (
        await session.execute(select(R).where(R.c.tenant_id == caller.tenant_id, R.c.id == job_id))
    ).first()
