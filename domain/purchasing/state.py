"""The purchase-order state machine: a pure table, no database.

```
DRAFT ──submit──▶ SUBMITTED ──approve (last step)──▶ APPROVED ──send──▶ SENT
  │                 │  ╰─approve (earlier step): stays SUBMITTED           │ receive
  │                 ╰──reject──▶ CANCELLED                                 ▼
  ╰──cancel──▶ CANCELLED ◀──cancel── SUBMITTED, APPROVED     PARTIALLY_RECEIVED / RECEIVED
  SENT or PARTIALLY_RECEIVED ──close (short, reason-coded)──▶ CLOSED
```

Cancelling is possible only before the order is sent to the supplier; after
that, what does not come is closed short with a reason. ``RECEIVE`` lands in
PARTIALLY_RECEIVED or RECEIVED depending on whether units are still due.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import InvalidTransition


class PurchaseOrderStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    SENT = "SENT"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


class PurchaseOrderAction(StrEnum):
    SUBMIT = "SUBMIT"
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    SEND = "SEND"
    RECEIVE = "RECEIVE"
    CLOSE = "CLOSE"
    CANCEL = "CANCEL"


S = PurchaseOrderStatus
A = PurchaseOrderAction

TRANSITIONS: dict[
    tuple[PurchaseOrderStatus, PurchaseOrderAction], frozenset[PurchaseOrderStatus]
] = {
    (S.DRAFT, A.SUBMIT): frozenset({S.SUBMITTED}),
    (S.DRAFT, A.CANCEL): frozenset({S.CANCELLED}),
    (S.SUBMITTED, A.APPROVE): frozenset({S.SUBMITTED, S.APPROVED}),
    (S.SUBMITTED, A.REJECT): frozenset({S.CANCELLED}),
    (S.SUBMITTED, A.CANCEL): frozenset({S.CANCELLED}),
    (S.APPROVED, A.SEND): frozenset({S.SENT}),
    (S.APPROVED, A.CANCEL): frozenset({S.CANCELLED}),
    (S.SENT, A.RECEIVE): frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED}),
    (S.PARTIALLY_RECEIVED, A.RECEIVE): frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED}),
    (S.SENT, A.CLOSE): frozenset({S.CLOSED}),
    (S.PARTIALLY_RECEIVED, A.CLOSE): frozenset({S.CLOSED}),
}

TERMINAL = frozenset({S.RECEIVED, S.CLOSED, S.CANCELLED})
# Ordered from the supplier and not all here: stock levels' ``incoming`` counts these.
INCOMING = frozenset({S.SENT, S.PARTIALLY_RECEIVED})
# Not finished: suggestions count their outstanding units as already on the way.
OPEN = frozenset(set(S) - TERMINAL)


def allowed(status: PurchaseOrderStatus, action: PurchaseOrderAction) -> bool:
    return (status, action) in TRANSITIONS


def next_status(
    status: PurchaseOrderStatus,
    action: PurchaseOrderAction,
    *,
    outstanding: int = 0,
    approved: bool = True,
) -> PurchaseOrderStatus:
    """The status after ``action``; INVALID_TRANSITION when the table has no such edge."""
    targets = TRANSITIONS.get((status, action))
    if targets is None:
        raise InvalidTransition(
            f"cannot {action.value.lower()} a purchase order that is {status.value}", ["id"]
        )
    if action is A.RECEIVE:
        target = S.PARTIALLY_RECEIVED if outstanding > 0 else S.RECEIVED
    elif action is A.APPROVE:
        target = S.APPROVED if approved else S.SUBMITTED
    else:
        (target,) = targets
    assert target in targets
    return target
