"""Transfers, transfer lines, approval policies, requests and decisions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from db.migrations.tenant_security import secure

APP_ROLE = "stockgraph_app"
TABLES = {
    "approval_policies": "SELECT, INSERT, UPDATE",
    "approval_requests": "SELECT, INSERT, UPDATE",
    "approval_decisions": "SELECT, INSERT",
    "transfers": "SELECT, INSERT, UPDATE",
    "transfer_lines": "SELECT, INSERT, UPDATE",
}

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{target}.tenant_id", f"{target}.id"],
        name=op.f(f"fk_{table}_tenant_id_{column}_{target}"),
    )


def upgrade() -> None:
    op.create_table(
        "approval_policies",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("min_units", sa.Integer(), nullable=True),
        sa.Column("from_location_kinds", postgresql.ARRAY(sa.String(length=32)), nullable=True),
        sa.Column("required_rank", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_approval_policies")),
    )
    op.create_table(
        "approval_requests",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("required_rank", sa.String(length=32), nullable=False),
        sa.Column("next_rank", sa.String(length=32), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        _created_at(),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_approval_requests")),
    )
    op.create_index(
        op.f("ix_approval_requests_tenant_id_status_id"),
        "approval_requests",
        ["tenant_id", "status", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_approval_requests_tenant_id_subject_type_subject_id"),
        "approval_requests",
        ["tenant_id", "subject_type", "subject_id"],
        unique=False,
    )
    op.create_table(
        "approval_decisions",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("rank", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        _fk("approval_decisions", "request_id", "approval_requests"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_approval_decisions")),
    )
    op.create_index(
        op.f("ix_approval_decisions_tenant_id_request_id"),
        "approval_decisions",
        ["tenant_id", "request_id"],
        unique=False,
    )
    op.create_table(
        "transfers",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("from_location_id", sa.BigInteger(), nullable=False),
        sa.Column("to_location_id", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=True),
        sa.Column("approval_request_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        _created_at(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("transfers", "from_location_id", "locations"),
        _fk("transfers", "to_location_id", "locations"),
        _fk("transfers", "approval_request_id", "approval_requests"),
        sa.CheckConstraint(
            "from_location_id <> to_location_id", name=op.f("ck_transfers_distinct_locations")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_transfers")),
    )
    op.create_index(
        op.f("ix_transfers_tenant_id_status_id"), "transfers", ["tenant_id", "status", "id"]
    )
    op.create_index(
        op.f("ix_transfers_tenant_id_from_location_id"),
        "transfers",
        ["tenant_id", "from_location_id"],
    )
    op.create_index(
        op.f("ix_transfers_tenant_id_to_location_id"), "transfers", ["tenant_id", "to_location_id"]
    )
    op.create_table(
        "transfer_lines",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("shipped", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("missing_resolved", sa.Integer(), nullable=False),
        sa.Column("resolution_reason", sa.String(length=32), nullable=True),
        _fk("transfer_lines", "transfer_id", "transfers"),
        _fk("transfer_lines", "product_id", "products"),
        sa.CheckConstraint(
            "quantity > 0 AND shipped >= 0 AND received >= 0 AND rejected >= 0 "
            "AND missing_resolved >= 0 AND shipped <= quantity "
            "AND received + rejected + missing_resolved <= shipped",
            name=op.f("ck_transfer_lines_quantities"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "transfer_id", "product_id", name=op.f("pk_transfer_lines")
        ),
    )
    secure(TABLES)


def downgrade() -> None:
    op.drop_table("transfer_lines")
    op.drop_index(op.f("ix_transfers_tenant_id_to_location_id"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_tenant_id_from_location_id"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_tenant_id_status_id"), table_name="transfers")
    op.drop_table("transfers")
    op.drop_index(
        op.f("ix_approval_decisions_tenant_id_request_id"), table_name="approval_decisions"
    )
    op.drop_table("approval_decisions")
    op.drop_index(
        op.f("ix_approval_requests_tenant_id_subject_type_subject_id"),
        table_name="approval_requests",
    )
    op.drop_index(op.f("ix_approval_requests_tenant_id_status_id"), table_name="approval_requests")
    op.drop_table("approval_requests")
    op.drop_table("approval_policies")
