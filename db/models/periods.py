"""Closed accounting periods: movements dated on or before a close are refused."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKeyConstraint, Identity, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin


class PeriodClose(TenantMixin, Base):
    """One close: a location (or, with none, every location) closed through a date.

    Reopening marks the row; it is never deleted, so the history stays.
    """

    __tablename__ = "period_closes"
    __table_args__ = (
        Index(None, "tenant_id", "location_id", "through"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    location_id: Mapped[int | None] = mapped_column(BigInteger)
    through: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str] = mapped_column(String(100))
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopened_by: Mapped[str | None] = mapped_column(String(100))
    reopen_reason: Mapped[str | None] = mapped_column(String(1000))
