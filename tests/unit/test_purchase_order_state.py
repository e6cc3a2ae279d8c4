"""The purchase-order state machine: every listed edge, and nothing else."""

from __future__ import annotations

import pytest

from domain.errors import InvalidTransition
from domain.purchasing.state import (
    OPEN,
    TRANSITIONS,
    allowed,
    next_status,
)
from domain.purchasing.state import (
    PurchaseOrderAction as A,
)
from domain.purchasing.state import (
    PurchaseOrderStatus as S,
)


def test_the_happy_path() -> None:
    s = next_status(S.DRAFT, A.SUBMIT)
    s = next_status(s, A.APPROVE, approved=False)
    assert s is S.SUBMITTED
    s = next_status(s, A.APPROVE)
    assert s is S.APPROVED
    s = next_status(s, A.SEND)
    assert next_status(s, A.RECEIVE, outstanding=3) is S.PARTIALLY_RECEIVED
    assert next_status(S.PARTIALLY_RECEIVED, A.RECEIVE, outstanding=0) is S.RECEIVED
    assert next_status(S.PARTIALLY_RECEIVED, A.CLOSE) is S.CLOSED


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_anything_else_is_an_invalid_transition(status: S, action: A) -> None:
    if allowed(status, action):
        assert next_status(status, action, outstanding=1) in TRANSITIONS[(status, action)]
    else:
        with pytest.raises(InvalidTransition):
            next_status(status, action)


def test_cancel_only_before_it_is_sent() -> None:
    assert {s for s in S if allowed(s, A.CANCEL)} == {S.DRAFT, S.SUBMITTED, S.APPROVED}
    assert OPEN == {S.DRAFT, S.SUBMITTED, S.APPROVED, S.SENT, S.PARTIALLY_RECEIVED}


def test_waiting_for_the_suppliers_next_order_day() -> None:
    from datetime import date

    from domain.replenishment.suggestions import order_wait, round_purchase

    monday = date(2026, 12, 7)
    assert order_wait(monday, (1, 4)) == 0
    assert order_wait(date(2026, 12, 8), (1, 4)) == 2  # Tuesday → Thursday
    assert order_wait(date(2026, 12, 11), (1, 4)) == 3  # Friday → Monday
    assert order_wait(monday, ()) == 0
    assert round_purchase(7, 6, 1) == 12 and round_purchase(3, 6, 12) == 12
    assert round_purchase(0, 6, 12) == 0 and round_purchase(13, 1, 5) == 13
