"""Exports of the ledger and of the levels, streamed row by row for any size.

Rows come from a server-side cursor in batches; the writer (CSV or
write-only XLSX) never holds more than a batch. Text cells are escaped so a
spreadsheet never runs them (``domain.reports.cells``).
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from domain.access import require
from domain.errors import InvalidInput
from domain.periods.service import tenant_zone
from domain.reports.cells import escape

MOVEMENT_HEADERS: tuple[str, ...] = (
    "sequence",
    "day",
    "occurred_at",
    "recorded_at",
    "posted_late",
    "location",
    "sku",
    "name_zh",
    "name_en",
    "kind",
    "reason",
    "delta",
    "on_hand_after",
    "unit_cost",
    "value",
    "unit_price",
    "reference",
    "actor",
)

_MOVEMENTS = text(
    """
    SELECT * FROM (
      SELECT m.sequence,
             COALESCE(s.posted_on, CAST(timezone(:zone, m.occurred_at) AS date)) AS day,
             m.occurred_at, m.recorded_at, s.posted_on IS NOT NULL AS posted_late,
             l.code AS location, p.sku, p.name_zh, p.name_en, m.kind, m.reason, m.delta,
             m.on_hand_after, m.unit_cost, m.delta * m.unit_cost AS value, m.unit_price,
             m.reference, m.actor
      FROM stock_movements m
      JOIN locations l ON l.tenant_id = m.tenant_id AND l.id = m.location_id
      JOIN products p ON p.tenant_id = m.tenant_id AND p.id = m.product_id
      LEFT JOIN sales s ON s.tenant_id = m.tenant_id AND s.id = m.sale_id
      WHERE m.tenant_id = :tenant
    ) x
    WHERE x.day BETWEEN :start AND :end
    ORDER BY x.sequence
    """
)

LEVEL_HEADERS: tuple[str, ...] = (
    "location",
    "sku",
    "name_zh",
    "name_en",
    "on_hand",
    "reserved",
    "in_transit",
    "average_cost",
    "stock_value",
)

_LEVELS = text(
    """
    SELECT l.code AS location, p.sku, p.name_zh, p.name_en, s.on_hand, s.reserved,
           s.in_transit, s.average_cost, s.stock_value
    FROM stock_levels s
    JOIN locations l ON l.tenant_id = s.tenant_id AND l.id = s.location_id
    JOIN products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
    WHERE s.tenant_id = :tenant
    ORDER BY l.code, p.sku
    """
)


def _cells(row: Sequence[Any]) -> list[Any]:
    return [escape(v) if isinstance(v, str) else v for v in row]


async def movement_rows(
    session: AsyncSession, caller: Caller, start: date, end: date
) -> AsyncIterator[list[Any]]:
    """The ledger's rows counted on days start..end (tenant time), in sequence order."""
    require(caller, Permission.COSTS_READ)
    if end < start:
        raise InvalidInput("the period ends before it starts", ["to"])
    zone = await tenant_zone(session, caller.tenant_id)
    result = await session.stream(
        _MOVEMENTS.execution_options(yield_per=1000),
        {"tenant": caller.tenant_id, "zone": zone.key, "start": start, "end": end},
    )
    async for row in result:
        yield _cells(row)


async def level_rows(session: AsyncSession, caller: Caller) -> AsyncIterator[list[Any]]:
    require(caller, Permission.COSTS_READ)
    result = await session.stream(
        _LEVELS.execution_options(yield_per=1000), {"tenant": caller.tenant_id}
    )
    async for row in result:
        yield _cells(row)


async def write_csv(out: IO[str], headers: Sequence[str], rows: AsyncIterator[list[Any]]) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    count = 0
    async for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        count += 1
    return count


async def write_xlsx(path: str, headers: Sequence[str], rows: AsyncIterator[list[Any]]) -> int:
    """A write-only workbook: rows go to disk as they come."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    ws = book.create_sheet("export")
    ws.freeze_panes = "A2"
    ws.append(list(headers))
    count = 0
    async for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
                cells.append(cell)
            elif isinstance(value, date):
                cells.append(value.isoformat() if not hasattr(value, "tzinfo") else str(value))
            else:
                cells.append(value)
        ws.append(cells)
        count += 1
    book.save(path)
    return count
