"""Stocktakes (full and cycle counts), their counted lines, cycle-count schedules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class Stocktake(TenantMixin, Base):
    """One count at one location: OPEN while staff count, then POSTED or CANCELLED."""

    __tablename__ = "stocktakes"
    __table_args__ = (
        Index(None, "tenant_id", "location_id", "status"),
        Index(None, "tenant_id", "location_id", "posted_at"),
        Index(
            "uq_stocktakes_one_open_per_location",
            "tenant_id",
            "location_id",
            unique=True,
            postgresql_where=text("status = 'OPEN'"),
        ),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    location_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(500))
    category: Mapped[str | None] = mapped_column(String(100))
    not_counted_days: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(1000))
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    posted_by: Mapped[str | None] = mapped_column(String(100))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class StocktakeLine(TenantMixin, Base):
    """One SKU of a stocktake; counted fields are null until it is counted.

    ``expected_at_count`` is on hand when the count was recorded and
    ``ledger_sequence_at_count`` the tenant's last committed movement then;
    ``variance = counted_quantity - expected_at_count`` is what posting moves.
    """

    __tablename__ = "stocktake_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "stocktake_id", "product_id"),
        Index(None, "tenant_id", "location_id", "product_id", "counted_at"),
        ForeignKeyConstraint(
            ["tenant_id", "stocktake_id"], ["stocktakes.tenant_id", "stocktakes.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(BigInteger)
    location_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int] = mapped_column(BigInteger)
    counted_quantity: Mapped[int | None] = mapped_column(Integer)
    counted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counted_by: Mapped[str | None] = mapped_column(String(100))
    ledger_sequence_at_count: Mapped[int | None] = mapped_column(BigInteger)
    expected_at_count: Mapped[int | None] = mapped_column(Integer)
    variance: Mapped[int | None] = mapped_column(Integer)
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    movement_sequence: Mapped[int | None] = mapped_column(BigInteger)


class CycleCountSchedule(TenantMixin, Base):
    """A rule: every SKU (of ``category``, or all) at the location counted every N days."""

    __tablename__ = "cycle_count_schedules"
    __table_args__ = (
        Index(None, "tenant_id", "location_id"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    location_id: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str | None] = mapped_column(String(100))
    interval_days: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
