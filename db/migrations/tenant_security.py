"""Row-level security for a tenant table, the same for every migration that adds one.

Forced RLS with two policies: the app role sees and writes only rows of the tenant
set for its transaction (``app.tenant_id``; unset means none), and the schema owner
keeps every row for migrations and operator commands. ``privileges`` are the app
role's grants (append-only tables get SELECT, INSERT). Kept stable: migrations
that ran use it as it is.
"""

from __future__ import annotations

from alembic import op

APP_ROLE = "stockgraph_app"
TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def secure(tables: dict[str, str]) -> None:
    """Grant, enable and force RLS, and create both policies, for each table."""
    for table, privileges in tables.items():
        op.execute(f"REVOKE ALL ON {table} FROM PUBLIC")
        op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} TO {APP_ROLE} "
            f"USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT})"
        )
        op.execute(
            f"CREATE POLICY owner_access ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)"
        )
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
