"""Suppliers, what they sell, replenishment rules, decisions on suggestions, alerts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class Supplier(TenantMixin, Base):
    """Who goods are bought from: currency, lead time, the weekdays it takes orders."""

    __tablename__ = "suppliers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("lead_time_days >= 0", name="lead_time"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    lead_time_days: Mapped[int] = mapped_column(Integer)
    order_days: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    min_order_value: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupplierProduct(TenantMixin, Base):
    """One product a supplier sells: its SKU there, unit cost, pack and minimum order."""

    __tablename__ = "supplier_products"
    __table_args__ = (
        CheckConstraint("pack_size > 0 AND min_order_quantity > 0", name="quantities"),
        Index(None, "tenant_id", "product_id"),
        ForeignKeyConstraint(["tenant_id", "supplier_id"], ["suppliers.tenant_id", "suppliers.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
    )

    supplier_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    supplier_sku: Mapped[str | None] = mapped_column(String(64))
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    pack_size: Mapped[int] = mapped_column(Integer)
    min_order_quantity: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReplenishmentRule(TenantMixin, Base):
    """How one SKU is kept in stock at one location."""

    __tablename__ = "replenishment_rules"
    __table_args__ = (
        CheckConstraint(
            "safety_stock >= 0 AND review_period_days >= 0 AND "
            "(min_quantity IS NULL OR max_quantity IS NULL OR min_quantity <= max_quantity)",
            name="quantities",
        ),
        CheckConstraint(
            "source_supplier_id IS NULL OR source_location_id IS NULL", name="one_source"
        ),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "source_supplier_id"], ["suppliers.tenant_id", "suppliers.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "source_location_id"], ["locations.tenant_id", "locations.id"]
        ),
    )

    location_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    method: Mapped[str] = mapped_column(String(16))
    min_quantity: Mapped[int | None] = mapped_column(Integer)
    max_quantity: Mapped[int | None] = mapped_column(Integer)
    reorder_point: Mapped[int | None] = mapped_column(Integer)
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    review_period_days: Mapped[int] = mapped_column(Integer, default=7)
    source_supplier_id: Mapped[int | None] = mapped_column(BigInteger)
    source_location_id: Mapped[int | None] = mapped_column(BigInteger)
    alert_only: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReplenishmentDecision(TenantMixin, Base):
    """A manager's answer to a suggestion: accepted (what it became) or dismissed (why)."""

    __tablename__ = "replenishment_decisions"
    __table_args__ = (
        Index(None, "tenant_id", "location_id", "product_id", "id"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    location_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int] = mapped_column(BigInteger)
    decision: Mapped[str] = mapped_column(String(16))
    transfer_quantity: Mapped[int] = mapped_column(Integer, default=0)
    source_location_id: Mapped[int | None] = mapped_column(BigInteger)
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    purchase_quantity: Mapped[int] = mapped_column(Integer, default=0)
    supplier_id: Mapped[int | None] = mapped_column(BigInteger)
    purchase_order_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(1000))
    decided_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()


class ReplenishmentAlert(TenantMixin, Base):
    """One alert per SKU × location × day (the unique key makes retries harmless)."""

    __tablename__ = "replenishment_alerts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "location_id", "product_id", "day"),
        Index(None, "tenant_id", "location_id", "id"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    location_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(200))
    available: Mapped[int] = mapped_column(Integer)
    forecast_units: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    suggested_quantity: Mapped[int] = mapped_column(Integer)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created_at_column()


class JobRun(TenantMixin, Base):
    """One run of a scheduled job for one tenant and period; the key makes it run once."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "job", "period"),
        Index(None, "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    runner: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    counts: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    error: Mapped[str | None] = mapped_column(String(2000))


class DemandProfile(TenantMixin, Base):
    """A location's fitted weekday and event factors (domain.replenishment.forecast)."""

    __tablename__ = "demand_profiles"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
    )

    location_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    fitted_on: Mapped[date] = mapped_column(Date)
    profile: Mapped[dict[str, object]] = mapped_column(JSONB)


class AlertContact(TenantMixin, Base):
    """Where a staff member gets replenishment alerts: one channel and recipient."""

    __tablename__ = "alert_contacts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "staff_id"], ["staff.tenant_id", "staff.id"]),
    )

    staff_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertSettings(TenantMixin, Base):
    """The tenant's quiet hours (local time): alerts wait until they end."""

    __tablename__ = "alert_settings"

    quiet_start: Mapped[int | None] = mapped_column(Integer)  # minutes after midnight
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
