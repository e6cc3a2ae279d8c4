"""The moving-average rule alone, without a database."""

from __future__ import annotations

from decimal import Decimal

from domain.valuation.average import Position, start


def test_costed_receipts_average_and_outgoing_leave_at_the_average():
    pos = start(0, Decimal(0), None, Decimal("4"))
    cost, pos = pos.move("RECEIPT", 10, Decimal("4.00"))
    assert (cost, pos.value, pos.average) == (Decimal("4.0000"), Decimal("40"), Decimal("4.0000"))
    cost, pos = pos.move("RECEIPT", 5, Decimal("5.5"))
    assert pos.average == Decimal("4.5000")
    cost, pos = pos.move("SALE", -3, None)
    assert (cost, pos.on_hand, pos.value) == (Decimal("4.5000"), 12, Decimal("54.0000"))
    assert pos.average == Decimal("4.5000")


def test_uncosted_gains_enter_at_the_average_and_do_not_move_it():
    pos = Position(3, Decimal("10.0000"), Decimal("3.3333"))
    cost, after = pos.move("STOCKTAKE", 2, Decimal("99"))  # a given cost is not a purchase cost
    assert cost == Decimal("3.3333")
    assert after.value == Decimal("16.6666")
    assert after.average == Decimal("3.3333")


def test_unit_costs_round_half_up_to_four_places():
    _, pos = start(0, Decimal(0), None, None).move("RECEIPT", 3, Decimal("1.00005"))
    assert pos.average == Decimal("1.0001")
    _, pos = Position(0, Decimal(0), None).move("RECEIPT", 3, Decimal("10"))
    _, pos = pos.move("RECEIPT", 3, Decimal("10.0001"))
    assert pos.average == Decimal("10.0001")  # 60.0003 / 6 = 10.00005 → up


def test_emptying_keeps_the_rounding_remainder_in_the_value_until_the_next_receipt():
    pos = Position(0, Decimal(0), None)
    _, pos = pos.move("RECEIPT", 1, Decimal("1"))
    _, pos = pos.move("RECEIPT", 2, Decimal("1.0001"))  # 3.0002 / 3 → 1.0001
    _, pos = pos.move("SALE", -3, None)
    assert pos.on_hand == 0 and pos.value == Decimal("-0.0001")
    _, pos = pos.move("RECEIPT", 1, Decimal("2"))
    assert pos.value == Decimal("1.9999") and pos.average == Decimal("1.9999")


def test_no_cost_known_is_zero():
    cost, pos = start(0, Decimal(0), None, None).move("ADJUSTMENT", 2, None)
    assert cost == Decimal("0") and pos.value == 0
