"""The audit trail as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from schema.actors import Actor, resolve_actor
from schema.relay import Node
from schema.scalars import BigInt


@visible_with(Permission.AUDIT_READ)
@strawberry.type(description="One event of the tenant's hash-chained audit trail.")
class AuditEvent(Node):
    sequence: BigInt
    occurred_at: datetime
    actor_kind: str
    actor: str
    staff_role: str | None
    client_id: str | None
    action: str
    target_type: str | None
    target_id: str | None
    before: JSON | None
    after: JSON | None
    reason: str | None
    request_id: str | None
    idempotency_key: str | None
    outcome: str
    hash: str = strawberry.field(description="sha256(previous hash || canonical JSON), hex.")

    @strawberry.field(description="Who acted, readably: staff code and name, or the app's name.")
    async def performed_by(self, info: Info) -> Actor:
        return await resolve_actor(info, self.actor)

    @classmethod
    def from_row(cls, row: Any) -> AuditEvent:
        return cls(
            id=strawberry.ID(ids.encode_scoped("AuditEvent", row.tenant_id, row.sequence)),
            sequence=row.sequence,
            occurred_at=row.occurred_at,
            actor_kind=row.actor_kind,
            actor=row.actor,
            staff_role=row.staff_role,
            client_id=row.client_id,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            before=row.before,
            after=row.after,
            reason=row.reason,
            request_id=row.request_id,
            idempotency_key=row.idempotency_key,
            outcome=row.outcome,
            hash=bytes(row.hash).hex(),
        )
