"""Computed member tags and saved segments

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from db.migrations.tenant_security import secure

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {
    "member_computed_tags": "SELECT, INSERT, UPDATE, DELETE",
    "member_tag_rules": "SELECT, INSERT, UPDATE",
    "member_segments": "SELECT, INSERT, UPDATE, DELETE",
}


def _at(name: str) -> "sa.Column[Any]":
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "member_computed_tags",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        _at("computed_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_member_computed_tags_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name=op.f("pk_member_computed_tags")),
    )
    op.create_index(
        op.f("ix_member_computed_tags_tags"),
        "member_computed_tags",
        ["tags"],
        postgresql_using="gin",
    )
    op.create_table(
        "member_tag_rules",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("vip_min_spend", sa.Numeric(14, 2), nullable=True),
        sa.Column("vip_min_purchases", sa.Integer(), nullable=True),
        sa.Column("lapsed_days", sa.Integer(), nullable=False),
        _at("updated_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_member_tag_rules_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_member_tag_rules")),
    )
    op.create_table(
        "member_segments",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column(
            "filter",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_member_segments_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_member_segments")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_member_segments_tenant_id_name")),
    )
    secure(TABLES)


def downgrade() -> None:
    op.drop_table("member_segments")
    op.drop_table("member_tag_rules")
    op.drop_index(op.f("ix_member_computed_tags_tags"), table_name="member_computed_tags")
    op.drop_table("member_computed_tags")
