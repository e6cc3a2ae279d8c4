"""Approval policy, pure: which rank a subject needs, and the approver chain by rank.

Only ranks that hold ``transfers:approve`` approve: REGIONAL_MANAGER, then
OWNER. A request needing OWNER goes up the chain: a regional manager's
approval is recorded and passes it on; the owner's completes it. An approver
of a higher rank than the step waiting may decide in its place (an owner may
approve a request still waiting for a regional manager, which completes every
step up to the owner's rank).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auth.caller import Caller, CallerKind
from auth.permissions import Role

CHAIN: tuple[Role, ...] = (Role.REGIONAL_MANAGER, Role.OWNER)
DEFAULT_RANK = Role.REGIONAL_MANAGER


@dataclass(frozen=True, slots=True)
class Rule:
    """Matches when every condition that is set holds."""

    min_units: int | None
    from_location_kinds: tuple[str, ...] | None
    required_rank: Role

    def matches(self, units: int, from_kind: str) -> bool:
        if self.min_units is not None and units < self.min_units:
            return False
        return self.from_location_kinds is None or from_kind in self.from_location_kinds


def level(rank: Role) -> int:
    return CHAIN.index(rank)


def required_rank(rules: Sequence[Rule], units: int, from_kind: str) -> Role:
    """The highest rank any matching rule asks for; a regional manager when none does."""
    ranks = [r.required_rank for r in rules if r.matches(units, from_kind)]
    return max([DEFAULT_RANK, *ranks], key=level)


def caller_rank(caller: Caller) -> Role | None:
    """The caller's rank in the chain: a staff rank, an operator as owner, an app as RM."""
    if caller.kind is CallerKind.SYSTEM:
        return Role.OWNER
    if caller.kind is CallerKind.APP:
        return Role.REGIONAL_MANAGER
    return caller.role if caller.role in CHAIN else None


def after_approval(waiting: Role, approver: Role, required: Role) -> Role | None:
    """The next step after ``approver`` approved the step ``waiting``; None when complete."""
    reached = max(level(waiting), level(approver))
    if reached >= level(required):
        return None
    return CHAIN[reached + 1]
