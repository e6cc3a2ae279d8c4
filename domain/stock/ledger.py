"""The stock ledger: ``post()`` is the only code that changes stock.

One call, inside the caller's transaction:

1. creates any missing level rows (zero), in canonical (location, product) order;
2. locks every touched level row with one ``SELECT … ORDER BY location, product
   FOR UPDATE``; every writer locks in this order, so writers never deadlock;
3. checks the rules on the locked values (compare-and-set, no negative stock
   except for sales, which are flagged as oversells instead);
4. moves the levels in SQL (``on_hand = on_hand + delta``), never by writing
   back a value computed in Python;
5. writes the movements and one outbox event per movement, all in one statement,
   with provisional sequences.

**In transit.** ``in_transit`` (keyword) moves the ``in_transit`` quantity of
levels in the same posting: a shipment raises it at the destination while the
source's TRANSFER_OUT lowers on hand there; a receipt lowers it with the
TRANSFER_IN. Those levels are part of the same sorted ``FOR UPDATE``, so the
lock order is unchanged. In transit never goes below zero, and is not a
movement: ``on_hand`` stays the sum of the ledger, and the in-transit quantity
is checked against the open transfers instead (``domain.transfers``).

**Sequences, and why a reader never misses one.** Movements and events are
inserted with provisional (negative) sequences and numbered at COMMIT by the
``sequence_at_commit`` trigger (migration 0010; docs/write-path.md): it locks
the tenant's counter row, numbers the transaction's rows in insertion order and
holds the lock until the COMMIT is durable. So the next writer of the tenant
gets its numbers only after this one has committed, numbers are handed out in
commit order, and when a reader's snapshot shows sequence S, every sequence
below S that will ever commit is already committed and visible. A reader that
resumes "after S" (``stockMovements(afterSequence:)``, subscriptions, webhooks)
thus misses nothing and sees nothing twice. A transaction that rolls back never
took numbers, so committed sequences have no holes. The audit event
(``domain.audit.service.append``) is chained by the same trigger. Lock order for
every writer: idempotency key → levels → counter (at COMMIT, or at once with
``sequenced=True``, the default, for writers that use a movement's sequence
inside the transaction).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db import driver
from db.driver import Statement
from domain.audit.service import APPENDED, PENDING, PendingAudit
from domain.errors import InsufficientStock, InvalidInput, VersionConflict
from domain.periods.service import guard_postings
from domain.stock.records import LevelRecord, MovementKind, MovementRecord, StockChange
from domain.valuation.posting import cost_lines

Key = tuple[int, int]

STOCK_CHANGED = "stock.changed"
STOCK_LOW = "stock.low"

_ENSURE_LEVELS = Statement(
    text(
        """
    INSERT INTO stock_levels (tenant_id, location_id, product_id)
    SELECT :tenant, k.location_id, k.product_id
    FROM unnest(CAST(:locations AS bigint[]), CAST(:products AS bigint[]))
         AS k(location_id, product_id)
    ORDER BY k.location_id, k.product_id
    ON CONFLICT (tenant_id, location_id, product_id) DO NOTHING
    """
    )
)

_LOCK_LEVELS = Statement(
    text(
        """
    SELECT s.id, s.location_id, s.product_id, s.on_hand, s.reserved, s.in_transit,
           s.incoming, s.reorder_point, s.version, s.stock_value, s.average_cost,
           p.cost_price AS catalogue_cost
    FROM stock_levels s
    JOIN unnest(CAST(:locations AS bigint[]), CAST(:products AS bigint[]))
         AS k(location_id, product_id)
      ON s.location_id = k.location_id AND s.product_id = k.product_id
    JOIN products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
    WHERE s.tenant_id = :tenant
    ORDER BY s.location_id, s.product_id
    FOR UPDATE OF s
    """
    )
)

# Moves the locked levels (in SQL: on_hand = on_hand + delta, never a value written
# back) and writes the movements and their outbox events, all in one statement, with
# provisional (negative, globally unique) sequences taken in line order: movement i
# and its stock.changed event share one, the low-stock events follow. Payloads get
# their movement's id and provisional sequence here; the commit-time trigger
# (``sequence_at_commit``, migration 0010) replaces every provisional number, in the
# rows and in the payloads, by the tenant's next ones. No lock is taken here: the
# levels are locked already, so what they become is known before this runs, and the
# count of levels moved is returned to confirm it.
_MOVE_AND_RECORD_SQL = """
    WITH moved AS (
      UPDATE stock_levels l
      SET on_hand = l.on_hand + d.delta, in_transit = l.in_transit + d.transit,
          version = l.version + 1, updated_at = :now,
          stock_value = l.stock_value + d.value,
          average_cost = COALESCE(d.average, l.average_cost)
      FROM unnest(CAST(:level_ids AS bigint[]), CAST(:level_deltas AS integer[]),
                  CAST(:level_transit AS integer[]), CAST(:level_values AS numeric[]),
                  CAST(:level_averages AS numeric[])) AS d(id, delta, transit, value, average)
      WHERE l.tenant_id = :tenant AND l.id = d.id
      RETURNING l.id
    ),
    s AS (
      SELECT e.ord, e.type, e.payload, provisional_sequence(CAST(:tenant AS bigint)) AS seq
      FROM unnest(CAST(:types AS text[]), CAST(:payloads AS text[]))
        WITH ORDINALITY AS e(type, payload, ord)
    ),
    mv AS (
      INSERT INTO stock_movements (
        tenant_id, sequence, location_id, product_id, kind, delta, on_hand_after, oversell,
        reason, note, reference, unit_cost, unit_price, sale_id, occurred_at, recorded_at,
        actor, client_id, request_id)
      SELECT CAST(:tenant AS bigint), s.seq, m.location_id, m.product_id, m.kind,
        m.delta, m.on_hand_after, m.oversell, m.reason, m.note, m.reference, m.unit_cost,
        m.unit_price, m.sale_id, m.occurred_at, CAST(:now AS timestamptz),
        CAST(:actor AS text), CAST(:client_id AS text), CAST(:request_id AS text)
      FROM unnest(
        CAST(:locations AS bigint[]), CAST(:products AS bigint[]), CAST(:kinds AS text[]),
        CAST(:deltas AS integer[]), CAST(:afters AS integer[]), CAST(:oversells AS boolean[]),
        CAST(:reasons AS text[]), CAST(:notes AS text[]), CAST(:references AS text[]),
        CAST(:unit_costs AS numeric[]), CAST(:unit_prices AS numeric[]),
        CAST(:sale_ids AS bigint[]), CAST(:occurred AS timestamptz[])
      ) WITH ORDINALITY AS m(location_id, product_id, kind, delta, on_hand_after, oversell,
                            reason, note, reference, unit_cost, unit_price, sale_id,
                            occurred_at, ord)
      JOIN s ON s.ord = m.ord
      RETURNING id, sequence
    ),
    ev AS (
      INSERT INTO events (tenant_id, sequence, type, payload)
      SELECT CAST(:tenant AS bigint), s.seq, s.type,
        CASE WHEN s.ord <= CAST(:moves AS bigint) THEN
          jsonb_set(jsonb_set(CAST(s.payload AS jsonb), '{movement,id}', to_jsonb(mv.id)),
                    '{movement,sequence}', to_jsonb(mv.sequence))
        ELSE
          jsonb_set(CAST(s.payload AS jsonb), '{movementSequence}',
                    to_jsonb((SELECT l.seq FROM s l WHERE l.ord = CAST(:moves AS bigint))))
        END
      FROM s LEFT JOIN mv ON mv.sequence = s.seq
    )
    SELECT id, sequence, (SELECT count(*) FROM moved) AS moved FROM mv ORDER BY sequence DESC
