"""``run_mutation``: the one place a mutation becomes a transaction.

Open one transaction as the caller's tenant, honour the idempotency key,
call the domain, append the audit event, store the response for replays,
commit; on a DomainError roll everything back, record the refusal in the
audit trail in a transaction of its own, and answer with userErrors.

A key names one attempt and keeps its outcome, refusals included (Stripe's
rule, docs/idempotency.md): the same key and input answer the stored outcome,
marked as a replay on the context, whatever has changed since.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, cast

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET
from strawberry.types import Info
from strawberry.types.maybe import Some
from strawberry.types.nodes import SelectedField

from auth.caller import Caller
from domain import idempotency
from domain.audit.service import APPENDED, PENDING, AuditEntry, PendingAudit, append
from domain.errors import DomainError, IdempotencyKeyReused
from schema.errors import UserError

log = logging.getLogger(__name__)

R = TypeVar("R")
P = TypeVar("P", bound="Failable")

REFUSED = "__refused__"
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock
MAX_ATTEMPTS = 3


class Failable(Protocol):
    @classmethod
    def failed(cls, errors: list[UserError]) -> Any: ...


class Recorded(Protocol):
    """A domain result that knows its own audit record and JSON (for replays)."""

    def audit_entry(self, action: str) -> AuditEntry: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclasses.dataclass(frozen=True)
class MutationSpec:
    """How one mutation is run, audited and replayed.

    ``MutationSpec("stock.sale", result=StockChange)`` is enough when the result type
    is ``Recorded`` and has ``from_json``. The callbacks override it, one by one
    (mutations written against them keep working): ``audit`` (result → AuditEntry),
    ``snapshot`` (result → JSON), ``restore`` (JSON → result). ``settle`` runs after
    COMMIT, on fresh and replayed results alike, when the selection asks for
    ``settle_when``: for results whose sequences the COMMIT numbers
    (``domain.stock.ledger.settle``).
    """

    action: str
    audit: Callable[[Any], AuditEntry] | None = None
    snapshot: Callable[[Any], dict[str, Any]] | None = None
    restore: Callable[[dict[str, Any]], Any] | None = None
    # What a refusal's audit event may keep of the input (personal data never).
    redact: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    result: type[Any] | None = None
    settle: Callable[[AsyncSession, Caller, Any], Awaitable[Any]] | None = None
    # settle only when the selection reaches this field path (it costs a transaction).
    settle_when: tuple[str, ...] = ("movements", "sequence")

    def entry(self, result: Any) -> AuditEntry:
        if self.audit is not None:
            return self.audit(result)
        return cast(Recorded, result).audit_entry(self.action)

    def to_json(self, result: Any) -> dict[str, Any]:
        if self.snapshot is not None:
            return self.snapshot(result)
        return cast(Recorded, result).to_json()

    def from_json(self, data: dict[str, Any]) -> Any:
        if self.restore is not None:
            return self.restore(data)
        if self.result is None:
            raise RuntimeError(f"{self.action}: no restore and no result type to replay with")
        return self.result.from_json(data)


def not_replayed(_: Any) -> Any:
    """Snapshot/restore of mutations that take no idempotencyKey: never stored or replayed."""
    raise RuntimeError("this mutation takes no idempotency key, so nothing is replayed")


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _plain(value: Any) -> Any:
    """``strawberry.asdict``'s result (UNSET fields left out, ``Some`` unwrapped) without
    its deep copy of every leaf: inputs are made for this request and not changed."""
    if isinstance(value, Some):
        return _plain(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for name in _field_names(type(value)):
            item = getattr(value, name)
            if item is not UNSET:
                out[name] = _plain(item)
        return out
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def input_dict(value: Any) -> dict[str, Any]:
    """The input as plain data, without the idempotency key (for hashing and audit)."""
    data = _plain(value) if dataclasses.is_dataclass(value) else dict(value)
    data.pop("idempotency_key", None)
    return data  # type: ignore[no-any-return]


def selects(info: Info, path: tuple[str, ...]) -> bool:
    """Whether the operation's selection of this field reaches ``path`` (fragments too)."""

    def below(selections: list[Any], name: str) -> list[Any]:
        found = []
        for sel in selections:
            if isinstance(sel, SelectedField):
                if sel.name == name:
                    found.append(sel)
            else:  # a fragment: its fields count as the field's own
                found.extend(below(sel.selections, name))
        return found

    level: list[Any] = list(info.selected_fields)
    for name in path:
        level = below([sub for sel in level for sub in sel.selections], name)
        if not level:
            return False
    return True


