"""The stocktake record: every line of the stocktakes posted in a period, as documents.

Counts, differences at cost (the average the STOCKTAKE movement moved at), who
counted each line and who approved (posted) the stocktake. Rendered as XLSX
(bilingual headers, numbers, frozen header, SUBTOTAL per stocktake and in all)
and as an A4 PDF with the CJK font embedded.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from domain.access import require
from domain.periods.service import tenant_zone

_LINES = text(
    """
    SELECT t.id AS stocktake_id, t.kind, l.code AS location, t.started_by, t.started_at,
           t.posted_by, t.posted_at, p.sku, p.name_zh, p.name_en,
           sl.expected_at_count, sl.counted_quantity, sl.variance, sl.unit_cost,
           sl.variance * sl.unit_cost AS variance_cost, sl.counted_by, sl.counted_at
    FROM stocktakes t
    JOIN stocktake_lines sl ON sl.tenant_id = t.tenant_id AND sl.stocktake_id = t.id
    JOIN products p ON p.tenant_id = t.tenant_id AND p.id = sl.product_id
    JOIN locations l ON l.tenant_id = t.tenant_id AND l.id = t.location_id
    WHERE t.tenant_id = :tenant AND t.status = 'POSTED' AND sl.counted_quantity IS NOT NULL
      AND CAST(timezone(:zone, t.posted_at) AS date) BETWEEN :start AND :end
      AND (CAST(:locations AS bigint[]) IS NULL
           OR t.location_id = ANY(CAST(:locations AS bigint[])))
    ORDER BY t.posted_at, t.id, p.sku
    """
)

HEADERS = [
    ("盤點單", "Stocktake"),
    ("地點", "Location"),
    ("點算人", "Counted by"),
    ("批准人", "Approved by"),
    ("批准時間", "Approved at"),
    ("貨號", "SKU"),
    ("品名", "Name"),
    ("應有數量", "Expected"),
    ("實點數量", "Counted"),
    ("差異", "Difference"),
    ("單位成本", "Unit cost"),
    ("差異成本", "Difference at cost"),
]
FIRST_NUMBER = 8  # column H


@dataclass(frozen=True, slots=True)
class StocktakeRecord:
    start: date
    end: date
    zone: str
    lines: list[Any]


async def stocktake_record(
    session: AsyncSession,
    caller: Caller,
    start: date,
    end: date,
    location_ids: tuple[int, ...] | None,
) -> StocktakeRecord:
    require(caller, Permission.COSTS_READ)
    zone = await tenant_zone(session, caller.tenant_id)
    rows = await session.execute(
        _LINES,
        {
            "tenant": caller.tenant_id,
            "zone": zone.key,
            "start": start,
            "end": end,
            "locations": list(location_ids) if location_ids is not None else None,
        },
    )
    return StocktakeRecord(start, end, zone.key, list(rows))


def _values(line: Any, zone: str) -> list[Any]:
    from zoneinfo import ZoneInfo

    approved = line.posted_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    return [
        f"ST-{line.stocktake_id}",
        line.location,
        line.counted_by or "",
        line.posted_by or "",
        approved,
        line.sku,
        f"{line.name_zh} {line.name_en}",
        line.expected_at_count,
        line.counted_quantity,
        line.variance,
        line.unit_cost,
        line.variance_cost,
    ]


def render_xlsx(record: StocktakeRecord, tick: Callable[[], object] = lambda: None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = "盤點記錄 Stocktake record"
    ws.append([f"{zh}\n{en}" for zh, en in HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    last = len(HEADERS)

    bold = Font(bold=True)
    at = 1  # the last row written (openpyxl's max_row scans every cell: never ask it)
    formats = {last - 1: "#,##0.0000", last: "#,##0.00;-#,##0.00"}

    def subtotal(label: str, top: int, bottom: int) -> None:
        nonlocal at
        cells: list[Any] = [label, *[""] * (FIRST_NUMBER - 2)]
        for i in range(FIRST_NUMBER, last + 1):
            summed = i in (FIRST_NUMBER, FIRST_NUMBER + 1, FIRST_NUMBER + 2, last)
            letter = get_column_letter(i)
            cell = Cell(
                ws, value=f"=SUBTOTAL(9,{letter}{top}:{letter}{bottom})" if summed else None
            )
            cell.font = bold
            cell.number_format = formats.get(i, "General")
            cells.append(cell)
        ws.append(cells)
        at += 1

    for stocktake, lines in groupby(record.lines, key=lambda ln: ln.stocktake_id):
        top = at + 1
        for line in lines:
            cells = []
            for i, value in enumerate(_values(line, record.zone), start=1):
                cell = Cell(ws, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                cell.number_format = formats.get(i, "General")
                cells.append(cell)
            ws.append(cells)
            at += 1
            tick()
        subtotal(f"小計 Subtotal ST-{stocktake}", top, at)
    if at >= 2:
        subtotal("總計 Grand total", 2, at)
    for i in range(1, last + 1):
        ws.column_dimensions[get_column_letter(i)].width = 28 if i == 7 else 14
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render_pdf(
    record: StocktakeRecord, tenant_name: str, tick: Callable[[], object] = lambda: None
) -> bytes:
    from fpdf import FPDF

    from domain.reports.pdf import font_path

    path, face = font_path()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", fname=str(path), collection_font_number=face)
    widths = (18, 14, 26, 26, 26, 22, 58, 16, 16, 16, 20, 24)
    pdf.add_page()
    pdf.set_font("cjk", size=14)
    pdf.cell(0, 8, f"{tenant_name} 盤點記錄 Stocktake record", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    period = f"{record.start.isoformat()} – {record.end.isoformat()}"
    pdf.cell(0, 6, f"期間 Period: {period}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=7)
    y, x = pdf.get_y(), pdf.l_margin
    for (zh, en), width in zip(HEADERS, widths, strict=True):
        pdf.set_xy(x, y)
        pdf.multi_cell(width, 4, f"{zh}\n{en}", border="B", align="C")
        x += width
    pdf.set_xy(pdf.l_margin, y + 9)
    total = Decimal(0)
    for line in record.lines:
        values = _values(line, record.zone)
        for i, (value, width) in enumerate(zip(values, widths, strict=True)):
            shown = "" if value is None else str(value)
            if i == 10 and value is not None:
                shown = f"{value:.4f}"
            if i == 11 and value is not None:
                shown = f"{value:,.2f}"
            pdf.cell(width, 5, shown[:40], align="R" if i >= 7 else "L")
        pdf.ln(5)
        total += line.variance_cost or 0
        tick()
    pdf.set_font("cjk", size=8)
    pdf.cell(sum(widths[:-1]), 7, "總計 Total", border="T")
    pdf.cell(widths[-1], 7, f"{total:,.2f}", border="T", align="R")
    pdf.ln(12)
    pdf.cell(0, 6, "核對人簽署 Checked by: ____________________    日期 Date: ____________")
    return bytes(pdf.output())
