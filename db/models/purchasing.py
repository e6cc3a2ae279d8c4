"""Purchase orders and their lines."""

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


class PurchaseOrder(TenantMixin, Base):
    """Goods ordered from a supplier for one location; ``status`` follows
    domain.purchasing.state."""

    __tablename__ = "purchase_orders"
    __table_args__ = (
        Index(None, "tenant_id", "status", "id"),
        Index(None, "tenant_id", "location_id", "id"),
        ForeignKeyConstraint(["tenant_id", "supplier_id"], ["suppliers.tenant_id", "suppliers.id"]),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "approval_request_id"],
            ["approval_requests.tenant_id", "approval_requests.id"],
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    supplier_id: Mapped[int] = mapped_column(BigInteger)
    location_id: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(String(1000))
    close_reason: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(100))
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    approval_request_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PurchaseOrderLine(TenantMixin, Base):
    """One product of a purchase order; ``received <= quantity`` always (no over-receipt)."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        CheckConstraint(
            "quantity > 0 AND received >= 0 AND received <= quantity", name="quantities"
        ),
        Index(None, "tenant_id", "product_id"),
        ForeignKeyConstraint(
            ["tenant_id", "purchase_order_id"], ["purchase_orders.tenant_id", "purchase_orders.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
    )

    purchase_order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    supplier_sku: Mapped[str | None] = mapped_column(String(64))
