"""Running an import: validate every row, then write all of them (or the valid ones) at once.

Two passes over the file, each streamed: the first checks every row and keeps
only the errors (the first ``MAX_ERRORS``) and the keys seen; the second, only
when writing, reads the file again and writes in batches, all in the caller's
transaction, so an import is never half-written. A file is identified by its
SHA-256: once a file has been written for a kind, importing it again answers
with that job and changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import ImportJob, Location, Product, Supplier
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.errors import InvalidInput
from domain.imports.columns import Header, ImportKind, find_header
from domain.imports.source import Opened, SourceError, open_rows
from domain.imports.validation import Catalogue, RowError, Validator
from domain.imports.writers import write_batch
from domain.progress import JOB_CHANNEL, JobKind, notify_payload

J = cast(Table, ImportJob.__table__)
MAX_ERRORS = 1000
BATCH = 1000
IMPORT_LOCK = 0x1A90
WRITE_START = 50  # percent: validating is the first half of a real import, writing the second

PROGRESS_EVERY = 500  # rows between progress reports


class ImportPhase(StrEnum):
    """QUEUED → VALIDATING (rows checked) → WRITING (rows written of the valid) → DONE."""

    QUEUED = "QUEUED"
    VALIDATING = "VALIDATING"
    WRITING = "WRITING"
    DONE = "DONE"


# (phase, rows done, rows in the phase if known, percent of the whole import)
Progress = Callable[[ImportPhase, int, int | None, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RunImport:
    kind: ImportKind
    path: Path
    file_name: str
    dry_run: bool = False
    valid_only: bool = False
    encoding: str | None = None
    sheet: str | None = None
    master: bytes | None = None  # the personal-data key, for MEMBERS


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """The job row as recorded, and whether it answers an earlier import of the same file."""

    row: Any
    replayed: bool = False

    def audit(self) -> AuditEntry:
        r = self.row
        return AuditEntry(
            action="import.dry_run" if r.dry_run else "import.commit",
            target_type="ImportJob",
            target_id=ids.encode("ImportJob", r.id),
            after={
                "kind": r.kind,
                "file": r.file_name,
                "sha256": r.file_hash,
                "status": r.status,
                "rowsTotal": r.rows_total,
                "rowsWritten": r.rows_written,
                "errors": r.error_count,
                "replayed": self.replayed,
            },
        )

    def summary(self) -> dict[str, Any]:
        r = self.row
        return {
            "id": ids.encode("ImportJob", r.id),
            "kind": r.kind,
            "status": r.status,
            "dryRun": r.dry_run,
            "replayed": self.replayed,
            "file": r.file_name,
            "sha256": r.file_hash,
            "format": r.format,
            "encoding": r.encoding,
            "headerRow": r.header_row,
            "rowsTotal": r.rows_total,
            "rowsValid": r.rows_valid,
            "rowsWritten": r.rows_written,
            "errorCount": r.error_count,
            "errors": r.errors,
        }


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            digest.update(chunk)
    return digest.hexdigest()


async def _catalogue(session: AsyncSession, tenant: int) -> Catalogue:
    locations = await session.execute(
        select(Location.code, Location.id).where(Location.tenant_id == tenant)
    )
    products = await session.execute(
        select(Product.sku, Product.id).where(Product.tenant_id == tenant)
    )
    suppliers = await session.execute(
        select(Supplier.code, Supplier.id).where(Supplier.tenant_id == tenant)
    )
    return Catalogue(
        locations={r.code: r.id for r in locations},
        products={r.sku: r.id for r in products},
        suppliers={r.code: r.id for r in suppliers},
    )


def _rows(cmd: RunImport) -> tuple[Opened, Header, Iterator[list[str]]]:
    opened = open_rows(cmd.path, encoding=cmd.encoding, sheet=cmd.sheet)
    header = find_header(cmd.kind, opened.rows)
    return opened, header, opened.rows


async def queue_import(session: AsyncSession, caller: Caller, cmd: RunImport) -> ImportOutcome:
    """Record a job to run later (``run_import`` with its ``job_id``); needs admin.

    A file already written for this kind answers with its earlier job, as ``run_import``
    does, and nothing is queued.
    """
    _allowed(caller, cmd)
    digest = file_hash(cmd.path)
    if not cmd.dry_run and (earlier := await _committed(session, caller, cmd, digest)):
        return ImportOutcome(earlier, replayed=True)
    return ImportOutcome(await _insert(session, caller, cmd, digest, status="QUEUED"))


def _allowed(caller: Caller, cmd: RunImport) -> None:
    require(caller, Permission.ADMIN, None, ["kind"])
    if cmd.kind is ImportKind.REPLENISHMENT_RULES:  # as setReplenishmentRules
        require(caller, Permission.STOCK_WRITE, None, ["kind"])
    if cmd.kind is ImportKind.SUPPLIER_PRODUCTS:  # as setSupplierProducts
        require(caller, Permission.COSTS_READ, None, ["kind"])
        require(caller, Permission.STOCK_WRITE, None, ["kind"])
    if cmd.kind is ImportKind.MEMBERS and cmd.master is None:
        raise InvalidInput("member imports need the personal-data key", ["kind"])


async def _committed(
    session: AsyncSession, caller: Caller, cmd: RunImport, digest: str
) -> Any | None:
    return (
        await session.execute(
            select(J).where(
                J.c.tenant_id == caller.tenant_id,
                J.c.kind == cmd.kind.value,
                J.c.file_hash == digest,
                J.c.status == "COMMITTED",
            )
        )
    ).first()


async def _insert(
    session: AsyncSession, caller: Caller, cmd: RunImport, digest: str, **values: Any
) -> Any:
    return (
        await session.execute(
            insert(J)
            .values(
                tenant_id=caller.tenant_id,
                kind=cmd.kind.value,
                file_name=cmd.file_name[:300],
                file_hash=digest,
                dry_run=cmd.dry_run,
                valid_only=cmd.valid_only,
                created_by=caller.subject,
                **values,
            )
            .returning(*J.c)
        )
    ).one()


async def _record(
    session: AsyncSession,
    caller: Caller,
    cmd: RunImport,
    digest: str,
    job_id: int | None,
    **values: Any,
) -> Any:
    """The finished job: a new row, or the queued one (``job_id``) brought up to date.

    A queued job's followers are woken by a NOTIFY sent in this transaction, so
    they hear of the final state exactly when it commits.
    """
    finished = {"phase": ImportPhase.DONE.value, "progress": 100, "finished_at": datetime.now(UTC)}
    if job_id is None:
        return await _insert(session, caller, cmd, digest, **finished, **values)
    row = (
        await session.execute(
            update(J)
            .where(J.c.tenant_id == caller.tenant_id, J.c.id == job_id)
            .values(**finished, **values)
            .returning(*J.c)
        )
    ).one()
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {
            "channel": JOB_CHANNEL,
            "payload": notify_payload(caller.tenant_id, JobKind.IMPORT, job_id),
        },
    )
    return row


async def _nothing(phase: ImportPhase, done: int, total: int | None, percent: int) -> None:
    return None


async def run_import(
    session: AsyncSession,
    caller: Caller,
    cmd: RunImport,
    progress: Progress = _nothing,
    job_id: int | None = None,
) -> ImportOutcome:
    """Check (and unless a dry run, write) one file; needs admin.

    ``progress`` hears of each phase and, every ``PROGRESS_EVERY`` rows, how far it
    got. With ``job_id`` (from ``queue_import``) that job is brought up to date
    instead of a new one being recorded.
    """
    _allowed(caller, cmd)
    digest = file_hash(cmd.path)
    if not cmd.dry_run:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:k, hashtext(:h))"), {"k": IMPORT_LOCK, "h": digest}
        )
        earlier = await _committed(session, caller, cmd, digest)
        if earlier is not None and job_id is None:
            return ImportOutcome(earlier, replayed=True)
        if earlier is not None:  # written by another job while this one waited
            problem = {
                "row": None,
                "column": None,
                "code": "ALREADY_IMPORTED",
                "value": None,
                "message": "this file was written by import job "
                + ids.encode("ImportJob", earlier.id),
            }
            row = await _record(
                session,
                caller,
                cmd,
                digest,
                job_id,
                status="REFUSED",
                error_count=1,
                errors=[problem],
            )
            return ImportOutcome(row)
    catalogue = await _catalogue(session, caller.tenant_id)
    # a dry run is all validation; otherwise validation is the first half
    checked_until = 99 if cmd.dry_run else WRITE_START
    try:
        opened, header, rows = _rows(cmd)
        errors: list[RowError] = []
        error_count = total = valid = 0
        validator = Validator(cmd.kind, header, catalogue)
        await progress(ImportPhase.VALIDATING, 0, None, 1)
        for number, cells in enumerate(rows, start=header.row + 1):
            values, problems = validator.check(number, cells)
            if values is None and not problems:
                continue
            total += 1
            if problems:
                error_count += len(problems)
                errors.extend(problems[: max(0, MAX_ERRORS - len(errors))])
            else:
                valid += 1
            if total % PROGRESS_EVERY == 0:
                share = opened.gauge.fraction() or 0.0
                await progress(
                    ImportPhase.VALIDATING, total, None, 1 + int(share * (checked_until - 1))
                )
    except SourceError as error:
        row = await _record(
            session,
            caller,
            cmd,
            digest,
            job_id,
            status="FAILED",
            error_count=1,
            errors=[
                {
                    "row": None,
                    "column": None,
                    "code": error.code,
                    "value": None,
                    "message": error.message,
                }
            ],
        )
        return ImportOutcome(row)
    base = {
        "format": opened.format,
        "encoding": opened.encoding,
        "header_row": header.row,
        "rows_total": total,
        "rows_valid": valid,
        "error_count": error_count,
        "errors": [e.to_json() for e in errors],
    }
    finished = {"done": total, "total": total}
    if cmd.dry_run:
        return ImportOutcome(
            await _record(
                session, caller, cmd, digest, job_id, status="VALIDATED", **finished, **base
            )
        )
    if error_count and not cmd.valid_only:
        return ImportOutcome(
            await _record(
                session, caller, cmd, digest, job_id, status="REFUSED", **finished, **base
            )
        )
    await progress(ImportPhase.WRITING, 0, valid, WRITE_START)
    written = await _write(session, caller, cmd, catalogue, progress, valid)
    row = await _record(
        session,
        caller,
        cmd,
        digest,
        job_id,
        status="COMMITTED",
        rows_written=written,
        done=written,
        total=valid,
        **base,
    )
    return ImportOutcome(row)


async def _write(
    session: AsyncSession,
    caller: Caller,
    cmd: RunImport,
    catalogue: Catalogue,
    progress: Progress,
    valid: int,
) -> int:
    """The second pass: the valid rows again, written in batches."""
    _, header, rows = _rows(cmd)
    validator = Validator(
        cmd.kind,
        header,
        Catalogue(dict(catalogue.locations), dict(catalogue.products), dict(catalogue.suppliers)),
    )
    batch: list[dict[str, Any]] = []
    written = 0
    for number, cells in enumerate(rows, start=header.row + 1):
        values, _ = validator.check(number, cells)
        if values is None:
            continue
        batch.append(values)
        if len(batch) >= BATCH:
            written += await write_batch(session, caller, cmd.kind, cmd.master, catalogue, batch)
            batch = []
            percent = WRITE_START + (99 - WRITE_START) * written // max(valid, 1)
            await progress(ImportPhase.WRITING, written, valid, percent)
    if batch:
        written += await write_batch(session, caller, cmd.kind, cmd.master, catalogue, batch)
    return written
