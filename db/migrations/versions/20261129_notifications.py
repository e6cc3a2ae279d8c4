"""The notification outbox and its deliveries

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.migrations.tenant_security import secure

APP_ROLE = "stockgraph_app"
TABLES = {
    "notification_channels": "SELECT, INSERT, UPDATE",
    "notifications": "SELECT, INSERT, UPDATE",
    "notification_attempts": "SELECT, INSERT, UPDATE",
}

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at(name: str = "created_at") -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "notification_channels",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("smtp_host", sa.String(length=255), nullable=True),
        sa.Column("smtp_port", sa.Integer(), nullable=True),
        sa.Column("smtp_from", sa.String(length=320), nullable=True),
        sa.Column("smtp_tls", sa.String(length=16), nullable=True),
        sa.Column("smtp_username", sa.String(length=320), nullable=True),
        sa.Column("smtp_password", sa.String(length=500), nullable=True),
        sa.Column("sms_url", sa.String(length=2000), nullable=True),
        sa.Column("sms_method", sa.String(length=8), nullable=True),
        sa.Column("sms_content_type", sa.String(length=100), nullable=True),
        sa.Column("sms_auth_header", sa.String(length=100), nullable=True),
        sa.Column("sms_auth_value", sa.String(length=1000), nullable=True),
        sa.Column("sms_body_template", sa.Text(), nullable=True),
        sa.Column("chat_url", sa.String(length=2000), nullable=True),
        sa.Column("chat_secret", sa.String(length=500), nullable=True),
        _created_at(),
        _created_at("updated_at"),
        sa.PrimaryKeyConstraint("tenant_id", "channel", name=op.f("pk_notification_channels")),
    )
    op.create_table(
        "notifications",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("member_id", sa.BigInteger(), nullable=True),
        sa.Column("consent_checked", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "channel"],
            ["notification_channels.tenant_id", "notification_channels.channel"],
            name=op.f("fk_notifications_tenant_id_channel_notification_channels"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notifications")),
    )
    op.create_index(
        op.f("ix_notifications_status_next_attempt_at"),
        "notifications",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notifications_tenant_id_channel_id"),
        "notifications",
        ["tenant_id", "channel", "id"],
        unique=False,
    )
    op.create_table(
        "notification_attempts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("notification_id", sa.BigInteger(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "notification_id"],
            ["notifications.tenant_id", "notifications.id"],
            name=op.f("fk_notification_attempts_tenant_id_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notification_attempts")),
    )
    op.create_index(
        op.f("ix_notification_attempts_tenant_id_notification_id"),
        "notification_attempts",
        ["tenant_id", "notification_id"],
        unique=False,
    )
    secure(TABLES)


def downgrade() -> None:
    op.drop_index(
        op.f("ix_notification_attempts_tenant_id_notification_id"),
        table_name="notification_attempts",
    )
    op.drop_table("notification_attempts")
    op.drop_index(op.f("ix_notifications_tenant_id_channel_id"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_status_next_attempt_at"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("notification_channels")
