"""``stockgraph import KIND FILE --tenant T [--dry-run]``: one JSON summary on stdout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def import_file(
    kind: str = typer.Argument(
        ...,
        help="products, suppliers, supplier-products, opening-stock, replenishment-rules, members",
    ),
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="A .csv or .xlsx file."
    ),
    tenant: str = typer.Option(..., help="The tenant's code."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row; change nothing."),
    valid_only: bool = typer.Option(
        False, "--valid-only", help="Write the valid rows even when others have errors."
    ),
    encoding: str | None = typer.Option(
        None, help="CSV encoding: utf-8, utf-8-sig, utf-16, big5, big5hkscs (default: detected)"
    ),
    sheet: str | None = typer.Option(None, help="XLSX sheet (default: the first)"),
) -> None:
    """Import a CSV or XLSX file through the validation layer (exit 1 if rows were refused)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn

    from api.cli import _system, _tenant, emit, fail, run  # here: api.cli registers this
    from api.settings import Settings
    from domain.audit.service import append
    from domain.imports.columns import ImportKind
    from domain.imports.service import ImportPhase, RunImport, run_import

    try:
        chosen = ImportKind(kind.upper().replace("-", "_"))
    except ValueError:
        fail(
            f"unknown kind {kind!r}: products, suppliers, supplier-products, opening-stock, "
            "replenishment-rules, members"
        )
    cmd = RunImport(
        kind=chosen,
        path=file,
        file_name=file.name,
        dry_run=dry_run,
        valid_only=valid_only,
        encoding=encoding,
        sheet=sheet,
        master=Settings().data_key_bytes() if chosen is ImportKind.MEMBERS else None,
    )
    console = Console(stderr=True)

    async def go(db: Any) -> dict[str, Any]:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("reading", total=100)
            shown: list[ImportPhase] = []

            async def progress(
                phase: ImportPhase, rows: int, total: int | None, percent: int
            ) -> None:
                of = f" of {total:,}" if total is not None else ""
                bar.update(
                    task, completed=percent, description=f"{phase.lower()} {rows:,}{of} rows"
                )
                if phase not in shown:  # a phase quicker than a refresh is still seen
                    shown.append(phase)
                    bar.refresh()

            async with db.owner_transaction() as s:
                t = await _tenant(s, tenant)
                caller = _system(t.tenant_id)
                outcome = await run_import(s, caller, cmd, progress)
                await append(s, caller, outcome.audit())
        return outcome.summary()

    summary = run(go)
    emit(summary)
    if summary["status"] in ("REFUSED", "FAILED") or (
        summary["status"] == "VALIDATED" and summary["errorCount"]
    ):
        raise typer.Exit(1)
