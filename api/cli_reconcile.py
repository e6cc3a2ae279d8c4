"""``stockgraph reconcile alipayhk|octopus FILE --tenant T``: import a settlement file.

A progress bar goes to stderr; stdout gets one JSON summary: the run, whether it
was new (the same file again is the same run), counts per status and the
totals per business day, location and method. ``--xlsx PATH`` also writes the
run's lines as a workbook with Chinese and English headers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

reconcile_app = typer.Typer(help="Settlement reconciliation.", no_args_is_help=True)


def _reconcile(fmt: str, path: Path, tenant: str, xlsx: Path | None) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from api.cli import _system, _tenant, emit, fail, run  # here: api.cli imports this module
    from domain import ids
    from domain.audit.service import append
    from domain.reconciliation import service

    try:
        content = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")

    async def go(db: Any) -> dict[str, Any]:
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        with progress:
            task = progress.add_task(f"reconciling {path.name}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            async with db.owner_transaction() as s:
                t = await _tenant(s, tenant)
            caller = _system(t.tenant_id)
            async with db.tenant_transaction(t.tenant_id) as s:
                result = await service.import_settlement(
                    s,
                    caller,
                    service.ImportSettlement(format=fmt, file_name=path.name, content=content),
                    progress=advance,
                )
                await append(s, caller, service.audit_entry(result))
                if xlsx is not None:
                    await _write_xlsx(s, caller, result.run, xlsx)
            if not result.created:
                progress.update(task, completed=1, total=1)
        run_row = result.run
        return {
            "run": ids.encode("ReconciliationRun", run_row.id),
            "created": result.created,
            "format": run_row.format,
            "file_hash": run_row.file_hash,
            "period": [str(run_row.period_start), str(run_row.period_end)],
            "rows": run_row.rows,
            "counts": run_row.summary["counts"],
            "totals": run_row.summary["totals"],
            "xlsx": str(xlsx) if xlsx is not None else None,
        }

    emit(run(go))


async def _write_xlsx(session: Any, caller: Any, run_row: Any, target: Path) -> None:
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from db.models import Location, Tenant
    from domain.reconciliation import service
    from domain.reconciliation.export import workbook

    lines = (await service.list_lines(session, caller, run_row.id, limit=None, after=None)).rows
    codes = {
        r.id: r.code
        for r in await session.execute(
            select(Location.id, Location.code).where(Location.tenant_id == caller.tenant_id)
        )
    }
    zone = (
        await session.execute(select(Tenant.timezone).where(Tenant.tenant_id == caller.tenant_id))
    ).scalar_one()
    await asyncio.to_thread(target.write_bytes, workbook(run_row, lines, codes, ZoneInfo(zone)))


FILE = typer.Argument(..., exists=True, dir_okay=False, help="The settlement CSV.")
TENANT = typer.Option(..., help="The tenant's code.")
XLSX = typer.Option(None, help="Also write the lines as an XLSX workbook here.")


@reconcile_app.command("alipayhk")
def reconcile_alipayhk(path: Path = FILE, tenant: str = TENANT, xlsx: Path | None = XLSX) -> None:
    """Import an AlipayHK settlement or transaction CSV as AlipayHK publishes it."""
    _reconcile("ALIPAYHK", path, tenant, xlsx)


@reconcile_app.command("octopus")
def reconcile_octopus(path: Path = FILE, tenant: str = TENANT, xlsx: Path | None = XLSX) -> None:
    """Import an Octopus settlement CSV in stockgraph's layout (docs/reconciliation.md)."""
    _reconcile("OCTOPUS", path, tenant, xlsx)
