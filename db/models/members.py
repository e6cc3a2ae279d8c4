"""Members: personal data sealed per member, their key material, the consent ledger.

``phone``, ``email`` and ``birthday`` hold only ciphertexts (see
``domain.members.crypto``); ``phone_index`` is the keyed blind index used for
lookups. Erasing a member deletes their ``member_keys`` row: the ciphertexts
stay and can never be opened again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class MemberTenantKey(TenantMixin, Base):
    """The tenant's data key and index key, each wrapped by the master key."""

    __tablename__ = "member_tenant_keys"

    master_key_id: Mapped[str] = mapped_column(String(32))
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_index_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()


class Member(TenantMixin, Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "member_number"),
        Index(None, "tenant_id", "phone_index"),
        ForeignKeyConstraint(
            ["tenant_id", "home_location_id"], ["locations.tenant_id", "locations.id"]
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    member_number: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[bytes | None] = mapped_column(LargeBinary)
    email: Mapped[bytes | None] = mapped_column(LargeBinary)
    birthday: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[bytes | None] = mapped_column(LargeBinary)
    home_location_id: Mapped[int | None] = mapped_column(BigInteger)
    tier: Mapped[str] = mapped_column(String(32))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    created_by: Mapped[str] = mapped_column(String(100))
    created_by_staff_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by_client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MemberKey(TenantMixin, Base):
    """One member's key, wrapped by the tenant's data key. Deleted on erasure."""

    __tablename__ = "member_keys"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    )

    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()


class MemberConsent(TenantMixin, Base):
    """The consent ledger: append-only (the app role may only INSERT and SELECT)."""

    __tablename__ = "member_consents"
    __table_args__ = (
        Index(None, "tenant_id", "member_id", "channel", "id"),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(8))
    granted: Mapped[bool] = mapped_column(Boolean)
    wording_version: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = created_at_column()
    actor: Mapped[str] = mapped_column(String(100))
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    client_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(100))
