"""The outbox: events written in the same transaction as the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class Event(TenantMixin, Base):
    """An outbox row, written in the same transaction as the change it reports.

    ``sequence`` comes from the tenant counter (shared with movements), so a
    reader resuming after S sees every later event exactly once. A statement
    trigger sends one NOTIFY per inserting statement: a wake-up, not the data.
    """

    __tablename__ = "events"

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
