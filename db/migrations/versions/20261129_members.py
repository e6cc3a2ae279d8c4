"""Members with encrypted personal data, their consent ledger and key material

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from db.migrations.tenant_security import secure

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "stockgraph_app"
TABLES = {
    "member_tenant_keys": "SELECT, INSERT",
    "members": "SELECT, INSERT, UPDATE",
    "member_keys": "SELECT, INSERT, DELETE",
    "member_consents": "SELECT, INSERT",
}


def _created_at(name: str = "created_at") -> "sa.Column[Any]":
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "member_tenant_keys",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("master_key_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped_data_key", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_index_key", sa.LargeBinary(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_member_tenant_keys")),
    )
    op.create_table(
        "members",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("member_number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("email", sa.LargeBinary(), nullable=True),
        sa.Column("birthday", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.LargeBinary(), nullable=True),
        sa.Column("home_location_id", sa.BigInteger(), nullable=True),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_by_staff_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by_client_id", sa.String(length=64), nullable=True),
        _created_at(),
        _created_at("updated_at"),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "home_location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_members_tenant_id_home_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_members")),
        sa.UniqueConstraint(
            "tenant_id", "member_number", name=op.f("uq_members_tenant_id_member_number")
        ),
    )
    op.create_index(
        op.f("ix_members_tenant_id_phone_index"), "members", ["tenant_id", "phone_index"]
    )
    op.create_index("ix_members_tags", "members", ["tags"], postgresql_using="gin")
    op.create_table(
        "member_keys",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_member_keys_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name=op.f("pk_member_keys")),
    )
    op.create_table(
        "member_consents",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("wording_version", sa.String(length=64), nullable=True),
        _created_at("recorded_at"),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_member_consents_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_member_consents")),
    )
    op.create_index(
        op.f("ix_member_consents_tenant_id_member_id_channel_id"),
        "member_consents",
        ["tenant_id", "member_id", "channel", "id"],
    )
    # Sales point at real members from now on; a member's purchases page by sale.
    op.create_foreign_key(
        op.f("fk_sales_tenant_id_member_id_members"),
        "sales",
        "members",
        ["tenant_id", "member_id"],
        ["tenant_id", "id"],
    )
    op.create_index(
        "ix_sales_tenant_id_member_id_id",
        "sales",
        ["tenant_id", "member_id", "id"],
        postgresql_where=sa.text("member_id IS NOT NULL"),
    )
    op.create_index(
        "ix_stock_movements_tenant_id_sale_id",
        "stock_movements",
        ["tenant_id", "sale_id"],
        postgresql_where=sa.text("sale_id IS NOT NULL"),
    )
    secure(TABLES)


def downgrade() -> None:
    op.drop_index("ix_stock_movements_tenant_id_sale_id", table_name="stock_movements")
    op.drop_index("ix_sales_tenant_id_member_id_id", table_name="sales")
    op.drop_constraint(op.f("fk_sales_tenant_id_member_id_members"), "sales", type_="foreignkey")
    op.drop_table("member_consents")
    op.drop_table("member_keys")
    op.drop_table("members")
    op.drop_table("member_tenant_keys")
