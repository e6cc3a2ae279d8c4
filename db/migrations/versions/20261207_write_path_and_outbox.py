"""The write path's sequencing, the outbox and idempotency records

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Sequences are taken at COMMIT, not during the write. A writer inserts its
movements, outbox events and audit events with *provisional* sequences
(negative, from ``provisional_sequences``: unique, never visible to anyone
else), and a deferred constraint trigger numbers them when the transaction
commits: it locks the tenant's counter row, maps the provisional numbers to
the next ones in insertion order, rewrites the movements, the events (and the
sequences inside their payloads) and chains the audit events
(``hash = sha256(previous || canon)``, the canonical JSON the writer stored).
The counter row is then held only from that trigger to the end of COMMIT:
no round trip to the API process happens while it is held. Because the
numbers are still handed out under the row lock and the lock is held until
the commit is durable, numbers are gapless and in commit order, and no
reader ever sees a provisional number (the rows are invisible until commit,
and numbered by then). ``SET CONSTRAINTS sequence_at_commit IMMEDIATE``
numbers everything pending at once (for writers that need their numbers
inside the transaction; the lock is then held to COMMIT, as before).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "stockgraph_app"
SEQUENCED = ("stock_movements", "events", "audit_events")

_SEQUENCE_AT_COMMIT = r"""
CREATE FUNCTION sequence_at_commit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t bigint := NEW.tenant_id;
  n bigint;
  base bigint;
  audit_seq bigint;
  audit_prev bytea;
  pending record;
BEGIN
  -- Every row of the transaction fires this; the first firing numbers them all.
  IF NOT EXISTS (SELECT 1 FROM stock_movements WHERE tenant_id = t AND sequence < 0)
     AND NOT EXISTS (SELECT 1 FROM events WHERE tenant_id = t AND sequence < 0)
     AND NOT EXISTS (SELECT 1 FROM audit_events WHERE tenant_id = t AND sequence < 0) THEN
    RETURN NULL;
  END IF;
  -- The serial section starts here and ends when COMMIT is durable.
  SELECT last_sequence, audit_sequence, audit_hash INTO base, audit_seq, audit_prev
  FROM tenant_counters WHERE tenant_id = t FOR UPDATE;

  -- Movements and events: a stock.changed event shares its movement's provisional
  -- number; -nextval makes later inserts more negative, so DESC is insertion order.
  WITH k AS (
    SELECT u.old, base + row_number() OVER (ORDER BY u.old DESC) AS new
    FROM (SELECT sequence AS old FROM stock_movements WHERE tenant_id = t AND sequence < 0
          UNION
          SELECT sequence FROM events WHERE tenant_id = t AND sequence < 0) u
  ),
  um AS (
    UPDATE stock_movements m SET sequence = k.new
    FROM k WHERE m.tenant_id = t AND m.sequence = k.old
    RETURNING 1
  ),
  ue AS (
    UPDATE events e SET sequence = k.new, payload = CASE
        WHEN (e.payload #>> '{movement,sequence}')::bigint < 0 THEN
          jsonb_set(e.payload, '{movement,sequence}', to_jsonb(
            (SELECT x.new FROM k x WHERE x.old = (e.payload #>> '{movement,sequence}')::bigint)))
        WHEN (e.payload ->> 'movementSequence')::bigint < 0 THEN
          jsonb_set(e.payload, '{movementSequence}', to_jsonb(
            (SELECT x.new FROM k x WHERE x.old = (e.payload ->> 'movementSequence')::bigint)))
        ELSE e.payload END
    FROM k WHERE e.tenant_id = t AND e.sequence = k.old
    RETURNING 1
  )
  SELECT count(*) INTO n FROM k;
  base := base + n;

  -- Audit events: chained in insertion order from the stored canonical JSON.
  FOR pending IN
    SELECT sequence, canon FROM audit_events WHERE tenant_id = t AND sequence < 0
    ORDER BY sequence DESC
  LOOP
    audit_seq := audit_seq + 1;
    audit_prev := sha256(audit_prev || pending.canon);
    UPDATE audit_events SET sequence = audit_seq, hash = audit_prev, canon = NULL
    WHERE tenant_id = t AND sequence = pending.sequence;
  END LOOP;

  UPDATE tenant_counters
  SET last_sequence = base, audit_sequence = audit_seq, audit_hash = audit_prev
  WHERE tenant_id = t;
  RETURN NULL;
END $$;
"""

# The audit trail stays append-only: the only change allowed is numbering a
# provisional event once (sequence, hash and canon), by the function above.
_AUDIT_APPEND_ONLY = r"""
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.sequence < 0 AND NEW.sequence > 0 AND OLD.canon IS NOT NULL
     AND NEW.canon IS NULL
     AND (to_jsonb(NEW) - 'sequence' - 'hash' - 'canon')
         = (to_jsonb(OLD) - 'sequence' - 'hash' - 'canon') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""

_AUDIT_APPEND_ONLY_BEFORE = r"""
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    op.execute("CREATE SEQUENCE provisional_sequences AS bigint")
    op.execute(f"GRANT USAGE ON SEQUENCE provisional_sequences TO {APP_ROLE}")
    op.add_column("audit_events", sa.Column("canon", sa.LargeBinary(), nullable=True))
    op.execute(_AUDIT_APPEND_ONLY)
    op.execute(_SEQUENCE_AT_COMMIT)
    for table in SEQUENCED:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER sequence_at_commit AFTER INSERT ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.sequence < 0) "
            "EXECUTE FUNCTION sequence_at_commit()"
        )


def downgrade() -> None:
    for table in SEQUENCED:
        op.execute(f"DROP TRIGGER IF EXISTS sequence_at_commit ON {table}")
    op.execute("DROP FUNCTION IF EXISTS sequence_at_commit()")
    op.execute(_AUDIT_APPEND_ONLY_BEFORE)
    op.drop_column("audit_events", "canon")
    op.execute("DROP SEQUENCE IF EXISTS provisional_sequences")
