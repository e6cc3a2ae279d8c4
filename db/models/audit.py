"""The hash-chained audit trail. Append-only: the app role may only INSERT/SELECT."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin


class AuditEvent(TenantMixin, Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "tenant_id", "target_id", "sequence"),)

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_role: Mapped[str | None] = mapped_column(String(32))
    client_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[Any] = mapped_column(JSONB, nullable=True)
    after: Mapped[Any] = mapped_column(JSONB, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(1000))
    request_id: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    hash: Mapped[bytes] = mapped_column(LargeBinary)
    # The canonical JSON of an event not yet chained: kept from INSERT until the
    # commit-time trigger (migration 0010) numbers it and hashes it; NULL after.
    canon: Mapped[bytes | None] = mapped_column(LargeBinary)
