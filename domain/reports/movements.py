"""The stock movement report: per SKU and location, opening to closing, valued at cost.

Every figure is a sum over the ledger (``delta`` and ``delta × unit_cost``),
so the report reconciles with the levels to the cent. A movement counts on its
day in the tenant's time zone, except a late offline sale, which counts on the
day it was posted to (``sales.posted_on``, see ``domain.periods``). Because no
movement can be added on a closed day, the report of a closed period never
changes.

Columns (units, and value at cost):
- opening: everything before the first day;
- receipts: RECEIPT and OPENING movements; transfers in and out;
- sales: units sold (net of none), cost of goods sold, and revenue (units × price);
- returns: RETURN movements;
- adjustments and losses by reason: COUNT_CORRECTION, DAMAGE, THEFT, FOUND, OTHER;
- stocktake: STOCKTAKE differences;
- closing: opening plus all of the above.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from domain.access import require
from domain.errors import InvalidInput
from domain.periods.service import tenant_zone

REASONS = ("COUNT_CORRECTION", "DAMAGE", "THEFT", "FOUND", "OTHER")
MAX_DAYS = 400

_QUERY = text(
    """
    WITH m AS (
      SELECT m.location_id, m.product_id, m.kind, COALESCE(m.reason, 'OTHER') AS reason,
             m.delta, m.delta * COALESCE(m.unit_cost, 0) AS value,
             -m.delta * COALESCE(m.unit_price, 0) AS revenue,
             COALESCE(s.posted_on, CAST(timezone(:zone, m.occurred_at) AS date)) AS day
      FROM stock_movements m
      LEFT JOIN sales s ON s.tenant_id = m.tenant_id AND s.id = m.sale_id
      WHERE m.tenant_id = :tenant
        AND (CAST(:locations AS bigint[]) IS NULL
             OR m.location_id = ANY(CAST(:locations AS bigint[])))
        AND (CAST(:upto AS bigint) IS NULL OR m.sequence <= CAST(:upto AS bigint))
    )
    SELECT l.code AS location, l.name_zh AS location_zh, l.name_en AS location_en,
           p.sku, p.name_zh, p.name_en, COALESCE(p.category, '') AS category,
           m.kind, m.reason, m.day >= :start AS in_period,
           SUM(m.delta) AS units, SUM(m.value) AS value, SUM(m.revenue) AS revenue
    FROM m
    JOIN locations l ON l.tenant_id = :tenant AND l.id = m.location_id
    JOIN products p ON p.tenant_id = :tenant AND p.id = m.product_id
    WHERE m.day <= :end
    GROUP BY l.code, l.name_zh, l.name_en, p.sku, p.name_zh, p.name_en, p.category,
             m.kind, m.reason, m.day >= :start
    ORDER BY l.code, COALESCE(p.category, ''), p.sku
    """
)


@dataclass(frozen=True, slots=True)
class MovementReportQuery:
    start: date
    end: date
    location_ids: tuple[int, ...] | None = None  # None: every location
    upto: int | None = None  # only movements up to this sequence (a cut of the ledger)


@dataclass
class Figure:
    units: int = 0
    value: Decimal = Decimal(0)

    def add(self, units: int, value: Decimal) -> None:
        self.units += units
        self.value += value


@dataclass
class ReportLine:
    location: str
    location_zh: str
    location_en: str
    sku: str
    name_zh: str
    name_en: str
    category: str
    opening: Figure
    receipts: Figure
    transfers_in: Figure
    transfers_out: Figure
    sales: Figure
    revenue: Decimal
    returns: Figure
    adjustments: dict[str, Figure]
    stocktake: Figure
    closing: Figure


@dataclass(frozen=True, slots=True)
class MovementReport:
    start: date
    end: date
    currency: str
    lines: list[ReportLine]

    def data_bytes(self) -> bytes:
        """The report's figures as canonical JSON: what "unchanged" is compared on."""
        body = {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "currency": self.currency,
            "lines": [asdict(line) for line in self.lines],
        }
        return json.dumps(body, sort_keys=True, default=str, ensure_ascii=False).encode()


_COLUMN = {
    "RECEIPT": "receipts",
    "OPENING": "receipts",
    "TRANSFER_IN": "transfers_in",
    "TRANSFER_OUT": "transfers_out",
    "SALE": "sales",
    "RETURN": "returns",
    "STOCKTAKE": "stocktake",
}