"""
_MOVE_AND_RECORD = Statement(text(_MOVE_AND_RECORD_SQL))

# The same, for a posting whose movement ids were taken already (``movement_ids``),
# with the mutation's audit event inserted too (``PendingAudit``): its entry names
# the movements by id, so it is known before this runs. One round trip fewer.
_AUDIT_ROW = """
    au AS (
      INSERT INTO audit_events (
        tenant_id, sequence, hash, canon, occurred_at, actor_kind, actor, staff_id,
        staff_role, client_id, action, target_type, target_id, before, after, reason,
        request_id, idempotency_key, outcome)
      VALUES (:audit_tenant_id, provisional_sequence(:audit_tenant_id), '', :audit_canon,
        :audit_occurred_at, :audit_actor_kind, :audit_actor, :audit_staff_id,
        :audit_staff_role, :audit_client_id, :audit_action, :audit_target_type,
        :audit_target_id, CAST(:audit_before AS jsonb), CAST(:audit_after AS jsonb),
        :audit_reason, :audit_request_id, :audit_idempotency_key, :audit_outcome)
    )
    SELECT id, sequence, (SELECT count(*) FROM moved) AS moved FROM mv"""


def _rewritten(sql: str, *changes: tuple[str, str]) -> str:
    """``sql`` with each (old, new) replaced; every ``old`` must be there."""
    for before, after in changes:
        if before not in sql:
            raise RuntimeError(f"statement text changed: {before!r} not found")
        sql = sql.replace(before, after)
    return sql


_MOVE_RECORD_AND_AUDIT = Statement(
    text(
        _rewritten(
            _MOVE_AND_RECORD_SQL,
            (
                "INSERT INTO stock_movements (\n        tenant_id,",
                "INSERT INTO stock_movements (\n        id, tenant_id,",
            ),
            (
                "SELECT CAST(:tenant AS bigint), s.seq, m.location_id,",
                "SELECT m.id, CAST(:tenant AS bigint), s.seq, m.location_id,",
            ),
            (
                "CAST(:sale_ids AS bigint[]), CAST(:occurred AS timestamptz[])\n      )",
                "CAST(:sale_ids AS bigint[]), CAST(:occurred AS timestamptz[]),\n"
                "        CAST(:ids AS bigint[])\n      )",
            ),
            ("occurred_at, ord)", "occurred_at, id, ord)"),
            (
                "    )\n    SELECT id, sequence, (SELECT count(*) FROM moved) AS moved FROM mv",
                "    )," + _AUDIT_ROW,
            ),
        )
    )
)

# Numbers everything of this transaction now (the trigger fires at once) for a
# writer that needs its sequences before COMMIT; the counter is then held to COMMIT.
_NUMBER_NOW = text("SET CONSTRAINTS sequence_at_commit IMMEDIATE")

_FINAL = Statement(
    text("SELECT id, sequence FROM stock_movements WHERE tenant_id = :tenant AND id = ANY(:ids)")
)


@dataclass(frozen=True, slots=True)
class Posting:
    """One line to post. ``allow_negative`` is for sales: the goods already left."""

    location_id: int
    product_id: int
    kind: MovementKind
    delta: int
    reason: str | None = None
    note: str | None = None
    reference: str | None = None
    unit_cost: Decimal | None = None
    unit_price: Decimal | None = None
    sale_id: int | None = None
    occurred_at: datetime | None = None
    expected_on_hand: int | None = None
    allow_negative: bool = False
    field: tuple[str, ...] = ()

    @property
    def key(self) -> Key:
        return (self.location_id, self.product_id)


def _check(postings: Sequence[Posting], on_hand: dict[Key, int]) -> None:
    """Apply the rules to the locked quantities, in the order the lines were given."""
    running = dict(on_hand)
    for p in postings:
        current = running[p.key]
        if p.expected_on_hand is not None and p.expected_on_hand != current:
            raise VersionConflict(
                f"on hand is {current}, not the expected {p.expected_on_hand}",
                [*p.field, "expectedOnHand"] if p.field else ["expectedOnHand"],
                details={"currentOnHand": current},
            )
        after = current + p.delta
        if after < 0 and p.delta < 0 and not p.allow_negative:
            raise InsufficientStock(
                f"only {current} on hand; cannot remove {-p.delta}",
                [*p.field, "quantity"] if p.field else ["delta"],
                details={"currentOnHand": current},
            )
        running[p.key] = after


async def post(
    session: AsyncSession,
    caller: Caller,
    postings: Sequence[Posting],
    *,
    request_id: str | None = None,
    in_transit: Mapping[Key, int] | None = None,
    sequenced: bool = True,
    levels_exist: bool = False,
    locked: Sequence[Any] | None = None,
    movement_ids: Sequence[int] | None = None,
) -> StockChange:
    """Post ``postings`` atomically; raise a DomainError and change nothing on refusal.

    ``in_transit`` maps (location, product) to a change of that level's in-transit
    quantity, applied in the same transaction under the same locks.

    ``sequenced=False`` leaves the movements' sequences provisional (negative) until
    COMMIT numbers them, so the tenant's counter is held only during COMMIT; call
    ``settle`` after the commit for the final numbers. The default numbers them now
    (the counter is then held from here to COMMIT), for writers that use a
    movement's sequence inside the transaction.

    ``levels_exist``: the caller saw a level row for every (location, product) in
    this transaction (level rows are never deleted), so none needs creating first.
    ``locked``: the caller locked every touched level already in this transaction, in
    (location, product) order, and read it as ``_LOCK_LEVELS`` does; used only when it
    holds exactly the touched levels.
    ``movement_ids``: ids taken for the movements already, one a posting; with them,
    the mutation's pending audit event (``domain.audit.service.PendingAudit``) is
    inserted by the statement that writes the movements, and marked as appended.
    """
    if not postings:
        raise InvalidInput("nothing to post", ["lines"])
    if any(p.delta == 0 for p in postings):
        raise InvalidInput("a movement must change the quantity", ["delta"])
    transit = {k: d for k, d in (in_transit or {}).items() if d != 0}
    tenant = caller.tenant_id
    await guard_postings(session, tenant, postings)  # closed periods (domain.periods)
    keys = sorted({p.key for p in postings} | transit.keys())
    key_args = {
        "tenant": tenant,
        "locations": [k[0] for k in keys],
        "products": [k[1] for k in keys],
    }
    if locked is None or [(r.location_id, r.product_id) for r in locked] != keys:
        if not levels_exist:
            await driver.execute(session, _ENSURE_LEVELS, key_args)
        locked = await driver.rows(session, _LOCK_LEVELS, key_args)
        if len(locked) < len(keys):  # the caller's levels_exist was wrong: create them
            await driver.execute(session, _ENSURE_LEVELS, key_args)
            locked = await driver.rows(session, _LOCK_LEVELS, key_args)
    level_id = {(r.location_id, r.product_id): r.id for r in locked}
    _check(postings, {(r.location_id, r.product_id): r.on_hand for r in locked})
    for r in locked:
        if r.in_transit + transit.get((r.location_id, r.product_id), 0) < 0:
            raise InvalidInput("in transit cannot go below zero", ["lines"])

    totals: dict[Key, int] = defaultdict(int)
    for p in postings:
        totals[p.key] += p.delta
    # valuation: the unit cost of each line and the levels' new value and average
    costing = await cost_lines(session, tenant, postings, locked)
    now = datetime.now(UTC)
    # What the levels become: the rows are locked, so this is what the UPDATE below
    # makes of them (it confirms the count).
    levels = {
        (r.location_id, r.product_id): LevelRecord(
            id=r.id,
            location_id=r.location_id,
            product_id=r.product_id,
            on_hand=r.on_hand + totals.get((r.location_id, r.product_id), 0),
            reserved=r.reserved,
            in_transit=r.in_transit + transit.get((r.location_id, r.product_id), 0),
            incoming=r.incoming,
            reorder_point=r.reorder_point,
            version=r.version + 1,
            updated_at=now,
        )
        for r in locked
    }

    lows = _low_stock_crossings(locked, levels)

    # on_hand after each line, derived backwards from the final quantity in SQL.
    # the mutation's audit event goes with the movements when their ids are known
    pending: PendingAudit | None = session.info.get(PENDING)
    audited_here = (
        pending is not None and movement_ids is not None and len(movement_ids) == len(postings)
    )
    ids = list(movement_ids) if audited_here and movement_ids is not None else [0] * len(postings)
    after_last: dict[Key, int] = {k: lv.on_hand for k, lv in levels.items()}
    remaining = dict(totals)
    drafts: list[MovementRecord] = []
    for p, unit_cost, movement_id in zip(postings, costing.unit_costs, ids, strict=True):
        remaining[p.key] -= p.delta
        after = after_last[p.key] - remaining[p.key]
        drafts.append(
            MovementRecord(
                id=movement_id,  # taken already (movement_ids), or given by the INSERT
                sequence=0,  # provisional, from the INSERT below; final at COMMIT
                location_id=p.location_id,
                product_id=p.product_id,
                kind=p.kind.value,
                delta=p.delta,
                on_hand_after=after,
                oversell=p.kind is MovementKind.SALE and p.delta < 0 and after < 0,
                reason=p.reason,
                note=p.note,
                reference=p.reference,
                unit_cost=unit_cost,
                unit_price=p.unit_price,
                sale_id=p.sale_id,
                occurred_at=(p.occurred_at or now).astimezone(UTC),
                recorded_at=now,
                actor=caller.subject,
                client_id=caller.client_id,
                request_id=request_id,
            )
        )
    types = [STOCK_CHANGED] * len(drafts) + [STOCK_LOW] * len(lows)
    payloads = [
        json.dumps(stock_changed_payload(m, levels[(m.location_id, m.product_id)])) for m in drafts
    ] + [json.dumps({"level": level.to_json(), "movementSequence": 0}) for level in lows]
    audit_values: dict[str, Any] = {}
    if audited_here and pending is not None:
        change = StockChange(levels=[levels[k] for k in keys], movements=drafts)
        audit_values = {f"audit_{k}": v for k, v in pending.values(change).items()}
        audit_values["ids"] = ids
    written = await driver.rows(
        session,
        _MOVE_RECORD_AND_AUDIT if audited_here else _MOVE_AND_RECORD,
        {
            **audit_values,
            "tenant": tenant,
            "level_ids": [level_id[k] for k in keys],
            "level_deltas": [totals.get(k, 0) for k in keys],
            "level_transit": [transit.get(k, 0) for k in keys],
            "level_values": [costing.value_deltas[k] for k in keys],
            "level_averages": [costing.averages[k] for k in keys],
            "moves": len(drafts),
            "now": now,
            "actor": caller.subject,
            "client_id": caller.client_id,
            "request_id": request_id,
            "locations": [m.location_id for m in drafts],
            "products": [m.product_id for m in drafts],
            "kinds": [m.kind for m in drafts],
            "deltas": [m.delta for m in drafts],
            "afters": [m.on_hand_after for m in drafts],
            "oversells": [m.oversell for m in drafts],
            "reasons": [m.reason for m in drafts],
            "notes": [m.note for m in drafts],
            "references": [m.reference for m in drafts],
            "unit_costs": [m.unit_cost for m in drafts],
            "unit_prices": [m.unit_price for m in drafts],
            "sale_ids": [m.sale_id for m in drafts],
            "occurred": [m.occurred_at for m in drafts],
            "types": types,
            "payloads": payloads,
        },
    )
    if written[0].moved != len(keys):
        raise RuntimeError(f"moved {written[0].moved} of {len(keys)} locked levels")
    if audited_here:
        session.info[APPENDED] = True
    movements = [
        dataclasses.replace(m, id=row.id, sequence=row.sequence)
        for m, row in zip(drafts, written, strict=True)
    ]
    change = StockChange(levels=[levels[k] for k in keys], movements=movements)
    if sequenced:
        await session.execute(_NUMBER_NOW)
        change = await settle(session, caller, change)
    return change


async def settle(session: AsyncSession, caller: Caller, change: StockChange) -> StockChange:
    """``change`` with the final sequences of its movements (after COMMIT numbered them).

    Idempotent: a change whose movements are numbered is returned as it is.
    """
    pending = [m.id for m in change.movements if m.sequence < 0]
    if not pending:
        return change
    rows = await driver.rows(session, _FINAL, {"tenant": caller.tenant_id, "ids": pending})
    final = {row.id: row.sequence for row in rows}
    return dataclasses.replace(
        change,
        movements=[
            dataclasses.replace(m, sequence=final[m.id]) if m.sequence < 0 else m
            for m in change.movements
        ],
    )


def _low_stock_crossings(locked: Sequence[Any], after: dict[Key, LevelRecord]) -> list[LevelRecord]:
    """Levels whose available quantity fell to or below the reorder point just now.

    Once per crossing: a change that starts at or below the point is not a new crossing.
    """
    crossed = []
    for row in locked:
        level = after[(row.location_id, row.product_id)]
        point = level.reorder_point
        if point is None:
            continue
        if row.on_hand - row.reserved > point >= level.available:
            crossed.append(level)
    return crossed


def stock_changed_payload(movement: MovementRecord, level: LevelRecord) -> dict[str, Any]:
    """The outbox payload of one movement: the movement and its level as of that movement.

    When one posting moves the same level twice, each event carries the level's
    quantity right after its own movement (``on_hand = on_hand_after``).
    """
    snapshot = level.to_json()
    snapshot["on_hand"] = movement.on_hand_after
    return {"movement": movement.to_json(), "level": snapshot}
