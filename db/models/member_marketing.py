"""Member marketing: computed tags (kept apart from hand-set ones), the tenant's tag
rules (VIP, lapsed) and saved segments (named filters over members)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
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


class MemberComputedTags(TenantMixin, Base):
    """The tags computed from a member's purchases; recomputing replaces the row."""

    __tablename__ = "member_computed_tags"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        Index(None, "tags", postgresql_using="gin"),
    )

    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    computed_at: Mapped[datetime] = created_at_column()


class MemberTagRule(TenantMixin, Base):
    """The tenant's VIP rule and lapsed threshold; defaults apply while no row exists."""

    __tablename__ = "member_tag_rules"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),)

    vip_min_spend: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    vip_min_purchases: Mapped[int | None] = mapped_column(Integer)
    lapsed_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = created_at_column()


class MemberSegment(TenantMixin, Base):
    """A saved filter over members (see ``domain.members.segments.SegmentFilter``)."""

    __tablename__ = "member_segments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(1000))
    filter: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