def _line(row: Any) -> ReportLine:
    return ReportLine(
        location=row.location,
        location_zh=row.location_zh,
        location_en=row.location_en,
        sku=row.sku,
        name_zh=row.name_zh,
        name_en=row.name_en,
        category=row.category,
        opening=Figure(),
        receipts=Figure(),
        transfers_in=Figure(),
        transfers_out=Figure(),
        sales=Figure(),
        revenue=Decimal(0),
        returns=Figure(),
        adjustments={r: Figure() for r in REASONS},
        stocktake=Figure(),
        closing=Figure(),
    )


async def movement_report(
    session: AsyncSession, caller: Caller, query: MovementReportQuery
) -> MovementReport:
    """The report over [start, end] (days in the tenant's time zone); needs costs:read."""
    require(caller, Permission.COSTS_READ, None, ["kind"])
    if query.end < query.start:
        raise InvalidInput("the period ends before it starts", ["to"])
    if (query.end - query.start).days >= MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days", ["to"])
    zone = await tenant_zone(session, caller.tenant_id)
    currency = (
        await session.execute(
            text("SELECT currency FROM tenants WHERE tenant_id = :t"), {"t": caller.tenant_id}
        )
    ).scalar_one()
    rows = await session.execute(
        _QUERY,
        {
            "tenant": caller.tenant_id,
            "zone": zone.key,
            "start": query.start,
            "end": query.end,
            "locations": list(query.location_ids) if query.location_ids is not None else None,
            "upto": query.upto,
        },
    )
    lines: dict[tuple[str, str], ReportLine] = {}
    for row in rows:
        line = lines.get((row.location, row.sku))
        if line is None:
            line = lines[(row.location, row.sku)] = _line(row)
        units, value = int(row.units), Decimal(row.value)
        line.closing.add(units, value)
        if not row.in_period:
            line.opening.add(units, value)
        elif row.kind not in _COLUMN:  # ADJUSTMENT, DAMAGE and anything else: by reason
            reason = row.reason if row.reason in REASONS else "OTHER"
            line.adjustments[reason].add(units, value)
        else:
            getattr(line, _COLUMN[row.kind]).add(units, value)
            if row.kind == "SALE":
                line.revenue += Decimal(row.revenue)
    return MovementReport(query.start, query.end, currency, list(lines.values()))


def levels_value(lines: Sequence[ReportLine]) -> Decimal:
    """The closing value of the lines (what the levels hold, when the period ends today)."""
    return sum((line.closing.value for line in lines), Decimal(0))


_SECTIONS = text(
    """
    SELECT id FROM locations
    WHERE tenant_id = :tenant
      AND (CAST(:locations AS bigint[]) IS NULL OR id = ANY(CAST(:locations AS bigint[])))
    ORDER BY code
    """
)
_TIP = text("SELECT COALESCE(MAX(last_sequence), 0) FROM tenant_counters WHERE tenant_id = :t")


@dataclass(frozen=True, slots=True)
class Sections:
    """A report read one location at a time, every part at the same cut of the ledger."""

    location_ids: tuple[int, ...]  # in the report's order (location code)
    upto: int  # the last committed sequence when the report started

    def part(self, query: MovementReportQuery, index: int) -> MovementReportQuery:
        return MovementReportQuery(
            query.start, query.end, (self.location_ids[index],), upto=self.upto
        )


async def sections(session: AsyncSession, caller: Caller, query: MovementReportQuery) -> Sections:
    """The locations of the report and the ledger's cut, for reading it in parts.

    Sequences are handed out in commit order (``domain.stock.ledger``): every movement
    up to the last committed sequence is already visible and every later one is above
    it, so parts read in separate transactions add up to the report of one instant.
    """
    require(caller, Permission.COSTS_READ, None, ["kind"])
    params = {
        "tenant": caller.tenant_id,
        "locations": list(query.location_ids) if query.location_ids is not None else None,
    }
    ids = tuple((await session.execute(_SECTIONS, params)).scalars())
    upto = (await session.execute(_TIP, {"t": caller.tenant_id})).scalar_one()
    return Sections(ids, int(upto))


def joined(
    query: MovementReportQuery, currency: str, parts: Sequence[MovementReport]
) -> MovementReport:
    """The parts (in section order) as one report: the same lines, in the same order."""
    return MovementReport(
        query.start, query.end, currency, [line for part in parts for line in part.lines]
    )
