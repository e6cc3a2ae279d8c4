"""Tenants (retailers) and their per-tenant counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Identity, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, created_at_column


class Tenant(Base):
    __tablename__ = "tenants"

    # The tenant's own id is its tenant_id.
    tenant_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Hong_Kong")
    created_at: Mapped[datetime] = created_at_column()


class TenantCounter(Base):
    """One row per tenant; its lock orders every sequenced write of the tenant.

    ``last_sequence`` numbers stock movements and outbox events; the audit chain
    has its own gap-free ``audit_sequence`` and the hash of its last event.
    """

    __tablename__ = "tenant_counters"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    audit_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    audit_hash: Mapped[bytes] = mapped_column(LargeBinary, default=b"\x00" * 32)
