"""Job progress: phase and done/total on report and import jobs

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("report_jobs", "import_jobs"):
        op.add_column(
            table, sa.Column("phase", sa.String(16), server_default="QUEUED", nullable=False)
        )
        op.add_column(table, sa.Column("done", sa.Integer(), server_default="0", nullable=False))
        op.add_column(table, sa.Column("total", sa.Integer(), nullable=True))
    op.add_column(
        "import_jobs", sa.Column("progress", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "import_jobs", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True)
    )
    # jobs recorded before this revision were finished when they were recorded
    op.execute("UPDATE import_jobs SET phase = 'DONE', progress = 100, finished_at = created_at")
    op.execute("UPDATE report_jobs SET phase = 'DONE' WHERE status IN ('DONE', 'FAILED')")


def downgrade() -> None:
    op.drop_column("import_jobs", "finished_at")
    op.drop_column("import_jobs", "progress")
    for table in ("report_jobs", "import_jobs"):
        op.drop_column(table, "total")
        op.drop_column(table, "done")
        op.drop_column(table, "phase")
