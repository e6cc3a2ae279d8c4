"""The stock movement report as an XLSX workbook.

Headers in Traditional Chinese and English (one cell, two lines), numbers as
numbers (never text), the header row frozen, and every subtotal and total a
``SUBTOTAL(9, …)`` formula over the rows above it, so an auditor can re-add
them; nested subtotals are ignored by SUBTOTAL, so totals never double count.
Text from the catalogue is written as text, never as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from domain.reports.movements import REASONS, MovementReport, ReportLine

UNITS = "#,##0;-#,##0"
MONEY = "#,##0.00;-#,##0.00"
REASON_NAMES = {
    "COUNT_CORRECTION": ("盤點更正", "Count correction"),
    "DAMAGE": ("損壞", "Damage"),
    "THEFT": ("失竊", "Theft"),
    "FOUND": ("尋回", "Found"),
    "OTHER": ("其他", "Other"),
}


@dataclass(frozen=True, slots=True)
class NumberColumn:
    zh: str
    en: str
    value: Callable[[ReportLine], Any]
    format: str


def _columns() -> list[NumberColumn]:
    def pair(
        zh: str, en: str, pick: Callable[[ReportLine], Any], sign: int = 1
    ) -> list[NumberColumn]:
        return [
            NumberColumn(f"{zh}數量", f"{en} units", lambda ln: sign * pick(ln).units, UNITS),
            NumberColumn(f"{zh}成本", f"{en} at cost", lambda ln: sign * pick(ln).value, MONEY),
        ]

    columns = [
        *pair("期初", "Opening", lambda ln: ln.opening),
        *pair("入貨", "Receipts", lambda ln: ln.receipts),
        *pair("調入", "Transfers in", lambda ln: ln.transfers_in),
        *pair("調出", "Transfers out", lambda ln: ln.transfers_out, -1),
        *pair("銷售", "Sales", lambda ln: ln.sales, -1),
        NumberColumn("銷售收入", "Sales revenue", lambda ln: ln.revenue, MONEY),
        *pair("退貨", "Returns", lambda ln: ln.returns),
    ]
    for reason in REASONS:
        zh, en = REASON_NAMES[reason]
        columns += pair(zh, en, lambda ln, r=reason: ln.adjustments[r])  # type: ignore[misc]
    columns += [
        *pair("盤點差異", "Stocktake difference", lambda ln: ln.stocktake),
        *pair("期末", "Closing", lambda ln: ln.closing),
    ]
    return columns


TEXT_HEADERS = [("地點", "Location"), ("貨號", "SKU"), ("品名", "Name"), ("類別", "Category")]


def _text(ws: Any, value: str) -> Any:
    from openpyxl.cell.cell import Cell

    cell = Cell(ws, value=value)
    cell.data_type = "s"  # a name that begins with "=" stays a name
    return cell


def render(report: MovementReport, tick: Callable[[], object] = lambda: None) -> bytes:
    """The workbook's bytes; ``tick`` is called after each line (progress)."""
    from openpyxl import Workbook  # here: only report builds need it
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    columns = _columns()
    book = Workbook()
    ws = book.active
    ws.title = "存貨變動 Stock movements"
    headers = [f"{zh}\n{en}" for zh, en in TEXT_HEADERS] + [f"{c.zh}\n{c.en}" for c in columns]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "E2"
    first_number = len(TEXT_HEADERS) + 1
    last = len(headers)

    bold = Font(bold=True)
    at = 1  # the last row written (openpyxl's max_row scans every cell: never ask it)

    def number(value: Any, fmt: str, *, strong: bool = False) -> Cell:
        cell = Cell(ws, value=value)
        cell.number_format = fmt
        if strong:
            cell.font = bold
        return cell

    def subtotal(label: str, top: int, bottom: int) -> None:
        nonlocal at
        title = _text(ws, label)
        title.font = bold
        row: list[Any] = [title, "", "", ""] + [
            number(
                f"=SUBTOTAL(9,{get_column_letter(i)}{top}:{get_column_letter(i)}{bottom})",
                columns[i - first_number].format,
                strong=True,
            )
            for i in range(first_number, last + 1)
        ]
        ws.append(row)
        at += 1

    grand_top = 2
    for location, location_lines in groupby(report.lines, key=lambda ln: ln.location):
        location_top = at + 1
        for category, lines in groupby(location_lines, key=lambda ln: ln.category):
            top = at + 1
            for line in lines:
                row: list[Any] = [
                    _text(ws, line.location),
                    _text(ws, line.sku),
                    _text(ws, f"{line.name_zh} {line.name_en}"),
                    _text(ws, line.category),
                ]
                row += [number(c.value(line), c.format) for c in columns]
                ws.append(row)
                at += 1
                tick()
            subtotal(f"小計 Subtotal {category or '—'}", top, at)
        subtotal(f"合計 Total {location}", location_top, at)
    if at >= grand_top:
        subtotal("總計 Grand total", grand_top, at)
    for i in range(1, last + 1):
        ws.column_dimensions[get_column_letter(i)].width = 16 if i > 3 else 14
    ws.column_dimensions["C"].width = 30
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
