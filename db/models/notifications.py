"""Notification channels (per tenant), the notification outbox and its delivery log."""

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
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TenantMixin, created_at_column


class NotificationChannel(TenantMixin, Base):
    """How one tenant sends on one channel (EMAIL, SMS or CHAT).

    Only the columns of its own channel are set. ``smtp_password``,
    ``sms_auth_value`` and ``chat_secret`` are credentials: the sender reads
    them, the API and the audit trail never show them.
    """

    __tablename__ = "notification_channels"

    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    smtp_host: Mapped[str | None] = mapped_column(String(255))
    smtp_port: Mapped[int | None] = mapped_column(Integer)
    smtp_from: Mapped[str | None] = mapped_column(String(320))
    smtp_tls: Mapped[str | None] = mapped_column(String(16))
    smtp_username: Mapped[str | None] = mapped_column(String(320))
    smtp_password: Mapped[str | None] = mapped_column(String(500))
    sms_url: Mapped[str | None] = mapped_column(String(2000))
    sms_method: Mapped[str | None] = mapped_column(String(8))
    sms_content_type: Mapped[str | None] = mapped_column(String(100))
    sms_auth_header: Mapped[str | None] = mapped_column(String(100))
    sms_auth_value: Mapped[str | None] = mapped_column(String(1000))
    sms_body_template: Mapped[str | None] = mapped_column(Text)
    chat_url: Mapped[str | None] = mapped_column(String(2000))
    chat_secret: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class Notification(TenantMixin, Base):
    """The outbox: one message to one recipient, sent later by the sender, retried until DEAD."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "tenant_id", "channel", "id"),
        ForeignKeyConstraint(
            ["tenant_id", "channel"],
            ["notification_channels.tenant_id", "notification_channels.channel"],
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(200))
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    consent_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class NotificationAttempt(TenantMixin, Base):
    """The delivery log: one row per attempt, with the gateway's answer."""

    __tablename__ = "notification_attempts"
    __table_args__ = (
        Index(None, "tenant_id", "notification_id"),
        ForeignKeyConstraint(
            ["tenant_id", "notification_id"], ["notifications.tenant_id", "notifications.id"]
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    notification_id: Mapped[int] = mapped_column(BigInteger)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
