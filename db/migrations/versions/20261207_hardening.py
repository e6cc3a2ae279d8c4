"""Sealed secrets at rest, token revocation and sign-in throttling

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.migrations.tenant_security import secure

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Counters of the token endpoint, per client ID, per source address and per pair.
    # Not tenant data (the caller is not known yet), so not in the public schema of
    # tenant tables: a schema of its own that only the schema owner can use.
    op.execute("CREATE SCHEMA edge")
    op.execute("REVOKE ALL ON SCHEMA edge FROM PUBLIC")
    op.create_table(
        "oauth_throttle",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        schema="edge",
    )
    op.execute("REVOKE ALL ON edge.oauth_throttle FROM PUBLIC")
    # The revocation epoch of a subject ('app:<client id>' or 'staff:<id>'): a token
    # carrying an older epoch (or none, when the epoch is above 0) is refused.
    op.create_table(
        "token_revocations",
        sa.Column("tenant_id", sa.BigInteger(), sa.ForeignKey("tenants.tenant_id"), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("tenant_id", "subject"),
    )
    secure({"token_revocations": "SELECT, INSERT, UPDATE"})
    # Sealed secrets are longer than the plain ones they replace.
    op.alter_column("webhook_endpoints", "secret", type_=sa.Text())
    for column in ("smtp_password", "sms_auth_value", "chat_secret"):
        op.alter_column("notification_channels", column, type_=sa.Text())


def downgrade() -> None:
    op.drop_table("token_revocations")
    op.drop_table("oauth_throttle", schema="edge")
    op.execute("DROP SCHEMA edge")
