"""Suppliers, replenishment rules, suggestions, purchase orders, alerts and job runs

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from db.migrations.tenant_security import secure

TABLES = {
    "suppliers": "SELECT, INSERT, UPDATE",
    "supplier_products": "SELECT, INSERT, UPDATE, DELETE",
    "replenishment_rules": "SELECT, INSERT, UPDATE, DELETE",
    "replenishment_decisions": "SELECT, INSERT, UPDATE",
    "replenishment_alerts": "SELECT, INSERT, UPDATE",
    "purchase_orders": "SELECT, INSERT, UPDATE",
    "purchase_order_lines": "SELECT, INSERT, UPDATE",
    "job_runs": "SELECT, INSERT, UPDATE",
    "demand_profiles": "SELECT, INSERT, UPDATE",
    "alert_contacts": "SELECT, INSERT, UPDATE, DELETE",
    "alert_settings": "SELECT, INSERT, UPDATE",
}

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("runner", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint(
            "tenant_id", "job", "period", name=op.f("uq_job_runs_tenant_id_job_period")
        ),
    )
    op.create_index(op.f("ix_job_runs_tenant_id_id"), "job_runs", ["tenant_id", "id"], unique=False)
    op.create_table(
        "suppliers",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("order_days", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("min_order_value", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("lead_time_days >= 0", name=op.f("ck_suppliers_lead_time")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_suppliers_tenant_id_code")),
    )
    op.create_table(
        "purchase_orders",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("supplier_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("close_reason", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=True),
        sa.Column("approval_request_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "approval_request_id"],
            ["approval_requests.tenant_id", "approval_requests.id"],
            name=op.f("fk_purchase_orders_tenant_id_approval_request_id_approval_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_purchase_orders_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "supplier_id"],
            ["suppliers.tenant_id", "suppliers.id"],
            name=op.f("fk_purchase_orders_tenant_id_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_purchase_orders")),
    )
    op.create_index(
        op.f("ix_purchase_orders_tenant_id_location_id_id"),
        "purchase_orders",
        ["tenant_id", "location_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_purchase_orders_tenant_id_status_id"),
        "purchase_orders",
        ["tenant_id", "status", "id"],
        unique=False,
    )
    op.create_table(
        "replenishment_alerts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=True),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("forecast_units", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("suggested_quantity", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_replenishment_alerts_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["products.tenant_id", "products.id"],
            name=op.f("fk_replenishment_alerts_tenant_id_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_replenishment_alerts")),
        sa.UniqueConstraint(
            "tenant_id",
            "location_id",
            "product_id",
            "day",
            name=op.f("uq_replenishment_alerts_tenant_id_location_id_product_id_day"),
        ),
    )
    op.create_index(
        op.f("ix_replenishment_alerts_tenant_id_location_id_id"),
        "replenishment_alerts",
        ["tenant_id", "location_id", "id"],
        unique=False,
    )
    op.create_table(
        "replenishment_decisions",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("transfer_quantity", sa.Integer(), nullable=False),
        sa.Column("source_location_id", sa.BigInteger(), nullable=True),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("purchase_quantity", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.BigInteger(), nullable=True),
        sa.Column("purchase_order_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_replenishment_decisions_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["products.tenant_id", "products.id"],
            name=op.f("fk_replenishment_decisions_tenant_id_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_replenishment_decisions")),
    )
    op.create_index(
        op.f("ix_replenishment_decisions_tenant_id_location_id_product_id_id"),
        "replenishment_decisions",
        ["tenant_id", "location_id", "product_id", "id"],
        unique=False,
    )
    op.create_table(
        "replenishment_rules",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("min_quantity", sa.Integer(), nullable=True),
        sa.Column("max_quantity", sa.Integer(), nullable=True),
        sa.Column("reorder_point", sa.Integer(), nullable=True),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("review_period_days", sa.Integer(), nullable=False),
        sa.Column("source_supplier_id", sa.BigInteger(), nullable=True),
        sa.Column("source_location_id", sa.BigInteger(), nullable=True),
        sa.Column("alert_only", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "safety_stock >= 0 AND review_period_days >= 0 AND "
            "(min_quantity IS NULL OR max_quantity IS NULL OR min_quantity <= max_quantity)",
            name=op.f("ck_replenishment_rules_quantities"),
        ),
        sa.CheckConstraint(
            "source_supplier_id IS NULL OR source_location_id IS NULL",
            name=op.f("ck_replenishment_rules_one_source"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_replenishment_rules_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["products.tenant_id", "products.id"],
            name=op.f("fk_replenishment_rules_tenant_id_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "source_location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_replenishment_rules_tenant_id_source_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "source_supplier_id"],
            ["suppliers.tenant_id", "suppliers.id"],
            name=op.f("fk_replenishment_rules_tenant_id_source_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "location_id", "product_id", name=op.f("pk_replenishment_rules")
        ),
    )
    op.create_table(
        "supplier_products",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("supplier_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("supplier_sku", sa.String(length=64), nullable=True),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("min_order_quantity", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "pack_size > 0 AND min_order_quantity > 0", name=op.f("ck_supplier_products_quantities")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["products.tenant_id", "products.id"],
            name=op.f("fk_supplier_products_tenant_id_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "supplier_id"],
            ["suppliers.tenant_id", "suppliers.id"],
            name=op.f("fk_supplier_products_tenant_id_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "supplier_id", "product_id", name=op.f("pk_supplier_products")
        ),
    )
    op.create_index(
        op.f("ix_supplier_products_tenant_id_product_id"),
        "supplier_products",
        ["tenant_id", "product_id"],
        unique=False,
    )
    op.create_table(
        "purchase_order_lines",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("purchase_order_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("supplier_sku", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "quantity > 0 AND received >= 0 AND received <= quantity",
            name=op.f("ck_purchase_order_lines_quantities"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["products.tenant_id", "products.id"],
            name=op.f("fk_purchase_order_lines_tenant_id_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "purchase_order_id"],
            ["purchase_orders.tenant_id", "purchase_orders.id"],
            name=op.f("fk_purchase_order_lines_tenant_id_purchase_order_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "purchase_order_id", "product_id", name=op.f("pk_purchase_order_lines")
        ),
    )
    op.create_index(
        op.f("ix_purchase_order_lines_tenant_id_product_id"),
        "purchase_order_lines",
        ["tenant_id", "product_id"],
        unique=False,
    )
    op.create_table(
        "demand_profiles",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("fitted_on", sa.Date(), nullable=False),
        sa.Column("profile", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_demand_profiles_tenant_id_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "location_id", name=op.f("pk_demand_profiles")),
    )
    op.create_table(
        "alert_contacts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "staff_id"],
            ["staff.tenant_id", "staff.id"],
            name=op.f("fk_alert_contacts_tenant_id_staff_id_staff"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "staff_id", name=op.f("pk_alert_contacts")),
    )
    op.create_table(
        "alert_settings",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("quiet_start", sa.Integer(), nullable=True),
        sa.Column("quiet_end", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_alert_settings")),
    )
    # The forecast reads a location's sales by day: one index range per location.
    op.create_index(
        op.f("ix_stock_movements_tenant_id_location_id_occurred_at"),
        "stock_movements",
        ["tenant_id", "location_id", "occurred_at"],
        unique=False,
        postgresql_where=sa.text("kind = 'SALE'"),
    )
    secure(TABLES)


def downgrade() -> None:
    op.drop_index(
        op.f("ix_stock_movements_tenant_id_location_id_occurred_at"), table_name="stock_movements"
    )
    for table in (
        "alert_contacts",
        "alert_settings",
        "demand_profiles",
        "purchase_order_lines",
        "supplier_products",
        "replenishment_rules",
        "replenishment_decisions",
        "replenishment_alerts",
        "purchase_orders",
        "suppliers",
        "job_runs",
    ):
        op.drop_table(table)
