"""A run's lines as an XLSX workbook, headers in Chinese and English."""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

HEADERS = (
    ("status", "狀態 Status"),
    ("method", "付款方式 Method"),
    ("business_date", "營業日 Business date"),
    ("location", "分店 Location"),
    ("line_number", "檔案行號 File line"),
    ("transaction_type", "交易類型 Type"),
    ("provider_reference", "交易編號 Reference"),
    ("terminal_id", "讀卡器/終端 Reader/terminal"),
    ("occurred_at", "交易時間 Time"),
    ("pos_amount", "收銀機金額 POS amount"),
    ("settled_amount", "結算金額 Settled amount"),
    ("fee", "手續費 Fee"),
    ("net", "淨額 Net"),
    ("note", "備註 Note"),
)
TOTAL_HEADERS = (
    "營業日 Business date",
    "分店 Location",
    "付款方式 Method",
    "總額 Gross",
    "手續費 Fee",
    "淨額 Net",
    "筆數 Rows",
)


def workbook(
    run: Any, lines: Iterable[Any], location_codes: dict[int, str], zone: ZoneInfo
) -> bytes:
    """Sheet 1 the lines (times in the tenant's zone), sheet 2 the totals per day,
    location and method."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Lines 明細"
    sheet.append([label for _, label in HEADERS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in lines:
        values = []
        for key, _ in HEADERS:
            if key == "location":
                value: Any = location_codes.get(line.location_id, "") if line.location_id else ""
            else:
                value = getattr(line, key)
            if hasattr(value, "tzinfo") and value.tzinfo is not None:
                value = value.astimezone(zone).replace(tzinfo=None)
            values.append(value)
        sheet.append(values)
    totals = book.create_sheet("Totals 匯總")
    totals.append(list(TOTAL_HEADERS))
    for cell in totals[1]:
        cell.font = Font(bold=True)
    for t in run.summary.get("totals", []):
        loc = t.get("location_id")
        totals.append(
            [
                t["date"],
                location_codes.get(loc, "") if loc else "",
                t["method"],
                Decimal(t["gross"]),
                Decimal(t["fee"]),
                Decimal(t["net"]),
                t["rows"],
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
