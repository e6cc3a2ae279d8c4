"""Moving-average valuation, closed periods and report jobs

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from db.migrations.tenant_security import secure

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Valuation: each level carries its value (the sum of delta × unit cost of its
    # movements) and its moving average; the cost of shipped goods rides on the line.
    op.add_column(
        "stock_levels",
        sa.Column("stock_value", sa.Numeric(18, 4), server_default="0", nullable=False),
    )
    op.add_column("stock_levels", sa.Column("average_cost", sa.Numeric(14, 4), nullable=True))
    op.add_column("transfer_lines", sa.Column("unit_cost", sa.Numeric(14, 4), nullable=True))
    # A late offline sale dated in a closed period counts on the first open day.
    op.add_column("sales", sa.Column("posted_on", sa.Date(), nullable=True))
    op.create_table(
        "period_closes",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=True),
        sa.Column("through", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=False),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_by", sa.String(length=100), nullable=True),
        sa.Column("reopen_reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_period_closes_tenant_id_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_period_closes")),
    )
    op.create_index(
        op.f("ix_period_closes_tenant_id_location_id_through"),
        "period_closes",
        ["tenant_id", "location_id", "through"],
    )
    op.create_table(
        "report_jobs",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), server_default="0", nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("download_secret", sa.String(length=64), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_report_jobs")),
    )
    op.create_index(
        op.f("ix_report_jobs_tenant_id_created_at"), "report_jobs", ["tenant_id", "created_at"]
    )
    secure({"period_closes": "SELECT, INSERT, UPDATE", "report_jobs": "SELECT, INSERT, UPDATE"})


def downgrade() -> None:
    op.drop_table("report_jobs")
    op.drop_table("period_closes")
    op.drop_column("sales", "posted_on")
    op.drop_column("transfer_lines", "unit_cost")
    op.drop_column("stock_levels", "average_cost")
    op.drop_column("stock_levels", "stock_value")
