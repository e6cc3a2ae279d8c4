"""Import jobs through a validation layer

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from db.migrations.tenant_security import secure

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=True),
        sa.Column("encoding", sa.String(length=16), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("valid_only", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("header_row", sa.Integer(), nullable=True),
        sa.Column("rows_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_valid", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_written", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("errors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_import_jobs")),
    )
    op.create_index(
        op.f("ix_import_jobs_tenant_id_kind_file_hash"),
        "import_jobs",
        ["tenant_id", "kind", "file_hash"],
    )
    # a file is written once per kind: the same file again is answered from its job
    op.create_index(
        "uq_import_jobs_committed_file",
        "import_jobs",
        ["tenant_id", "kind", "file_hash"],
        unique=True,
        postgresql_where=sa.text("status = 'COMMITTED'"),
    )
    secure({"import_jobs": "SELECT, INSERT, UPDATE"})


def downgrade() -> None:
    op.drop_table("import_jobs")
