"""Coupons, their redemptions and triggered offer rules

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from db.migrations.tenant_security import secure

TABLES = {
    "offer_rules": "SELECT, INSERT, UPDATE",
    "coupons": "SELECT, INSERT, UPDATE",
    "offer_firings": "SELECT, INSERT, UPDATE",
}

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at(name: str = "created_at") -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "offer_rules",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=True),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("lookback_days", sa.Integer(), nullable=False),
        sa.Column("amount_off", sa.Numeric(14, 2), nullable=True),
        sa.Column("percent_off", sa.Numeric(5, 2), nullable=True),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("location_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("channels", postgresql.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_offer_rules")),
    )
    op.create_table(
        "coupons",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("amount_off", sa.Numeric(14, 2), nullable=True),
        sa.Column("percent_off", sa.Numeric(5, 2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("member_id", sa.BigInteger(), nullable=True),
        sa.Column("rule_id", sa.BigInteger(), nullable=True),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        _created_at(),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_location_id", sa.BigInteger(), nullable=True),
        sa.Column("redeemed_receipt", sa.String(length=100), nullable=True),
        sa.Column("redeemed_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_coupons_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["offer_rules.tenant_id", "offer_rules.id"],
            name=op.f("fk_coupons_tenant_id_rule_id_offer_rules"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "redeemed_location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_coupons_tenant_id_redeemed_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_coupons_tenant_id_code")),
        sa.CheckConstraint(
            "(amount_off IS NULL) <> (percent_off IS NULL)", name=op.f("ck_coupons_one_value")
        ),
    )
    op.create_index(
        op.f("ix_coupons_tenant_id_member_id_id"),
        "coupons",
        ["tenant_id", "member_id", "id"],
        unique=False,
    )
    op.create_table(
        "offer_firings",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("rule_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("occasion", sa.String(length=200), nullable=False),
        sa.Column("coupon_id", sa.BigInteger(), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["offer_rules.tenant_id", "offer_rules.id"],
            name=op.f("fk_offer_firings_tenant_id_rule_id_offer_rules"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_offer_firings_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "coupon_id"],
            ["coupons.tenant_id", "coupons.id"],
            name=op.f("fk_offer_firings_tenant_id_coupon_id_coupons"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_offer_firings")),
        sa.UniqueConstraint(
            "tenant_id",
            "rule_id",
            "member_id",
            "occasion",
            name=op.f("uq_offer_firings_tenant_id_rule_id_member_id_occasion"),
        ),
    )
    secure(TABLES)


def downgrade() -> None:
    op.drop_table("offer_firings")
    op.drop_index(op.f("ix_coupons_tenant_id_member_id_id"), table_name="coupons")
    op.drop_table("coupons")
    op.drop_table("offer_rules")
