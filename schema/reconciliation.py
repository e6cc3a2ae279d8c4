"""Settlement reconciliation: runs, their lines, and the import mutation."""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from schema.errors import UserError
from schema.locations import Location
from schema.relay import Node


@strawberry.enum(description="A settlement file layout; see docs/reconciliation.md.")
class SettlementFormat(Enum):
    ALIPAYHK = "ALIPAYHK"
    OCTOPUS = "OCTOPUS"


@strawberry.enum
class ReconciliationStatus(Enum):
    MATCHED = "MATCHED"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    MISSING_IN_SETTLEMENT = "MISSING_IN_SETTLEMENT"
    MISSING_IN_POS = "MISSING_IN_POS"
    DUPLICATE = "DUPLICATE"


@strawberry.enum(description="SUPERSEDED: a corrected file for the same days was imported.")
class ReconciliationRunStatus(Enum):
    CURRENT = "CURRENT"
    SUPERSEDED = "SUPERSEDED"


@strawberry.type
class ReconciliationCount:
    status: ReconciliationStatus
    count: int


@strawberry.type(description="Settled money of one business day, location and method.")
class SettlementTotal:
    business_date: date
    method: str
    gross: Decimal
    fee: Decimal
    net: Decimal
    rows: int
    location_pk: strawberry.Private[int | None]

    @strawberry.field(description="Null for settled rows no till recorded.")
    async def location(self, info: Info) -> Location | None:
        if self.location_pk is None:
            return None
        row = await info.context.loaders.location_by_id.load(self.location_pk)
        return Location.from_row(row) if row is not None else None


@visible_with(Permission.STOCK_READ)
@strawberry.type(description="One imported settlement file and how it matched.")
class ReconciliationRun(Node):
    format: SettlementFormat
    file_name: str
    file_hash: str = strawberry.field(description="SHA-256 of the file: the same file is one run.")
    status: ReconciliationRunStatus
    period_start: date
    period_end: date
    rows: int
    created_at: datetime = strawberry.field(description="When it was created.")
    counts: list[ReconciliationCount]
    totals: list[SettlementTotal]
    superseded_by_pk: strawberry.Private[int | None]

    @strawberry.field
    async def superseded_by(self, info: Info) -> ReconciliationRun | None:
        if self.superseded_by_pk is None:
            return None
        row = await info.context.loaders.reconciliation_run_by_id.load(self.superseded_by_pk)
        return ReconciliationRun.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: Any) -> ReconciliationRun:
        summary = row.summary or {}
        return cls(
            id=strawberry.ID(ids.encode("ReconciliationRun", row.id)),
            format=SettlementFormat(row.format),
            file_name=row.file_name,
            file_hash=row.file_hash,
            status=ReconciliationRunStatus(row.status),
            period_start=row.period_start,
            period_end=row.period_end,
            rows=row.rows,
            created_at=row.created_at,
            counts=[
                ReconciliationCount(status=ReconciliationStatus(k), count=v)
                for k, v in summary.get("counts", {}).items()
            ],
            totals=[
                SettlementTotal(
                    business_date=date.fromisoformat(t["date"]),
                    method=t["method"],
                    gross=Decimal(t["gross"]),
                    fee=Decimal(t["fee"]),
                    net=Decimal(t["net"]),
                    rows=t["rows"],
                    location_pk=t.get("location_id"),
                )
                for t in summary.get("totals", [])
            ],
            superseded_by_pk=row.superseded_by_id,
        )


@visible_with(Permission.STOCK_READ)
@strawberry.type(description="A settlement row, a tender of the tills, or both.")
class ReconciliationLine(Node):
    status: ReconciliationStatus
    method: str
    business_date: date | None
    line_number: int | None = strawberry.field(description="The row's line in the file.")
    transaction_type: str | None
    provider_reference: str | None
    terminal_id: str | None
    occurred_at: datetime | None
    pos_amount: Decimal | None = strawberry.field(description="What the till recorded.")
    settled_amount: Decimal | None
    fee: Decimal | None
    net: Decimal | None
    note: str | None
    location_pk: strawberry.Private[int | None]
    run_pk: strawberry.Private[int]

    @strawberry.field
    async def location(self, info: Info) -> Location | None:
        if self.location_pk is None:
            return None
        row = await info.context.loaders.location_by_id.load(self.location_pk)
        return Location.from_row(row) if row is not None else None

    @strawberry.field
    async def run(self, info: Info) -> ReconciliationRun:
        return ReconciliationRun.from_row(
            await info.context.loaders.reconciliation_run_by_id.load(self.run_pk)
        )

    @classmethod
    def from_row(cls, row: Any) -> ReconciliationLine:
        return cls(
            id=strawberry.ID(ids.encode("ReconciliationLine", row.id)),
            status=ReconciliationStatus(row.status),
            method=row.method,
            business_date=row.business_date,
            line_number=row.line_number,
            transaction_type=row.transaction_type,
            provider_reference=row.provider_reference,
            terminal_id=row.terminal_id,
            occurred_at=row.occurred_at,
            pos_amount=row.pos_amount,
            settled_amount=row.settled_amount,
            fee=row.fee,
            net=row.net,
            note=row.note,
            location_pk=row.location_id,
            run_pk=row.run_id,
        )


@strawberry.input(description="The input of importSettlement.")
class ImportSettlementInput:
    format: SettlementFormat
    file_name: str
    content: str | None = strawberry.field(default=None, description="The file as text.")
    content_base64: str | None = strawberry.field(
        default=None, description="Or the file's bytes, base64-encoded."
    )

    def raw(self) -> bytes | None:
        if self.content is not None:
            return self.content.encode("utf-8")
        if self.content_base64 is not None:
            try:
                return base64.b64decode(self.content_base64, validate=True)
            except ValueError:
                return None
        return None


@strawberry.type(description="The result of importSettlement: what changed, or userErrors.")
class ImportSettlementPayload:
    run: ReconciliationRun | None
    created: bool = strawberry.field(description="False: this very file was imported before.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> ImportSettlementPayload:
        return cls(run=None, created=False, user_errors=errors)


@strawberry.type
class ReconciliationExport:
    file_name: str
    content_base64: str = strawberry.field(description="An XLSX workbook.")
