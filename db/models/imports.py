"""Import jobs: what a file held, what was wrong with it, what was written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Identity, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class ImportJob(TenantMixin, Base):
    """One run of an import (dry or not). ``errors`` keeps the first problems found."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        Index(None, "tenant_id", "kind", "file_hash"),
        Index(
            "uq_import_jobs_committed_file",
            "tenant_id",
            "kind",
            "file_hash",
            unique=True,
            postgresql_where=text("status = 'COMMITTED'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(300))
    file_hash: Mapped[str] = mapped_column(String(64))
    format: Mapped[str | None] = mapped_column(String(8))
    encoding: Mapped[str | None] = mapped_column(String(16))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    valid_only: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    header_row: Mapped[int | None] = mapped_column(Integer)
    rows_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_valid: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_written: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    phase: Mapped[str] = mapped_column(String(16), default="QUEUED", server_default="QUEUED")
    done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total: Mapped[int | None] = mapped_column(Integer)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
