"""The stock movement report as a PDF: A4 landscape, both languages, the CJK font embedded.

The font is Noto Sans CJK (Hong Kong forms) from Debian's ``fonts-noto-cjk``
(``/usr/share/fonts/opentype/noto``), or the file ``STOCKGRAPH_CJK_FONT``
names; fpdf2 embeds the subset of glyphs used, so the PDF reads the same
everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from domain.reports.movements import MovementReport, ReportLine

FONT_PATHS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc"),
)
HK_FACE = 4  # Noto Sans CJK HK in the collection


class FontMissing(RuntimeError):
    """No CJK font: install Debian's fonts-noto-cjk or set STOCKGRAPH_CJK_FONT."""


def font_path() -> tuple[Path, int]:
    named = os.environ.get("STOCKGRAPH_CJK_FONT")
    if named:
        return Path(named), HK_FACE if named.endswith(".ttc") else 0
    for path in FONT_PATHS:
        if path.exists():
            return path, HK_FACE
    raise FontMissing("no CJK font: install fonts-noto-cjk or set STOCKGRAPH_CJK_FONT")


COLUMNS = (
    ("地點\nLocation", 18, "L"),
    ("貨號\nSKU", 24, "L"),
    ("品名\nName", 62, "L"),
    ("期初\nOpening", 18, "R"),
    ("入\nIn", 16, "R"),
    ("出\nOut", 16, "R"),
    ("調整\nAdjusted", 18, "R"),
    ("期末\nClosing", 18, "R"),
    ("期初成本\nOpening cost", 28, "R"),
    ("銷售成本\nCost of sales", 28, "R"),
    ("期末成本\nClosing cost", 28, "R"),
)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def _cells(line: ReportLine) -> list[str]:
    adjusted = sum(f.units for f in line.adjustments.values()) + line.stocktake.units
    return [
        line.location,
        line.sku,
        f"{line.name_zh} {line.name_en}",
        f"{line.opening.units:,}",
        f"{line.receipts.units + line.transfers_in.units + line.returns.units:,}",
        f"{-(line.sales.units + line.transfers_out.units):,}",
        f"{adjusted:,}",
        f"{line.closing.units:,}",
        _money(line.opening.value),
        _money(-line.sales.value),
        _money(line.closing.value),
    ]


def render(
    report: MovementReport, tenant_name: str, tick: Callable[[], object] = lambda: None
) -> bytes:
    """The PDF's bytes; ``tick`` is called after each line (progress)."""
    from fpdf import FPDF

    path, face = font_path()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", fname=str(path), collection_font_number=face)
    pdf.set_title("存貨變動報告 Stock movement report")

    def header() -> None:
        pdf.set_font("cjk", size=14)
        pdf.cell(
            0, 8, f"{tenant_name} 存貨變動報告 Stock movement report", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("cjk", size=9)
        pdf.cell(
            0,
            6,
            f"期間 Period: {report.start.isoformat()} – {report.end.isoformat()}    "
            f"貨幣 Currency: {report.currency}    成本 Cost: 移動加權平均 moving weighted average",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("cjk", size=7)
        y = pdf.get_y()
        x = pdf.l_margin
        for title, width, _ in COLUMNS:
            pdf.set_xy(x, y)
            pdf.multi_cell(width, 4, title, border="B", align="C")
            x += width
        pdf.set_xy(pdf.l_margin, y + 9)

    pdf.add_page()
    header()
    totals = [Decimal(0)] * 3
    for line in report.lines:
        if pdf.get_y() > pdf.h - 20:
            pdf.add_page()
            header()
        pdf.set_font("cjk", size=7)
        for (_, width, align), text in zip(COLUMNS, _cells(line), strict=True):
            pdf.cell(width, 5, text[:40], align=align)
        pdf.ln(5)
        totals[0] += line.opening.value
        totals[1] += -line.sales.value
        totals[2] += line.closing.value
        tick()
    pdf.set_font("cjk", size=8)
    pdf.cell(sum(w for _, w, _ in COLUMNS[:8]), 7, "總計 Total", border="T")
    for value, (_, width, _) in zip(totals, COLUMNS[8:], strict=True):
        pdf.cell(width, 7, _money(value), border="T", align="R")
    pdf.ln(7)
    pdf.set_font("cjk", size=7)
    pdf.cell(
        0,
        5,
        f"共 {len(report.lines)} 項 · {len(report.lines)} lines",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
