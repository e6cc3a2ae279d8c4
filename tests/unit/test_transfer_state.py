"""The transfer state machine, without a database: every (status, action) pair."""

from __future__ import annotations

import pytest

from domain.errors import InvalidTransition
from domain.transfers.state import (
    TRANSITIONS,
    TransferAction,
    TransferStatus,
    actions_from,
    allowed,
    next_status,
)

S = TransferStatus
A = TransferAction

EXPECTED = {
    (S.DRAFT, A.REQUEST): S.REQUESTED,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.REQUESTED, A.APPROVE): S.APPROVED,
    (S.REQUESTED, A.REJECT): S.CANCELLED,
    (S.REQUESTED, A.CANCEL): S.CANCELLED,
    (S.APPROVED, A.SHIP): S.IN_TRANSIT,
    (S.APPROVED, A.CANCEL): S.CANCELLED,
    (S.IN_TRANSIT, A.RECEIVE): S.RECEIVED,
    (S.IN_TRANSIT, A.RESOLVE): S.RECEIVED,
    (S.PARTIALLY_RECEIVED, A.RECEIVE): S.RECEIVED,
    (S.PARTIALLY_RECEIVED, A.RESOLVE): S.RECEIVED,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_pair_is_allowed_or_refused_with_invalid_transition(status, action):
    if (status, action) in EXPECTED:
        assert allowed(status, action)
        assert next_status(status, action) is EXPECTED[(status, action)]
    else:
        assert not allowed(status, action)
        with pytest.raises(InvalidTransition) as refused:
            next_status(status, action)
        assert refused.value.code == "INVALID_TRANSITION"
        assert status.value in refused.value.message


def test_table_has_exactly_the_expected_edges():
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize("status", [S.IN_TRANSIT, S.PARTIALLY_RECEIVED])
@pytest.mark.parametrize("action", [A.RECEIVE, A.RESOLVE])
def test_outstanding_units_keep_a_transfer_partially_received(status, action):
    assert next_status(status, action, outstanding=3) is S.PARTIALLY_RECEIVED
    assert next_status(status, action, outstanding=0) is S.RECEIVED


def test_an_approval_step_short_of_the_chain_keeps_the_request_open():
    assert next_status(S.REQUESTED, A.APPROVE, approved=False) is S.REQUESTED
    assert next_status(S.REQUESTED, A.APPROVE, approved=True) is S.APPROVED


@pytest.mark.parametrize("status", [S.IN_TRANSIT, S.PARTIALLY_RECEIVED, S.RECEIVED])
def test_no_cancel_once_the_goods_left(status):
    assert A.CANCEL not in actions_from(status)


def test_terminal_states_have_no_way_out():
    assert actions_from(S.RECEIVED) == frozenset()
    assert actions_from(S.CANCELLED) == frozenset()
