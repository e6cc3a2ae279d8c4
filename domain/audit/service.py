"""Recording audit events and verifying the chain.

``append`` inserts the event with a provisional (negative) sequence and its
canonical JSON; it takes no lock. When the transaction commits, the trigger of
migration 0010 (``sequence_at_commit``) locks the tenant's counter row,
numbers the event and hashes it onto the chain from the stored previous hash.
So audit events are numbered without gaps in commit order, and no client round
trip happens while the counter is held.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db import driver
from db.driver import Statement
from db.models import AuditEvent
from domain.audit import chain

_APPEND = Statement(
    text(
        """
    INSERT INTO audit_events (
      tenant_id, sequence, hash, canon, occurred_at, actor_kind, actor, staff_id, staff_role,
      client_id, action, target_type, target_id, before, after, reason, request_id,
      idempotency_key, outcome)
    VALUES (:tenant_id, provisional_sequence(:tenant_id), '', :canon, :occurred_at,
      :actor_kind, :actor, :staff_id, :staff_role, :client_id, :action, :target_type,
      :target_id, CAST(:before AS jsonb), CAST(:after AS jsonb), :reason, :request_id,
      :idempotency_key, :outcome)
    RETURNING sequence
    """
    )
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    action: str
    target_type: str | None = None
    target_id: str | None = None
    before: Any = None
    after: Any = None
    reason: str | None = None
    outcome: str = "success"


MAX_TEXT = 10_000  # characters of one string kept in an audit record
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def sanitise(value: Any) -> Any:
    """Any input as PostgreSQL can store it: NUL and lone surrogates become U+FFFD and
    overlong strings are cut, in keys and values alike. A refused or denied mutation is
    audited whatever its input holds, so nothing in it may make the append fail."""
    if isinstance(value, str):
        text = _UNSTORABLE.sub("\ufffd", value)
        return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\u2026"
    if isinstance(value, dict):
        return {sanitise(str(k)): sanitise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [sanitise(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """Only JSON-native values go into the chain, so a row re-hashes identically.

    What a JSON round trip (``json.dumps(default=str)`` then ``loads``) and ``sanitise``
    would give, in one walk: anything else becomes its ``str()``, tuples become lists,
    keys strings as JSON writes them. Every mutation's audit event passes here."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return sanitise(str.__str__(value))
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return sanitise(str(value))


def _key(key: Any) -> str:
    """A dict key as JSON writes it."""
    if isinstance(key, str):
        return sanitise(str.__str__(key))  # type: ignore[no-any-return]
    if key is None or key is True or key is False:
        return json.dumps(key)
    if isinstance(key, int | float):
        return sanitise(json.dumps(key))  # type: ignore[no-any-return]
    return sanitise(str(key))  # type: ignore[no-any-return]


def _text(value: str | None) -> str | None:
    return sanitise(value) if value is not None else None


def row_values(
    caller: Caller,
    entry: AuditEntry,
    *,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """The parameters of one audit row as ``_APPEND`` takes them (canonical JSON
    included), for ``append`` and for a writer that inserts the row in a statement of
    its own (``PendingAudit``)."""
    event: dict[str, Any] = {
        "occurred_at": datetime.now(UTC),
        "actor_kind": caller.kind.value,
        "actor": caller.subject,
        "staff_id": caller.staff_id,
        "staff_role": caller.role.value if caller.role else None,
        "client_id": caller.client_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": _plain(entry.before),
        "after": _plain(entry.after),
        "reason": _text(entry.reason),
        "request_id": _text(request_id),
        "idempotency_key": _text(idempotency_key),
        "outcome": entry.outcome,
    }
    params = dict(event)
    params["before"] = json.dumps(event["before"], ensure_ascii=False)
    params["after"] = json.dumps(event["after"], ensure_ascii=False)
    params["tenant_id"] = caller.tenant_id
    params["canon"] = chain.canonical_json(event)
    return params


async def append(
    session: AsyncSession,
    caller: Caller,
    entry: AuditEntry,
    *,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> int:
    """Append one event to the tenant's chain at commit; returns its provisional sequence."""
    params = row_values(caller, entry, request_id=request_id, idempotency_key=idempotency_key)
    return int(await driver.value(session, _APPEND, params))


# session.info keys: what a mutation will audit, and whether a writer did it already
PENDING = "stockgraph.audit.pending"
APPENDED = "stockgraph.audit.appended"


@dataclass(frozen=True, slots=True)
class PendingAudit:
    """The audit event a mutation appends after its domain call, offered to the
    domain: a writer whose result is the mutation's result (``record_sale``'s posting)
    may insert the row in its own last statement, one round trip fewer, and then says
    so (``session.info[APPENDED]``), so the mutation appends nothing more. The row is
    the one the mutation would have appended: ``entry`` is the mutation's own."""

    caller: Caller
    entry: Callable[[Any], AuditEntry]
    request_id: str | None
    idempotency_key: str | None

    def values(self, result: Any) -> dict[str, Any]:
        return row_values(
            self.caller,
            self.entry(result),
            request_id=self.request_id,
            idempotency_key=self.idempotency_key,
        )


@dataclass(frozen=True, slots=True)
class Verification:
    valid: bool
    checked: int
    first_bad_sequence: int | None


async def _events(session: AsyncSession, tenant_id: int) -> AsyncIterator[dict[str, Any]]:
    table = AuditEvent.__table__
    stmt = (
        select(table)
        .where(table.c.tenant_id == tenant_id)
        .order_by(table.c.sequence)
        .execution_options(yield_per=2000)
    )
    result = await session.stream(stmt)
    async for row in result.mappings():
        yield dict(row)


async def verify(session: AsyncSession, tenant_id: int) -> Verification:
    """Recompute the tenant's chain from the rows; name the first sequence that breaks."""
    prev = chain.GENESIS
    expected = 1
    checked = 0
    batch: list[dict[str, Any]] = []

    def flush() -> int | None:
        nonlocal prev, expected, checked
        bad, n, prev = chain.first_broken(batch, prev, expected)
        checked += n
        expected += n
        batch.clear()
        return bad

    async for event in _events(session, tenant_id):
        batch.append(event)
        if len(batch) >= 2000 and (bad := flush()) is not None:
            return Verification(False, checked, bad)
    if (bad := flush()) is not None:
        return Verification(False, checked, bad)
    tip = (
        await session.execute(
            text("SELECT audit_sequence, audit_hash FROM tenant_counters WHERE tenant_id = :t"),
            {"t": tenant_id},
        )
    ).first()
    if tip is not None and (tip.audit_sequence != checked or bytes(tip.audit_hash) != prev):
        # Events were removed from the end of the chain.
        return Verification(False, checked, checked + 1)
    return Verification(True, checked, None)
