"""``stockgraph export movements|levels``: the ledger or the levels, streamed as CSV or XLSX.

CSV goes to stdout (or ``--output``); XLSX needs ``--output``, and then one JSON
object describing the file is printed on stdout.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

import typer

export_app = typer.Typer(help="Exports (streamed, any size).", no_args_is_help=True)


def _day(value: str, name: str) -> date:
    from api.cli import fail

    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--{name} must be a date, YYYY-MM-DD")


def _export(tenant: str, kind: str, fmt: str, output: str | None, **dates: date) -> None:
    from api.cli import _system, _tenant, emit, fail, run
    from domain.reports import export

    if fmt not in ("csv", "xlsx"):
        fail("--format is csv or xlsx")
    if fmt == "xlsx" and output is None:
        fail("an XLSX export needs --output FILE")

    async def go(db: Any) -> int:
        async with db.owner_transaction() as s:
            caller = _system((await _tenant(s, tenant)).tenant_id)
            if kind == "movements":
                headers, rows = export.MOVEMENT_HEADERS, export.movement_rows(s, caller, **dates)
            else:
                headers, rows = export.LEVEL_HEADERS, export.level_rows(s, caller)
            if fmt == "xlsx":
                assert output is not None
                return await export.write_xlsx(output, headers, rows)
            if output is None:
                return await export.write_csv(sys.stdout, headers, rows)
            with open(output, "w", encoding="utf-8-sig", newline="") as f:  # noqa: ASYNC230 (a CLI: nothing else runs)
                return await export.write_csv(f, headers, rows)

    count = run(go)
    if output is not None:
        emit({"file": output, "format": fmt, "rows": count})


@export_app.command("movements")
def export_movements(
    tenant: str = typer.Option(..., help="The tenant's code."),
    start: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD (tenant time)."),
    end: str = typer.Option(..., "--to", help="Last day, YYYY-MM-DD (tenant time)."),
    fmt: str = typer.Option("csv", "--format", help="csv or xlsx (xlsx needs --output)."),
    output: str | None = typer.Option(None, help="Write to this file instead of stdout."),
) -> None:
    """The ledger's movements counted on the days given, in sequence order, with cost."""
    _export(tenant, "movements", fmt, output, start=_day(start, "from"), end=_day(end, "to"))


@export_app.command("levels")
def export_levels(
    tenant: str = typer.Option(..., help="The tenant's code."),
    fmt: str = typer.Option("csv", "--format", help="csv or xlsx (xlsx needs --output)."),
    output: str | None = typer.Option(None, help="Write to this file instead of stdout."),
) -> None:
    """Every stock level now, with its average cost and value."""
    _export(tenant, "levels", fmt, output)
