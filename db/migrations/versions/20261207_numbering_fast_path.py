"""The commit-time numbering skips the rows it has numbered already.

Every provisional row fires ``sequence_at_commit``; the first firing numbers
them all and the others found nothing left to do, but only after three probes
for negative sequences. Inside one long transaction (the demo's 90 days, an
import's opening stock, a batch of offline sales) those probes walk the index
entries of every row numbered earlier in the transaction, which are dead but
not yet prunable, so the cost of a firing grew with the transaction: quadratic
in its size. Now a numbering run records, per tenant and for the transaction
only, the most negative provisional number it covered (``-currval``: numbers
are taken in one sequence, later ones more negative), and a firing for a row
at or above it returns at once.

Revision ID: 0017
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BODY = r"""
CREATE OR REPLACE FUNCTION sequence_at_commit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t bigint := NEW.tenant_id;
  n bigint;
  base bigint;
  audit_seq bigint;
  audit_prev bytea;
  pending record;
  numbered text := current_setting('stockgraph.numbered_' || t, true);
BEGIN
%(fast_path)s
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
%(record)s
  RETURN NULL;
END $$;
"""

_FAST_PATH = r"""
  -- Numbered already by an earlier firing of this transaction: nothing to look for.
  IF numbered IS NOT NULL AND numbered <> '' AND NEW.sequence >= numbered::bigint THEN
    RETURN NULL;
  END IF;
"""

# Every provisional number this session took so far is >= -currval, and every row of
# this tenant's among them is numbered now (for this transaction only: is_local).
_RECORD = r"""
  PERFORM set_config('stockgraph.numbered_' || t,
                     (-currval('provisional_sequences'))::text, true);
"""


def upgrade() -> None:
    op.execute(_BODY % {"fast_path": _FAST_PATH, "record": _RECORD})


def downgrade() -> None:
    op.execute(_BODY % {"fast_path": "", "record": ""})
