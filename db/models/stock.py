"""Stock levels, the movement ledger and sales receipts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class StockLevel(TenantMixin, Base):
    """The current quantities of one product at one location.

    Changed only by ``domain.stock.ledger.post``; ``on_hand`` always equals the
    sum of the movements of the same (location, product).
    """

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("tenant_id", "location_id", "product_id"),
        Index(None, "tenant_id", "product_id"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    location_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int] = mapped_column(BigInteger)
    on_hand: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    in_transit: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    incoming: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reorder_point: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # valuation (domain.valuation): the sum of delta × unit_cost of the movements,
    # and the moving average unit cost
    stock_value: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=0, server_default="0")
    average_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))


class Sale(TenantMixin, Base):
    """A POS receipt; its lines are SALE movements pointing back to it."""

    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("tenant_id", "location_id", "receipt_number"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    location_id: Mapped[int] = mapped_column(BigInteger)
    receipt_number: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    payments: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    oversold: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created_at_column()
    # set when the sale was dated in a closed period: the day it counts on instead
    posted_on: Mapped[date | None] = mapped_column(Date)


class StockMovement(TenantMixin, Base):
    """One append-only ledger row. The app role may INSERT and SELECT, never change."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sequence"),
        Index(None, "tenant_id", "location_id", "product_id", "sequence"),
        Index(None, "tenant_id", "product_id", "sequence"),
        # sales by day of one location, for the forecast (domain.replenishment)
        Index(
            None,
            "tenant_id",
            "location_id",
            "occurred_at",
            postgresql_where=text("kind = 'SALE'"),
        ),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
        ForeignKeyConstraint(["tenant_id", "sale_id"], ["sales.tenant_id", "sales.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    location_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    delta: Mapped[int] = mapped_column(Integer)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    oversell: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(1000))
    reference: Mapped[str | None] = mapped_column(String(200))
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    sale_id: Mapped[int | None] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(100))
