"""Declarative base with a naming convention, and the tenant mixin.

Every table carries ``tenant_id`` and leads its primary key with it, so the
schema can later be distributed by tenant (Citus) without rewriting keys.
Relationships are never loaded lazily: a lazy load in async code is a bug.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The role the API connects as: it owns nothing, so row-level security binds it.
APP_ROLE = "stockgraph_app"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantMixin:
    """Leads the primary key with the tenant."""

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, sort_order=-10)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
