"""Approval policies, approval requests and the decisions taken on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class ApprovalPolicy(TenantMixin, Base):
    """One tenant rule: a subject matching it needs approval up to ``required_rank``."""

    __tablename__ = "approval_policies"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    min_units: Mapped[int | None] = mapped_column(Integer)
    from_location_kinds: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    required_rank: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()


class ApprovalRequest(TenantMixin, Base):
    """A subject (a transfer; purchase orders later) waiting for the approver chain."""

    __tablename__ = "approval_requests"
    __table_args__ = (
        Index(None, "tenant_id", "status", "id"),
        Index(None, "tenant_id", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    required_rank: Mapped[str] = mapped_column(String(32))
    next_rank: Mapped[str | None] = mapped_column(String(32))
    units: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApprovalDecision(TenantMixin, Base):
    """One approver's decision, with the rank they held when they took it."""

    __tablename__ = "approval_decisions"
    __table_args__ = (
        Index(None, "tenant_id", "request_id"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["approval_requests.tenant_id", "approval_requests.id"]
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    request_id: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(100))
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    rank: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(String(1000))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
