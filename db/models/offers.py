"""Coupons, offer rules and the once-only record of every offer that fired.

A coupon is redeemed by one conditional UPDATE (``redeemed_at IS NULL``), so two
tills racing for one code get exactly one success. ``offer_firings`` has a
unique (tenant, rule, member, occasion): a rule fires at most once per occasion,
however many runs overlap.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class OfferRule(TenantMixin, Base):
    __tablename__ = "offer_rules"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    days_before: Mapped[int | None] = mapped_column(Integer)
    grace_days: Mapped[int] = mapped_column(Integer)
    lookback_days: Mapped[int] = mapped_column(Integer)
    amount_off: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    percent_off: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    validity_days: Mapped[int] = mapped_column(Integer)
    location_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    channels: Mapped[list[str]] = mapped_column(ARRAY(String(8)))
    subject: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()


class Coupon(TenantMixin, Base):
    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("(amount_off IS NULL) <> (percent_off IS NULL)", name="one_value"),
        Index(None, "tenant_id", "member_id", "id"),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "rule_id"], ["offer_rules.tenant_id", "offer_rules.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "redeemed_location_id"], ["locations.tenant_id", "locations.id"]
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    amount_off: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    percent_off: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    location_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    rule_id: Mapped[int | None] = mapped_column(BigInteger)
    issued_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    redeemed_location_id: Mapped[int | None] = mapped_column(BigInteger)
    redeemed_receipt: Mapped[str | None] = mapped_column(String(100))
    redeemed_by: Mapped[str | None] = mapped_column(String(100))


class OfferFiring(TenantMixin, Base):
    __tablename__ = "offer_firings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "rule_id", "member_id", "occasion"),
        ForeignKeyConstraint(["tenant_id", "rule_id"], ["offer_rules.tenant_id", "offer_rules.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "coupon_id"], ["coupons.tenant_id", "coupons.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    rule_id: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[int] = mapped_column(BigInteger)
    occasion: Mapped[str] = mapped_column(String(200))
    coupon_id: Mapped[int | None] = mapped_column(BigInteger)
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
