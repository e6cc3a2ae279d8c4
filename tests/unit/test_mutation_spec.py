"""MutationSpec: a result type that knows its audit entry and JSON is enough; the old
callbacks still override it, one by one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import ids
from domain.audit.service import AuditEntry
from domain.stock.records import LevelRecord, MovementRecord, StockChange
from resolvers._mutation import MutationSpec

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def change() -> StockChange:
    level = LevelRecord(
        id=7,
        location_id=1,
        product_id=2,
        on_hand=3,
        reserved=0,
        in_transit=0,
        incoming=0,
        reorder_point=None,
        version=4,
        updated_at=NOW,
    )
    move = MovementRecord(
        id=11,
        sequence=-5,
        location_id=1,
        product_id=2,
        kind="SALE",
        delta=-1,
        on_hand_after=3,
        oversell=False,
        reason=None,
        note=None,
        reference="R1",
        unit_cost=None,
        unit_price=None,
        sale_id=None,
        occurred_at=NOW,
        recorded_at=NOW,
        actor="staff:1",
        client_id=None,
        request_id=None,
    )
    return StockChange(levels=[level], movements=[move])


def test_a_result_type_is_enough():
    spec = MutationSpec("stock.sale", result=StockChange)
    result = change()
    entry = spec.entry(result)
    assert entry.action == "stock.sale" and entry.target_type == "StockLevel"
    assert entry.before == [{"stockLevel": ids.encode("StockLevel", 7), "onHand": 4}]
    assert entry.after["movements"] == [ids.encode("StockMovement", 11)]
    assert spec.from_json(spec.to_json(result)) == result


def test_the_old_callbacks_still_win():
    spec = MutationSpec(
        action="x.do",
        audit=lambda r: AuditEntry(action="x.do", target_id="given"),
        snapshot=lambda r: {"n": 1},
        restore=lambda data: ("restored", data["n"]),
    )
    assert spec.entry(change()).target_id == "given"
    assert spec.to_json(change()) == {"n": 1}
    assert spec.from_json({"n": 1}) == ("restored", 1)
    # positional, as mutations written before it spell it
    positional = MutationSpec("x.do", spec.audit, spec.snapshot, spec.restore)
    assert positional.to_json(change()) == {"n": 1}


def test_no_way_to_replay_is_an_error_not_a_guess():
    with pytest.raises(RuntimeError, match="no restore"):
        MutationSpec("x.do").from_json({})
