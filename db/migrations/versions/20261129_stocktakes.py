"""Stocktakes, their lines, cycle-count schedules

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.migrations.tenant_security import secure

APP_ROLE = "stockgraph_app"
TABLES = {
    "stocktakes": "SELECT, INSERT, UPDATE",
    "stocktake_lines": "SELECT, INSERT, UPDATE",
    "cycle_count_schedules": "SELECT, INSERT, UPDATE, DELETE",
}

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "stocktakes",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("not_counted_days", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_by", sa.String(length=100), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_stocktakes_tenant_id_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_stocktakes")),
    )
    op.create_index(
        op.f("ix_stocktakes_tenant_id_location_id_status"),
        "stocktakes",
        ["tenant_id", "location_id", "status"],
    )
    op.create_index(
        op.f("ix_stocktakes_tenant_id_location_id_posted_at"),
        "stocktakes",
        ["tenant_id", "location_id", "posted_at"],
    )
    # At most one open stocktake per location: two would post the same variance twice.
    op.create_index(
        "uq_stocktakes_one_open_per_location",
        "stocktakes",
        ["tenant_id", "location_id"],
        unique=True,
        postgresql_where=sa.text("status = 'OPEN'"),
    )
    op.create_table(
        "stocktake_lines",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("stocktake_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("counted_quantity", sa.Integer(), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counted_by", sa.String(length=100), nullable=True),
        sa.Column("ledger_sequence_at_count", sa.BigInteger(), nullable=True),
        sa.Column("expected_at_count", sa.Integer(), nullable=True),
        sa.Column("variance", sa.Integer(), nullable=True),
        sa.Column("unit_cost", sa.Numeric(14, 4), nullable=True),
        sa.Column("movement_sequence", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "stocktake_id"],
            ["stocktakes.tenant_id", "stocktakes.id"],
            name=op.f("fk_stocktake_lines_tenant_id_stocktake_id_stocktakes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_stocktake_lines_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["products.tenant_id", "products.id"],
            name=op.f("fk_stocktake_lines_tenant_id_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_stocktake_lines")),
        sa.UniqueConstraint(
            "tenant_id",
            "stocktake_id",
            "product_id",
            name=op.f("uq_stocktake_lines_tenant_id_stocktake_id_product_id"),
        ),
    )
    op.create_index(
        op.f("ix_stocktake_lines_tenant_id_location_id_product_id_counted_at"),
        "stocktake_lines",
        ["tenant_id", "location_id", "product_id", "counted_at"],
    )
    op.create_table(
        "cycle_count_schedules",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_cycle_count_schedules_tenant_id_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cycle_count_schedules")),
    )
    op.create_index(
        op.f("ix_cycle_count_schedules_tenant_id_location_id"),
        "cycle_count_schedules",
        ["tenant_id", "location_id"],
    )
    secure(TABLES)


def downgrade() -> None:
    op.drop_index(
        op.f("ix_cycle_count_schedules_tenant_id_location_id"), table_name="cycle_count_schedules"
    )
    op.drop_table("cycle_count_schedules")
    op.drop_index(
        op.f("ix_stocktake_lines_tenant_id_location_id_product_id_counted_at"),
        table_name="stocktake_lines",
    )
    op.drop_table("stocktake_lines")
    op.drop_index("uq_stocktakes_one_open_per_location", table_name="stocktakes")
    op.drop_index(op.f("ix_stocktakes_tenant_id_location_id_posted_at"), table_name="stocktakes")
    op.drop_index(op.f("ix_stocktakes_tenant_id_location_id_status"), table_name="stocktakes")
    op.drop_table("stocktakes")
