"""The transfer state machine: a pure table, no database.

```
DRAFT ──request──▶ REQUESTED ──approve (last step)──▶ APPROVED ──ship──▶ IN_TRANSIT
  │                  │  ╰─approve (earlier step)─╮                         │
  │                  ╰──reject──▶ CANCELLED ◀────╯ (stays REQUESTED)       │ receive
  ╰──cancel──▶ CANCELLED ◀──cancel── REQUESTED, APPROVED                   ▼
  IN_TRANSIT or       PARTIALLY_RECEIVED ◀──receive / resolve── (something outstanding)
  PARTIALLY_RECEIVED  RECEIVED ◀──receive / resolve── (nothing outstanding)
```

Cancelling is possible only before the goods leave (DRAFT, REQUESTED,
APPROVED); once IN_TRANSIT they come back only by a transfer the other way.
``RECEIVE`` and ``RESOLVE`` land in PARTIALLY_RECEIVED or RECEIVED depending on
whether units are still outstanding, which the caller tells ``next_status``.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import InvalidTransition


class TransferStatus(StrEnum):
    DRAFT = "DRAFT"
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    IN_TRANSIT = "IN_TRANSIT"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CANCELLED = "CANCELLED"


class TransferAction(StrEnum):
    REQUEST = "REQUEST"
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    SHIP = "SHIP"
    RECEIVE = "RECEIVE"
    RESOLVE = "RESOLVE"
    CANCEL = "CANCEL"


S = TransferStatus
A = TransferAction

# (status, action) -> the statuses the action may lead to from there
TRANSITIONS: dict[tuple[TransferStatus, TransferAction], frozenset[TransferStatus]] = {
    (S.DRAFT, A.REQUEST): frozenset({S.REQUESTED}),
    (S.DRAFT, A.CANCEL): frozenset({S.CANCELLED}),
    (S.REQUESTED, A.APPROVE): frozenset({S.REQUESTED, S.APPROVED}),
    (S.REQUESTED, A.REJECT): frozenset({S.CANCELLED}),
    (S.REQUESTED, A.CANCEL): frozenset({S.CANCELLED}),
    (S.APPROVED, A.SHIP): frozenset({S.IN_TRANSIT}),
    (S.APPROVED, A.CANCEL): frozenset({S.CANCELLED}),
    (S.IN_TRANSIT, A.RECEIVE): frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED}),
    (S.IN_TRANSIT, A.RESOLVE): frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED}),
    (S.PARTIALLY_RECEIVED, A.RECEIVE): frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED}),
    (S.PARTIALLY_RECEIVED, A.RESOLVE): frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED}),
}

TERMINAL = frozenset({S.RECEIVED, S.CANCELLED})
# Goods are (or may be) on the road: the destination's in-transit counts them.
OPEN_IN_TRANSIT = frozenset({S.IN_TRANSIT, S.PARTIALLY_RECEIVED})


def allowed(status: TransferStatus, action: TransferAction) -> bool:
    return (status, action) in TRANSITIONS


def actions_from(status: TransferStatus) -> frozenset[TransferAction]:
    return frozenset(a for (s, a) in TRANSITIONS if s is status)


def next_status(
    status: TransferStatus,
    action: TransferAction,
    *,
    outstanding: int = 0,
    approved: bool = True,
) -> TransferStatus:
    """The status after ``action``; INVALID_TRANSITION when the table has no such edge.

    ``outstanding``: units still in transit after a receipt or a resolution.
    ``approved``: whether an approval completed the approver chain.
    """
    targets = TRANSITIONS.get((status, action))
    if targets is None:
        raise InvalidTransition(
            f"cannot {action.value.lower()} a transfer that is {status.value}", ["id"]
        )
    if action in (A.RECEIVE, A.RESOLVE):
        target = S.PARTIALLY_RECEIVED if outstanding > 0 else S.RECEIVED
    elif action is A.APPROVE:
        target = S.APPROVED if approved else S.REQUESTED
    else:
        (target,) = targets
    assert target in targets
    return target
