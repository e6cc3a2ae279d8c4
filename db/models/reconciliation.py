"""Settlement files imported, and how each of their lines matched the tills' tenders."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class ReconciliationRun(TenantMixin, Base):
    """One imported file; the same bytes twice are one run (``file_hash``)."""

    __tablename__ = "reconciliation_runs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "format", "file_hash"),
        Index(None, "tenant_id", "format", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    format: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(300))
    file_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    superseded_by_id: Mapped[int | None] = mapped_column(BigInteger)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()


class ReconciliationLine(TenantMixin, Base):
    """One outcome: a settlement row, a tender, or both, with its status."""

    __tablename__ = "reconciliation_lines"
    __table_args__ = (
        Index(None, "tenant_id", "run_id", "status", "id"),
        ForeignKeyConstraint(
            ["tenant_id", "run_id"], ["reconciliation_runs.tenant_id", "reconciliation_runs.id"]
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    run_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(24))
    method: Mapped[str] = mapped_column(String(16))
    location_id: Mapped[int | None] = mapped_column(BigInteger)
    business_date: Mapped[date | None] = mapped_column(Date)
    line_number: Mapped[int | None] = mapped_column(Integer)
    transaction_type: Mapped[str | None] = mapped_column(String(16))
    provider_reference: Mapped[str | None] = mapped_column(String(128))
    terminal_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pos_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    settled_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    fee: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    net: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    tender_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(500))
