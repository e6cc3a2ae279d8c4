"""Who did something, as an integrator reads it: a staff code or an app's name.

Audit events and stock movements store the caller's subject (``staff:<staff id>``,
``app:<client id>`` or ``system``; auth/caller.py). The audit hash chain covers that
string, so stored rows are never rewritten: the readable form is resolved when the
row is read, from the reader's own tenant's staff and apps only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    STAFF = "STAFF"
    APP = "APP"
    SYSTEM = "SYSTEM"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class ActorRef:
    """A stored subject, split: the staff row id or the OAuth client id to look up."""

    kind: ActorKind
    staff_id: int | None = None
    client_id: str | None = None


def parse_subject(subject: str) -> ActorRef:
    """``staff:8`` -> STAFF 8, ``app:pos-1`` -> APP pos-1, ``system``; else UNKNOWN."""
    prefix, _, rest = subject.partition(":")
    if prefix == "staff" and rest.isascii() and rest.isdigit() and int(rest) < 2**63:
        return ActorRef(ActorKind.STAFF, staff_id=int(rest))
    if prefix == "app" and rest:
        return ActorRef(ActorKind.APP, client_id=rest)
    if subject == "system":
        return ActorRef(ActorKind.SYSTEM)
    return ActorRef(ActorKind.UNKNOWN)


def label(kind: ActorKind, code: str | None, name: str | None, subject: str) -> str:
    """``staff:MGR01``, ``app:POS app`` or ``system``; the stored subject when unresolved."""
    if kind is ActorKind.STAFF and code is not None:
        return f"staff:{code}"
    if kind is ActorKind.APP and name is not None:
        return f"app:{name}"
    if kind is ActorKind.SYSTEM:
        return "system"
    return subject