def _sqlstate(exc: DBAPIError | asyncpg.PostgresError) -> str | None:
    """The SQLSTATE of a statement's error: asyncpg's own (``db.driver``), or wrapped
    by SQLAlchemy."""
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate  # type: ignore[no-any-return]
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(
        getattr(orig, "__cause__", None), "sqlstate", None
    )


async def run_mutation(
    info: Info,
    spec: MutationSpec,
    payload: type[P],
    input_value: Any,
    execute: Callable[[AsyncSession, Caller, str], Awaitable[R]],
    render: Callable[[R], P],
) -> P:
    ctx = info.context
    caller: Caller = ctx.viewer
    key: str | None = getattr(input_value, "idempotency_key", None)
    data = input_dict(input_value)
    # what a key is checked against; no key, nothing to check (a refusal stores none)
    digest = idempotency.request_hash(spec.action, data) if key is not None else ""
    settle = spec.settle if spec.settle and selects(info, spec.settle_when) else None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with ctx.db.tenant_transaction(caller.tenant_id) as session:
                if key is not None:
                    stored = await idempotency.claim(session, caller, key, spec.action, digest)
                    if stored is not None:
                        ctx.idempotent_replay = True
                    if stored is not None and REFUSED in stored:
                        return payload.failed(  # type: ignore[no-any-return]
                            [UserError.from_json(e) for e in stored[REFUSED]]
                        )
                    if stored is not None:
                        replayed = spec.from_json(stored)
                        if settle is not None:
                            replayed = await settle(session, caller, replayed)
                        return render(replayed)
                # a writer whose result is this mutation's may insert the audit row
                # in its own last statement (domain.audit.service.PendingAudit)
                session.info[PENDING] = PendingAudit(caller, spec.entry, ctx.request_id, key)
                result = await execute(session, caller, ctx.request_id)
                session.info.pop(PENDING, None)
                if not session.info.pop(APPENDED, False):
                    await append(
                        session,
                        caller,
                        spec.entry(result),
                        request_id=ctx.request_id,
                        idempotency_key=key,
                    )
                if key is not None:
                    await idempotency.store(session, caller, key, spec.to_json(result))
            if settle is not None:
                async with ctx.db.tenant_transaction(caller.tenant_id) as session:
                    result = await settle(session, caller, result)
            return render(result)
        except DomainError as error:
            user_error = UserError.from_domain(error)
            shown = spec.redact(data) if spec.redact is not None else data
            await _record_refusal(
                ctx.db, caller, spec.action, shown, error, ctx.request_id, key, digest, user_error
            )
            return payload.failed([user_error])  # type: ignore[no-any-return]
        except (DBAPIError, asyncpg.PostgresError) as exc:
            if _sqlstate(exc) in RETRYABLE_SQLSTATES and attempt < MAX_ATTEMPTS:
                log.warning("retrying %s after %s", spec.action, _sqlstate(exc))
                continue
            raise
    raise AssertionError("unreachable")


async def _record_refusal(
    db: Any,
    caller: Caller,
    action: str,
    data: dict[str, Any],
    error: DomainError,
    request_id: str,
    key: str | None,
    digest: str,
    user_error: UserError,
) -> None:
    """A refused or denied mutation leaves an audit event, and its answer under its key."""
    entry = AuditEntry(
        action=action,
        after={
            "input": data,
            "error": {"code": error.code, "message": error.message, "field": error.field},
        },
        reason=error.message[:1000],
        outcome=error.outcome,
    )
    async with db.tenant_transaction(caller.tenant_id) as session:
        await append(
            session,
            caller,
            entry,
            request_id=request_id,
            idempotency_key=key[:200] if key else None,
        )
        if key is not None and not isinstance(error, IdempotencyKeyReused):
            await idempotency.remember(
                session, caller, key, action, digest, {REFUSED: [user_error.to_json()]}
            )
