"""Sequences taken at COMMIT (migration 0010): under many concurrent writers the
ledger equals the levels, sequences are gapless and in commit order, the audit
chain verifies, a reader resuming after S misses nothing, and a writer that
dies half-way leaves nothing behind."""

from __future__ import annotations

import asyncio
import random
import uuid

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.driver import Statement
from domain.audit.service import AuditEntry, append, verify
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from tests.helpers import ledger_mismatches

SALE = """
mutation($input: RecordSaleInput!) {
  recordSale(input: $input) {
    stockLevels { onHand } movements { id sequence delta }
    userErrors { code field message }
  }
}"""
RECEIVE = """
mutation($input: ReceiveStockInput!) {
  receiveStock(input: $input) {
    movements { id sequence delta } userErrors { code }
  }
}"""


async def sequences(db, tenant_id: int) -> dict[str, object]:
    async with db.owner_transaction() as s:
        moves = (
            await s.execute(
                text("SELECT id, sequence FROM stock_movements WHERE tenant_id = :t"),
                {"t": tenant_id},
            )
        ).all()
        events = (
            await s.execute(
                text("SELECT sequence, type, payload FROM events WHERE tenant_id = :t"),
                {"t": tenant_id},
            )
        ).all()
        tip = (
            await s.execute(
                text("SELECT last_sequence FROM tenant_counters WHERE tenant_id = :t"),
                {"t": tenant_id},
            )
        ).scalar_one()
        audit_seqs = (
            await s.execute(
                text("SELECT sequence, canon FROM audit_events WHERE tenant_id = :t"),
                {"t": tenant_id},
            )
        ).all()
    return {"moves": moves, "events": events, "tip": tip, "audit": audit_seqs}


def assert_gapless(seen: dict[str, object]) -> None:
    moves, events, tip = seen["moves"], seen["events"], seen["tip"]
    numbers = {m.sequence for m in moves} | {e.sequence for e in events}  # type: ignore[union-attr]
    assert numbers == set(range(1, int(tip) + 1))  # type: ignore[arg-type]
    by_id = {m.id: m.sequence for m in moves}  # type: ignore[union-attr]
    for e in events:  # type: ignore[union-attr]
        if e.type == "stock.changed":
            # the payload's movement is the event's own, numbered alike
            assert e.payload["movement"]["sequence"] == e.sequence
            assert by_id[e.payload["movement"]["id"]] == e.sequence
        if e.type == "stock.low":
            assert e.payload["movementSequence"] > 0
    audit = seen["audit"]
    assert sorted(a.sequence for a in audit) == list(range(1, len(audit) + 1))  # type: ignore
    assert all(a.canon is None for a in audit)  # type: ignore[union-attr]


async def test_many_sellers_at_once_keep_every_guarantee(gql, tenant, db):
    owner = tenant.owner
    for loc in ("S1", "S2"):
        data = await gql.ok(
            RECEIVE,
            owner,
            {
                "input": {
                    "locationId": tenant.loc(loc),
                    "lines": [{"sku": s, "quantity": 40} for s in ("A", "B", "C")],
                }
            },
        )
        assert data["receiveStock"]["userErrors"] == []

    # A reader resuming "after S" all along: it must see every number once, in order.
    resumed: list[int] = []
    done = asyncio.Event()

    async def resume_reader() -> None:
        after = 0
        while True:
            finished = done.is_set()
            async with db.tenant_transaction(tenant.tenant_id) as s:
                rows = (
                    await s.execute(
                        text(
                            "SELECT sequence FROM events WHERE tenant_id = :t "
                            "AND sequence > :after ORDER BY sequence"
                        ),
                        {"t": tenant.tenant_id, "after": after},
                    )
                ).all()
            for (seq,) in rows:
                resumed.append(seq)
                after = seq
            if finished:
                return
            await asyncio.sleep(0.005)

    async def one_sale(i: int) -> dict:
        lines = random.sample(["A", "B", "C"], k=random.randint(1, 3))
        data = await gql.ok(
            SALE,
            owner,
            {
                "input": {
                    "locationId": tenant.loc(random.choice(["S1", "S2"])),
                    "receiptNumber": f"R{i}",
                    "lines": [{"sku": s, "quantity": random.randint(1, 3)} for s in lines],
                }
            },
        )
        return data["recordSale"]

    async def numbered_posting(i: int) -> None:
        # A writer that needs its numbers inside the transaction (the default).
        async with db.tenant_transaction(tenant.tenant_id) as s:
            change = await post(
                s,
                owner,
                [Posting(tenant.locations["WH"], tenant.products["A"], MovementKind.RECEIPT, 1)],
            )
            assert all(m.sequence > 0 for m in change.movements)
            await append(s, owner, AuditEntry(action="test.numbered", target_id=str(i)))

    reader = asyncio.create_task(resume_reader())
    results = await asyncio.gather(
        *(one_sale(i) for i in range(60)), *(numbered_posting(i) for i in range(10))
    )
    done.set()
    await reader

    sales = [r for r in results if r is not None]
    assert len(sales) == 60 and all(r["userErrors"] == [] for r in sales)
    answered = [m["sequence"] for r in sales for m in r["movements"]]
    assert all(int(s) > 0 for s in answered)  # the answer carries the final numbers
    assert len(set(answered)) == len(answered)

    assert await ledger_mismatches(db, tenant.tenant_id) == []
    seen = await sequences(db, tenant.tenant_id)
    assert_gapless(seen)
    assert resumed == sorted({e.sequence for e in seen["events"]})  # type: ignore[union-attr]
    async with db.owner_transaction() as s:
        verified = await verify(s, tenant.tenant_id)
    assert verified.valid and verified.checked == len(seen["audit"])  # type: ignore[arg-type]


