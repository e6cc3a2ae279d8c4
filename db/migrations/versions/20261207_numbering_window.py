"""The commit-time numbering looks only at its own transaction's rows.

``sequence_at_commit`` found a transaction's provisional rows by scanning its
tenant's negative sequences in three tables. Numbered rows leave their old,
negative index entries behind until vacuum, and a bitmap scan never marks them
dead, so that scan grew with every sale since the last vacuum; with statistics
taken while the tables were small, the planner also joined the events by
reading all of the tenant's events. This ran while the counter row was locked:
under 16 POS clients the numbering statement took 3–16 ms, the whole serial
section, and throughput fell run after run (211, 156, 130 sales/s).

Now the writers take provisional numbers through ``provisional_sequence(t)``,
which also records, per tenant and for the transaction only, the first number
the transaction took. Every later number of this session is more negative, so
the transaction's rows lie in ``[-currval, first]``: a window holding only the
numbers taken while it ran. The numbering reads that window by index, with
plans that cannot turn into scans of the tenant (``number_provisional``, run
with sequential, bitmap, hash and merge plans off), and afterwards records the
window it covered, so the other firings of the transaction return at once. Its
statements keep one generic plan each: a custom plan knows the window is narrow and
looks cheaper than the generic one, so PostgreSQL planned every statement again on
every call. A row outside any window (a provisional number taken some other way)
falls back to the full scan: slower, never wrong.

Revision ID: 0018
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A provisional number; the first one of a transaction for a tenant opens its window.
_PROVISIONAL = r"""
CREATE FUNCTION provisional_sequence(t bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n bigint := -nextval('provisional_sequences');
BEGIN
  IF coalesce(current_setting('stockgraph.window_' || t, true), '') = '' THEN
    PERFORM set_config('stockgraph.window_' || t, n::text, true);
  END IF;
  RETURN n;
END $$;
"""

# Numbers the tenant's provisional rows with sequences in [lo, hi]: the serial section.
_NUMBER = r"""
CREATE FUNCTION number_provisional(t bigint, lo bigint, hi bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
SET enable_seqscan = off SET enable_bitmapscan = off
SET enable_hashjoin = off SET enable_mergejoin = off
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  n bigint;
  base bigint;
  audit_seq bigint;
  audit_prev bytea;
  pending record;
BEGIN
  -- Called for a row of this transaction that is still provisional: there is work.
  -- The serial section starts here and ends when COMMIT is durable.
  SELECT last_sequence, audit_sequence, audit_hash INTO base, audit_seq, audit_prev
  FROM tenant_counters WHERE tenant_id = t FOR UPDATE;

  -- Movements and events: a stock.changed event shares its movement's provisional
  -- number; later numbers are more negative, so DESC is insertion order.
  WITH k AS (
    SELECT u.old, base + row_number() OVER (ORDER BY u.old DESC) AS new
    FROM (SELECT sequence AS old FROM stock_movements
          WHERE tenant_id = t AND sequence BETWEEN lo AND hi
          UNION
          SELECT sequence FROM events WHERE tenant_id = t AND sequence BETWEEN lo AND hi) u
  ),
  um AS (
    UPDATE stock_movements m SET sequence = k.new
    FROM k WHERE m.tenant_id = t AND m.sequence = k.old AND m.sequence BETWEEN lo AND hi
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
    FROM k WHERE e.tenant_id = t AND e.sequence = k.old AND e.sequence BETWEEN lo AND hi
    RETURNING 1
  )
  SELECT count(*) INTO n FROM k;
  base := base + n;

  -- Audit events: chained in insertion order from the stored canonical JSON.
  FOR pending IN
    SELECT sequence, canon FROM audit_events
    WHERE tenant_id = t AND sequence BETWEEN lo AND hi
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
END $$;
"""

# Every row of the transaction fires this; the first firing numbers the window. It runs
# as the writer (reading its own settings needs no privilege) and without settings of
# its own, so a firing that finds its row numbered already costs no switch of user or
# of search_path; only number_provisional runs as the owner. Names are qualified.
_TRIGGER = r"""
CREATE OR REPLACE FUNCTION sequence_at_commit() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
  t bigint := NEW.tenant_id;
  done_lo text := pg_catalog.current_setting('stockgraph.numbered_lo_' || t, true);
  done_hi text := pg_catalog.current_setting('stockgraph.numbered_hi_' || t, true);
  first text := pg_catalog.current_setting('stockgraph.window_' || t, true);
  lo bigint := -pg_catalog.currval('public.provisional_sequences'::pg_catalog.regclass);
  hi bigint := -1;
BEGIN
  -- Numbered already by an earlier firing of this transaction.
  IF coalesce(done_lo, '') <> '' AND NEW.sequence BETWEEN done_lo::bigint AND done_hi::bigint
  THEN
    RETURN NULL;
  END IF;
  IF coalesce(first, '') <> '' AND NEW.sequence BETWEEN lo AND first::bigint THEN
    hi := first::bigint;
    PERFORM public.number_provisional(t, lo, hi);
  ELSE
    -- Not a number from provisional_sequence(): every negative row of the tenant.
    PERFORM public.number_provisional(t, -9223372036854775807, -1);
  END IF;
  -- Later numbers of this transaction are below lo: they open a new window.
  PERFORM pg_catalog.set_config('stockgraph.numbered_lo_' || t, lo::text, true),
          pg_catalog.set_config('stockgraph.numbered_hi_' || t, hi::text, true),
          pg_catalog.set_config('stockgraph.window_' || t, '', true);
  RETURN NULL;
END $$;
"""


# A sale takes its movements' ids before it writes them (its audit event names them),
# so the app role may take numbers from the movements' identity sequence.
_GRANT_IDS = r"""
DO $$ BEGIN
  EXECUTE format('GRANT USAGE ON SEQUENCE %s TO stockgraph_app',
                 pg_get_serial_sequence('stock_movements', 'id'));
END $$;
"""
_REVOKE_IDS = _GRANT_IDS.replace("GRANT USAGE", "REVOKE USAGE").replace(" TO ", " FROM ")


def upgrade() -> None:
    op.execute(_PROVISIONAL)
    op.execute(_NUMBER)
    op.execute(_TRIGGER)
    op.execute(_GRANT_IDS)


def downgrade() -> None:
    from importlib import import_module

    op.execute(_REVOKE_IDS)
    before = import_module("db.migrations.versions.20261207_numbering_fast_path")
    op.execute(before._BODY % {"fast_path": before._FAST_PATH, "record": before._RECORD})
    op.execute("DROP FUNCTION IF EXISTS number_provisional(bigint, bigint, bigint)")
    op.execute("DROP FUNCTION IF EXISTS provisional_sequence(bigint)")
