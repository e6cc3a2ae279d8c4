"""Importing a settlement file: parse it whole, match it, keep one run of outcomes.

**Idempotent on the file.** A run is keyed by (tenant, format, SHA-256 of the
bytes): the same file again returns the run it made, and changes nothing.

**A corrected file supersedes.** A new run of the same format whose period
(the transactions' first to last business day) overlaps a current run marks
that run SUPERSEDED, pointing at the new one; its lines stay for the record,
and lists and the workbench read current runs.

**Nothing half-imported.** The file is parsed and checked completely before
the first row is written, and everything is written in the caller's one
transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import ReconciliationLine, ReconciliationRun, Tenant
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.errors import InvalidInput
from domain.pagination import Page, make_page
from domain.reconciliation.formats import METHODS, PARSERS, ParseError, SettlementRow
from domain.reconciliation.matching import LineStatus, Outcome, PosTender, match

R = ReconciliationRun.__table__
L = ReconciliationLine.__table__
CHUNK = 1000

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ImportSettlement:
    format: str
    file_name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class ImportResult:
    run: Any
    created: bool


# A voided sale's payment and its reversal cancel out: they take part only when the
# file names them (a provider's CANCEL row), never as missing from the settlement.
_TENDERS = text(
    """
    SELECT * FROM (
      SELECT t.id, t.amount, t.occurred_at, t.location_id, t.provider_reference, t.terminal_id,
        s.status AS sale_status,
        CASE WHEN t.reversal_id IS NOT NULL THEN (
          SELECT p.provider_reference FROM pos_tenders p
          WHERE p.tenant_id = t.tenant_id AND p.pos_sale_id = t.pos_sale_id
            AND p.reversal_id IS NULL AND p.method = t.method
          ORDER BY p.position LIMIT 1) END AS original_reference
      FROM pos_tenders t
      JOIN pos_sales s ON s.tenant_id = t.tenant_id AND s.id = t.pos_sale_id
      WHERE t.tenant_id = :t AND t.method = :method
        AND ((t.occurred_at >= :start AND t.occurred_at < :end)
             OR t.provider_reference = ANY(CAST(:refs AS text[])))
    ) c
    WHERE c.sale_status <> 'VOIDED'
       OR c.provider_reference = ANY(CAST(:refs AS text[]))
       OR c.original_reference = ANY(CAST(:refs AS text[]))
    """
)


def parse(fmt: str, content: bytes) -> list[SettlementRow]:
    """The rows of a file, or INVALID naming the line and column at fault."""
    parser = PARSERS.get(fmt)
    if parser is None:
        raise InvalidInput(f"unknown format {fmt!r}", ["format"])
    try:
        rows = parser(content)
    except ParseError as exc:
        raise InvalidInput(str(exc), ["content"], details={"line": exc.line}) from None
    if not rows:
        raise InvalidInput("the file holds no settled transaction", ["content"])
    return rows


async def _tenant(session: AsyncSession, caller: Caller) -> Any:
    return (
        await session.execute(
            select(Tenant.currency, Tenant.timezone).where(Tenant.tenant_id == caller.tenant_id)
        )
    ).one()


async def import_settlement(
    session: AsyncSession,
    caller: Caller,
    cmd: ImportSettlement,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    require(caller, Permission.ADMIN)
    name = cmd.file_name.strip()
    if not 0 < len(name) <= 300:
        raise InvalidInput("fileName must be 1 to 300 characters", ["fileName"])
    digest = hashlib.sha256(cmd.content).hexdigest()
    known = (
        await session.execute(
            select(R).where(
                R.c.tenant_id == caller.tenant_id,
                R.c.format == cmd.format,
                R.c.file_hash == digest,
            )
        )
    ).first()
    if known is not None:
        return ImportResult(run=known, created=False)
    rows = parse(cmd.format, cmd.content)
    tenant = await _tenant(session, caller)
    zone = ZoneInfo(tenant.timezone)
    for row in rows:
        if row.currency is not None and row.currency != tenant.currency:
            column = "Currency" if cmd.format == "ALIPAYHK" else "amount"
            raise InvalidInput(
                f"line {row.line}, column {column}: {row.currency} is not the tenant's "
                f"currency {tenant.currency}",
                ["content"],
                details={"line": row.line},
            )
    days = [r.occurred_at.astimezone(zone).date() for r in rows]
    period = (min(days), max(days))
    method = METHODS[cmd.format]
    start = datetime.combine(period[0] - timedelta(days=1), time(), zone)
    end = datetime.combine(period[1] + timedelta(days=2), time(), zone)
    tenders = [
        PosTender(
            id=t.id,
            amount=t.amount,
            occurred_at=t.occurred_at,
            business_date=t.occurred_at.astimezone(zone).date(),
            location_id=t.location_id,
            reference=t.provider_reference,
            original_reference=t.original_reference,
            terminal_id=t.terminal_id,
        )
        for t in await session.execute(
            _TENDERS,
            {
                "t": caller.tenant_id,
                "method": method,
                "start": start,
                "end": end,
                "refs": sorted(
                    {r.reference for r in rows if r.reference is not None}
                    | {r.original_reference for r in rows if r.original_reference is not None}
                ),
            },
        )
    ]
    outcomes = match(rows, tenders, period)
    summary = summarize(outcomes, method, zone)
    run = (
        await session.execute(
            insert(ReconciliationRun)
            .values(
                tenant_id=caller.tenant_id,
                format=cmd.format,
                file_name=name,
                file_hash=digest,
                status="CURRENT",
                period_start=period[0],
                period_end=period[1],
                rows=len(rows),
                summary=summary,
                created_by=caller.subject,
            )
            .returning(*R.c)
        )
    ).one()
    await session.execute(
        update(ReconciliationRun)
        .where(
            R.c.tenant_id == caller.tenant_id,
            R.c.format == cmd.format,
            R.c.status == "CURRENT",
            R.c.id != run.id,
            R.c.period_start <= period[1],
            R.c.period_end >= period[0],
        )
        .values(status="SUPERSEDED", superseded_by_id=run.id)
    )
    values = [_line(caller.tenant_id, run.id, method, o, zone) for o in outcomes]
    for i in range(0, len(values), CHUNK):
        await session.execute(insert(ReconciliationLine), values[i : i + CHUNK])
        if progress is not None:
            progress(min(i + CHUNK, len(values)), len(values))
    return ImportResult(run=run, created=True)


def _line(tenant_id: int, run_id: int, method: str, o: Outcome, zone: ZoneInfo) -> dict[str, Any]:
    row, tender = o.row, o.tender
    when = row.occurred_at if row is not None else tender.occurred_at if tender else None
    return {
        "tenant_id": tenant_id,
        "run_id": run_id,
        "status": o.status.value,
        "method": method,
        "location_id": tender.location_id if tender is not None else None,
        "business_date": when.astimezone(zone).date() if when is not None else None,
        "line_number": row.line if row is not None else None,
        "transaction_type": row.kind if row is not None else None,
        "provider_reference": row.reference
        if row is not None
        else tender.reference
        if tender
        else None,
        "terminal_id": row.terminal_id
        if row is not None and row.terminal_id
        else tender.terminal_id
        if tender
        else None,
        "occurred_at": when,
        "pos_amount": tender.amount if tender is not None else None,
        "settled_amount": row.amount if row is not None else None,
        "fee": row.fee if row is not None else None,
        "net": row.net if row is not None else None,
        "tender_id": tender.id if tender is not None else None,
        "note": o.note,
    }


def summarize(outcomes: list[Outcome], method: str, zone: ZoneInfo) -> dict[str, Any]:
    """Counts per status; gross, fees and net per business day, location and method."""
    counts: dict[str, int] = {s.value: 0 for s in LineStatus}
    totals: dict[tuple[str, int | None], list[Decimal]] = defaultdict(
        lambda: [Decimal("0"), Decimal("0"), Decimal("0"), Decimal("0")]
    )
    for o in outcomes:
        counts[o.status.value] += 1
        if o.row is None or o.status is LineStatus.DUPLICATE:
            continue
        day = o.row.occurred_at.astimezone(zone).date().isoformat()
        key = (day, o.tender.location_id if o.tender is not None else None)
        t = totals[key]
        t[0] += o.row.amount
        t[1] += o.row.fee
        t[2] += o.row.net
        t[3] += 1
    return {
        "counts": counts,
        "totals": [
            {
                "date": day,
                "location_id": loc,
                "method": method,
                "gross": str(t[0]),
                "fee": str(t[1]),
                "net": str(t[2]),
                "rows": int(t[3]),
            }
            for (day, loc), t in sorted(totals.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))
        ],
    }


async def list_runs(
    session: AsyncSession, caller: Caller, *, limit: int, after: int | None, fmt: str | None
) -> Page[Any]:
    """Newest first."""
    stmt = select(R).where(R.c.tenant_id == caller.tenant_id)
    if fmt is not None:
        stmt = stmt.where(R.c.format == fmt)
    if after is not None:
        stmt = stmt.where(R.c.id < after)
    rows = (await session.execute(stmt.order_by(R.c.id.desc()).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


async def list_lines(
    session: AsyncSession,
    caller: Caller,
    run_id: int,
    *,
    limit: int | None,
    after: int | None,
    status: str | None = None,
    location_id: int | None = None,
    unmatched_current: bool = False,
) -> Page[Any]:
    """A run's lines in file order, then the tenders missing from it."""
    stmt = select(L).where(L.c.tenant_id == caller.tenant_id)
    if unmatched_current:
        current = select(R.c.id).where(R.c.tenant_id == caller.tenant_id, R.c.status == "CURRENT")
        stmt = stmt.where(L.c.run_id.in_(current), L.c.status != "MATCHED")
    else:
        stmt = stmt.where(L.c.run_id == run_id)
    if status is not None:
        stmt = stmt.where(L.c.status == status)
    if location_id is not None:
        stmt = stmt.where(L.c.location_id == location_id)
    if after is not None:
        stmt = stmt.where(L.c.id > after)
    stmt = stmt.order_by(L.c.id)
    if limit is None:
        return Page(
            rows=list((await session.execute(stmt)).all()), has_next=False, has_previous=False
        )
    rows = (await session.execute(stmt.limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


async def run_row(session: AsyncSession, caller: Caller, run_id: int | None) -> Any | None:
    if run_id is None:
        return None
    return (
        await session.execute(select(R).where(R.c.tenant_id == caller.tenant_id, R.c.id == run_id))
    ).first()


def audit_entry(result: ImportResult) -> AuditEntry:
    run = result.run
    return AuditEntry(
        action="reconciliation.import",
        target_type="ReconciliationRun",
        target_id=ids.encode("ReconciliationRun", run.id),
        after={
            "format": run.format,
            "fileName": run.file_name,
            "fileHash": run.file_hash,
            "created": result.created,
            "counts": run.summary.get("counts"),
        },
    )