async def test_a_replay_answers_the_final_sequences(gql, tenant, db):
    variables = {
        "input": {
            "locationId": tenant.loc("S1"),
            "receiptNumber": "R-replay",
            "lines": [{"sku": "A", "quantity": 1}],
            "idempotencyKey": f"k-{uuid.uuid4()}",
        }
    }
    first = (await gql.ok(SALE, tenant.owner, variables))["recordSale"]
    again = (await gql.ok(SALE, tenant.owner, variables))["recordSale"]
    assert first["userErrors"] == [] and int(first["movements"][0]["sequence"]) > 0
    assert again == first


async def test_a_writer_that_fails_or_dies_leaves_nothing(db, tenant):
    before = await sequences(db, tenant.tenant_id)
    owner = tenant.owner
    loc, product = tenant.locations["S1"], tenant.products["B"]

    # Fails after writing provisional rows: rolled back, nothing numbered.
    with pytest.raises(RuntimeError):
        async with db.tenant_transaction(tenant.tenant_id) as s:
            await post(s, owner, [Posting(loc, product, MovementKind.RECEIPT, 5)], sequenced=False)
            await append(s, owner, AuditEntry(action="test.fails"))
            raise RuntimeError("the process fails half-way")

    # Dies while its COMMIT waits for the counter: its backend is terminated.
    async with db.owner_transaction() as holder:
        await holder.execute(
            text("SELECT 1 FROM tenant_counters WHERE tenant_id = :t FOR UPDATE"),
            {"t": tenant.tenant_id},
        )

        async def doomed() -> None:
            async with db.tenant_transaction(tenant.tenant_id) as s:
                await post(
                    s, owner, [Posting(loc, product, MovementKind.RECEIPT, 7)], sequenced=False
                )
                await append(s, owner, AuditEntry(action="test.dies"))
                pid = (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                victim.set_result(pid)

        victim: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(doomed())
        pid = await victim
        await asyncio.sleep(0.3)  # its COMMIT is now blocked in sequence_at_commit
        await holder.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises((DBAPIError, asyncpg.PostgresError, ConnectionError, OSError)):
            await task

    after = await sequences(db, tenant.tenant_id)
    assert after["tip"] == before["tip"]
    assert len(after["moves"]) == len(before["moves"])  # type: ignore[arg-type]
    assert len(after["audit"]) == len(before["audit"])  # type: ignore[arg-type]
    assert await ledger_mismatches(db, tenant.tenant_id) == []
    async with db.owner_transaction() as s:
        assert (await verify(s, tenant.tenant_id)).valid
        provisional = (
            await s.execute(
                text(
                    "SELECT (SELECT count(*) FROM stock_movements WHERE sequence < 0) + "
                    "(SELECT count(*) FROM events WHERE sequence < 0) + "
                    "(SELECT count(*) FROM audit_events WHERE sequence < 0)"
                )
            )
        ).scalar_one()
    assert provisional == 0

    # The next writer numbers on from where the chain stood.
    async with db.tenant_transaction(tenant.tenant_id) as s:
        await post(s, owner, [Posting(loc, product, MovementKind.RECEIPT, 1)], sequenced=False)
        await append(s, owner, AuditEntry(action="test.next"))
    assert_gapless(await sequences(db, tenant.tenant_id))


async def test_the_audit_trail_stays_append_only(db, tenant):
    async with db.tenant_transaction(tenant.tenant_id) as s:
        await append(s, tenant.owner, AuditEntry(action="test.guard"))
    for statement in (
        "UPDATE audit_events SET reason = 'x' WHERE tenant_id = :t",
        "UPDATE audit_events SET sequence = sequence + 1000 WHERE tenant_id = :t",
        "DELETE FROM audit_events WHERE tenant_id = :t",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.owner_transaction() as s:
                await s.execute(text(statement), {"t": tenant.tenant_id})


async def test_sequences_are_final_however_they_are_selected(gql, tenant):
    fragment = """
    mutation($input: RecordSaleInput!) {
      recordSale(input: $input) { ...Sold userErrors { code } }
    }
    fragment Sold on StockChangePayload { movements { ... on StockMovement { n: sequence } } }
    """
    plain = """
    mutation($input: RecordSaleInput!) {
      recordSale(input: $input) { stockLevels { onHand } movements { id } userErrors { code } }
    }"""

    def sale(receipt: str) -> dict:
        return {
            "input": {
                "locationId": tenant.loc("S2"),
                "receiptNumber": receipt,
                "lines": [{"sku": "C", "quantity": 1}],
            }
        }

    first = (await gql.ok(fragment, tenant.owner, sale("F1")))["recordSale"]
    assert first["userErrors"] == [] and int(first["movements"][0]["n"]) > 0
    second = (await gql.ok(plain, tenant.owner, sale("F2")))["recordSale"]
    assert second["userErrors"] == [] and second["stockLevels"][0]["onHand"] == -2
    third = (await gql.ok(fragment, tenant.owner, sale("F3")))["recordSale"]
    # the unsettled answer in between took a number too: one per movement, no gap
    assert int(third["movements"][0]["n"]) == int(first["movements"][0]["n"]) + 2


async def test_one_long_transaction_numbers_every_row_once(db, tenant, other_tenant):
    """Numbered now, numbered at COMMIT, two tenants and a rolled-back savepoint in one
    transaction (as the demo load and batch imports do): every row gets one final
    number, gapless per tenant, and each numbering run skips what an earlier one did."""
    mine, theirs = tenant, other_tenant
    before = {t.tenant_id: await sequences(db, t.tenant_id) for t in (mine, theirs)}
    async with db.owner_transaction() as s:
        for round_ in range(3):
            for t in (mine, theirs):
                lines = [
                    Posting(t.locations["S1"], t.products[sku], MovementKind.RECEIPT, 2)
                    for sku in ("A", "B", "C")
                ]
                change = await post(s, t.owner, lines)  # numbered now (IMMEDIATE)
                assert all(m.sequence > 0 for m in change.movements)
                await append(s, t.owner, AuditEntry(action=f"test.round{round_}"))
            savepoint = await s.begin_nested()
            await post(
                s,
                mine.owner,
                [Posting(mine.locations["S2"], mine.products["A"], MovementKind.RECEIPT, 9)],
            )
            await savepoint.rollback()  # its numbers and its note of them go together
            await post(  # left for COMMIT
                s,
                theirs.owner,
                [Posting(theirs.locations["S2"], theirs.products["A"], MovementKind.RECEIPT, 1)],
                sequenced=False,
            )
    # Interleaved and all left for COMMIT (no IMMEDIATE in this transaction): numbering
    # one tenant's rows must not pass over the other's, taken in between.
    async with db.owner_transaction() as s:
        for t in (mine, theirs, mine):
            line = Posting(t.locations["S2"], t.products["B"], MovementKind.RECEIPT, 1)
            await post(s, t.owner, [line], sequenced=False)
    for t in (mine, theirs):
        seen = await sequences(db, t.tenant_id)
        assert_gapless(seen)
        added = len(seen["moves"]) - len(before[t.tenant_id]["moves"])  # type: ignore[arg-type]
        assert added == (11 if t is mine else 13)
        assert await ledger_mismatches(db, t.tenant_id) == []
        async with db.owner_transaction() as s:
            assert (await verify(s, t.tenant_id)).valid


async def test_a_number_taken_outside_the_window_is_numbered_too(db, tenant, monkeypatch):
    """Writers take provisional numbers through ``provisional_sequence(t)``, which opens
    the transaction's window; a row whose number was taken otherwise, before the window
    or inside it, is still numbered once, gapless, its audit event chained."""
    from domain.audit import service as audit_service

    windowed = audit_service._APPEND
    taken_otherwise = "-nextval('provisional_sequences')"
    raw = Statement(
        text(windowed.clause.text.replace("provisional_sequence(:tenant_id)", taken_otherwise))
    )
    assert raw.sql != windowed.sql

    async def raw_append(session, action: str) -> None:
        monkeypatch.setattr(audit_service, "_APPEND", raw)
        try:
            await append(session, tenant.owner, AuditEntry(action=action))
        finally:
            monkeypatch.setattr(audit_service, "_APPEND", windowed)

    before = await sequences(db, tenant.tenant_id)
    line = Posting(tenant.locations["S1"], tenant.products["A"], MovementKind.RECEIPT, 1)
    for first_raw in (True, False):
        async with db.owner_transaction() as s:
            if first_raw:
                await raw_append(s, "test.raw.before")
            await post(s, tenant.owner, [line], sequenced=False)
            await append(s, tenant.owner, AuditEntry(action="test.windowed"))
            await raw_append(s, "test.raw.inside")
    seen = await sequences(db, tenant.tenant_id)
    assert_gapless(seen)
    assert len(seen["audit"]) - len(before["audit"]) == 5  # type: ignore[arg-type]
    assert len(seen["moves"]) - len(before["moves"]) == 2  # type: ignore[arg-type]
    async with db.owner_transaction() as s:
        assert (await verify(s, tenant.tenant_id)).valid
