"""Transfers between locations and their lines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class Transfer(TenantMixin, Base):
    """Goods moving from one location to another; ``status`` follows domain.transfers.state."""

    __tablename__ = "transfers"
    __table_args__ = (
        Index(None, "tenant_id", "status", "id"),
        Index(None, "tenant_id", "from_location_id"),
        Index(None, "tenant_id", "to_location_id"),
        CheckConstraint("from_location_id <> to_location_id", name="distinct_locations"),
        ForeignKeyConstraint(
            ["tenant_id", "from_location_id"], ["locations.tenant_id", "locations.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "to_location_id"], ["locations.tenant_id", "locations.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "approval_request_id"],
            ["approval_requests.tenant_id", "approval_requests.id"],
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    from_location_id: Mapped[int] = mapped_column(BigInteger)
    to_location_id: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(1000))
    created_by: Mapped[str] = mapped_column(String(100))
    requested_by: Mapped[str | None] = mapped_column(String(100))
    approval_request_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TransferLine(TenantMixin, Base):
    """One product of a transfer.

    Always ``received + rejected + missing_resolved <= shipped <= quantity``; the
    difference is still in transit (missing until it is resolved).
    """

    __tablename__ = "transfer_lines"
    __table_args__ = (
        CheckConstraint(
            "quantity > 0 AND shipped >= 0 AND received >= 0 AND rejected >= 0 "
            "AND missing_resolved >= 0 AND shipped <= quantity "
            "AND received + rejected + missing_resolved <= shipped",
            name="quantities",
        ),
        ForeignKeyConstraint(["tenant_id", "transfer_id"], ["transfers.tenant_id", "transfers.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
    )

    transfer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    shipped: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    missing_resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolution_reason: Mapped[str | None] = mapped_column(String(32))
    # the source's average cost when shipped: the cost travels with the goods
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
