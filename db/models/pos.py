"""POS devices, the sales they synced, their tenders, and returns and voids."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class PosDevice(TenantMixin, Base):
    """A till: one location, one client credential (``partner_apps.client_id``)."""

    __tablename__ = "pos_devices"
    __table_args__ = (
        UniqueConstraint("client_id"),
        UniqueConstraint("tenant_id", "location_id", "name"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    location_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sale_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_client_sale_id: Mapped[str | None] = mapped_column(String(64))


class PosSale(TenantMixin, Base):
    """One till sale, claimed exactly once per (tenant, client sale ID)."""

    __tablename__ = "pos_sales"
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_sale_id"),
        Index(None, "tenant_id", "device_id", "id"),
        ForeignKeyConstraint(
            ["tenant_id", "device_id"], ["pos_devices.tenant_id", "pos_devices.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "sale_id"], ["sales.tenant_id", "sales.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_sale_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[int] = mapped_column(BigInteger)
    location_id: Mapped[int] = mapped_column(BigInteger)
    sale_id: Mapped[int | None] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    status: Mapped[str] = mapped_column(String(16))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class PosTender(TenantMixin, Base):
    """A payment (positive) or a refund (negative), with the provider's reference."""

    __tablename__ = "pos_tenders"
    __table_args__ = (
        Index(
            None,
            "tenant_id",
            "pos_sale_id",
            "position",
            unique=True,
            postgresql_where=text("reversal_id IS NULL"),
        ),
        Index(None, "tenant_id", "method", "provider_reference"),
        Index(None, "tenant_id", "method", "occurred_at"),
        ForeignKeyConstraint(["tenant_id", "pos_sale_id"], ["pos_sales.tenant_id", "pos_sales.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    pos_sale_id: Mapped[int] = mapped_column(BigInteger)
    reversal_id: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[int | None] = mapped_column(BigInteger)
    location_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    provider_reference: Mapped[str | None] = mapped_column(String(128))
    terminal_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PosReversal(TenantMixin, Base):
    """A return (goods back, tender refunded) or a void; once per (tenant, client ID)."""

    __tablename__ = "pos_reversals"
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_id"),
        Index(None, "tenant_id", "pos_sale_id"),
        ForeignKeyConstraint(["tenant_id", "pos_sale_id"], ["pos_sales.tenant_id", "pos_sales.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    pos_sale_id: Mapped[int] = mapped_column(BigInteger)
    device_id: Mapped[int | None] = mapped_column(BigInteger)
    location_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
