"""Row-level security, the app role, append-only tables, the event NOTIFY trigger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

The API connects as ``stockgraph_app``, which owns no table: every table has
RLS enabled *and forced*, with a policy that admits only rows of the tenant set
for the current transaction (``app.tenant_id``; unset means no rows). The
schema owner keeps a policy of its own for migrations and operator commands.
The ledger, the outbox and the audit trail are append-only for the app role;
the audit trail refuses UPDATE, DELETE and TRUNCATE from anyone by trigger.
"""

from collections.abc import Sequence

from alembic import op

from db.migrations.tenant_security import secure

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "stockgraph_app"

# table -> privileges of the app role
TABLES: dict[str, str] = {
    "tenants": "SELECT",
    "tenant_counters": "SELECT, UPDATE",
    "locations": "SELECT, INSERT, UPDATE",
    "products": "SELECT, INSERT, UPDATE",
    "staff": "SELECT, INSERT, UPDATE",
    "partner_apps": "SELECT, INSERT, UPDATE",
    "stock_levels": "SELECT, INSERT, UPDATE",
    "sales": "SELECT, INSERT, UPDATE",
    "stock_movements": "SELECT, INSERT",
    "events": "SELECT, INSERT",
    "idempotency_keys": "SELECT, INSERT, UPDATE, DELETE",
    "audit_events": "SELECT, INSERT",
}


def upgrade() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$;
        """
    )
    # The owner may connect and act as the app role (SET ROLE on connect).
    op.execute(f"GRANT {APP_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    secure(TABLES)

    op.execute(
        """
        CREATE FUNCTION audit_events_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
    )
    # One wake-up per inserting statement; identical payloads in one
    # transaction are folded by PostgreSQL, so a commit notifies once.
    op.execute(
        """
        CREATE FUNCTION events_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('stockgraph_events', '');
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER events_notify AFTER INSERT ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION events_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS events_notify ON events")
    op.execute("DROP FUNCTION IF EXISTS events_notify()")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    for table in TABLES:
        op.execute(f"DROP POLICY IF EXISTS owner_access ON {table}")
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
