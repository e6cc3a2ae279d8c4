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
from schema.describe import enum_values
from schema.errors import UserError
from schema.locations import Location
from schema.relay import Node


@enum_values(
    ALIPAYHK="AlipayHK's settlement report.",
    OCTOPUS="Octopus's settlement report.",
)
@strawberry.enum(description="A settlement file layout; see docs/reconciliation.md.")
class SettlementFormat(Enum):
    ALIPAYHK = "ALIPAYHK"
    OCTOPUS = "OCTOPUS"


@enum_values(
    MATCHED="The row and a tender agree.",
    AMOUNT_MISMATCH="The row names a tender by reference, but the amounts differ.",
    MISSING_IN_SETTLEMENT="A tender in the file's period that no row settles.",
    MISSING_IN_POS="A settled row no till recorded.",
    DUPLICATE="The row repeats an earlier one, or its tender was already taken.",
)
@strawberry.enum(description="How a settlement row and the tills' tenders matched.")
class ReconciliationStatus(Enum):
    MATCHED = "MATCHED"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    MISSING_IN_SETTLEMENT = "MISSING_IN_SETTLEMENT"
    MISSING_IN_POS = "MISSING_IN_POS"
    DUPLICATE = "DUPLICATE"


@enum_values(
    CURRENT="The run in force for its days.",
    SUPERSEDED="A later file for overlapping days replaced it; kept for the record.",
)
@strawberry.enum(description="SUPERSEDED: a corrected file for the same days was imported.")
class ReconciliationRunStatus(Enum):
    CURRENT = "CURRENT"
    SUPERSEDED = "SUPERSEDED"


@strawberry.type(description="Lines of a run with one outcome.")
class ReconciliationCount:
    status: ReconciliationStatus = strawberry.field(description="The outcome.")
    count: int = strawberry.field(description="How many lines.")


@strawberry.type(description="Settled money of one business day, location and method.")
class SettlementTotal:
    business_date: date = strawberry.field(description="The business day.")
    method: str = strawberry.field(description="The payment method.")
    gross: Decimal = strawberry.field(description="Settled amount, before fees.")
    fee: Decimal = strawberry.field(description="The provider's fees.")
    net: Decimal = strawberry.field(description="gross − fee.")
    rows: int = strawberry.field(description="Settlement rows counted.")
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
    format: SettlementFormat = strawberry.field(description="The file's format.")
    file_name: str = strawberry.field(description="The file's name, as given.")
    file_hash: str = strawberry.field(description="SHA-256 of the file: the same file is one run.")
    status: ReconciliationRunStatus = strawberry.field(
        description="Current, or superseded by a corrected file."
    )
    period_start: date = strawberry.field(description="The first business day in the file.")
    period_end: date = strawberry.field(description="The last business day in the file.")
    rows: int = strawberry.field(description="Rows in the file.")
    created_at: datetime = strawberry.field(description="When it was created.")
    counts: list[ReconciliationCount] = strawberry.field(description="Lines per outcome.")
    totals: list[SettlementTotal] = strawberry.field(
        description="Settled money per business day, location and method."
    )
    superseded_by_pk: strawberry.Private[int | None]

    @strawberry.field(description="The run that replaced this one; null while current.")
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
    status: ReconciliationStatus = strawberry.field(description="How it matched.")
    method: str = strawberry.field(description="The payment method (e.g. ALIPAYHK, OCTOPUS).")
    business_date: date | None = strawberry.field(
        description="The business day it belongs to (tenant time zone)."
    )
    line_number: int | None = strawberry.field(description="The row's line in the file.")
    transaction_type: str | None = strawberry.field(
        description="The settlement row's transaction type, as the file names it."
    )
    provider_reference: str | None = strawberry.field(
        description="The payment provider's transaction reference."
    )
    terminal_id: str | None = strawberry.field(description="The reader or terminal, when known.")
    occurred_at: datetime | None = strawberry.field(description="When the payment happened.")
    pos_amount: Decimal | None = strawberry.field(description="What the till recorded.")
    settled_amount: Decimal | None = strawberry.field(
        description="What the settlement file says was paid (refunds negative)."
    )
    fee: Decimal | None = strawberry.field(description="The provider's fee, from the file.")
    net: Decimal | None = strawberry.field(
        description="The net amount after the fee, from the file."
    )
    note: str | None = strawberry.field(description="What the matcher noticed, for people.")
    location_pk: strawberry.Private[int | None]
    run_pk: strawberry.Private[int]

    @strawberry.field(
        description="The store of the tender; null for a settlement row no till recorded."
    )
    async def location(self, info: Info) -> Location | None:
        if self.location_pk is None:
            return None
        row = await info.context.loaders.location_by_id.load(self.location_pk)
        return Location.from_row(row) if row is not None else None

    @strawberry.field(description="The run it belongs to.")
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
    format: SettlementFormat = strawberry.field(description="The file's format. Needs admin.")
    file_name: str = strawberry.field(description="The file's name, kept on the run.")
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
    run: ReconciliationRun | None = strawberry.field(
        description="The run, new or the earlier one of this same file; null when refused."
    )
    created: bool = strawberry.field(description="False: this very file was imported before.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> ImportSettlementPayload:
        return cls(run=None, created=False, user_errors=errors)


@strawberry.type(description="A run as a spreadsheet, in the response itself.")
class ReconciliationExport:
    file_name: str = strawberry.field(description="A file name to save it as.")
    content_base64: str = strawberry.field(description="An XLSX workbook.")
