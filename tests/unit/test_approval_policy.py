"""Approval policy and the approver chain by rank, without a database."""

from __future__ import annotations

from auth.caller import Caller
from auth.permissions import Permission, Role
from domain.approvals.policy import Rule, after_approval, caller_rank, required_rank

RM, OWNER = Role.REGIONAL_MANAGER, Role.OWNER


def test_no_matching_rule_needs_a_regional_manager():
    assert required_rank([], 5, "STORE") is RM
    assert required_rank([Rule(100, None, OWNER)], 99, "STORE") is RM


def test_the_highest_matching_rule_wins():
    rules = [Rule(100, None, OWNER), Rule(None, ("CENTRAL_WAREHOUSE",), RM)]
    assert required_rank(rules, 100, "STORE") is OWNER
    assert required_rank(rules, 5, "CENTRAL_WAREHOUSE") is RM
    both = [Rule(10, ("CENTRAL_WAREHOUSE",), OWNER)]
    assert required_rank(both, 10, "STORE") is RM
    assert required_rank(both, 10, "CENTRAL_WAREHOUSE") is OWNER


def test_chain_steps():
    assert after_approval(RM, RM, RM) is None
    assert after_approval(RM, RM, OWNER) is OWNER
    assert after_approval(RM, OWNER, OWNER) is None
    assert after_approval(OWNER, OWNER, OWNER) is None


def test_ranks_of_callers():
    assert caller_rank(Caller.for_staff(1, 1, Role.OWNER, frozenset())) is OWNER
    assert caller_rank(Caller.for_staff(1, 1, RM, frozenset())) is RM
    for role in (Role.STORE_MANAGER, Role.CLERK, Role.PURCHASER, Role.AUDITOR):
        assert caller_rank(Caller.for_staff(1, 1, role, frozenset())) is None
    app = Caller.for_app(1, "a", frozenset({Permission.TRANSFERS_APPROVE}), None)
    assert caller_rank(app) is RM
    assert caller_rank(Caller.system(1)) is OWNER
