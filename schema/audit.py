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
    sequence: BigInt = strawberry.field(
        description="Position in the tenant's hash chain, in the order the events were recorded."
    )
    occurred_at: datetime = strawberry.field(description="When it happened.")
    actor_kind: str = strawberry.field(description="STAFF, APP or SYSTEM.")
    actor: str = strawberry.field(
        description='The stored subject: "staff:<row id>", "app:<client id>" or "system"; '
        "see performedBy for names."
    )
    staff_role: str | None = strawberry.field(
        description="The staff member's rank at the time, for a staff caller."
    )
    client_id: str | None = strawberry.field(
        description="The OAuth client_id the call came through, if any."
    )
    action: str = strawberry.field(
        description='What was done, as area.verb (e.g. "stock.receive", "transfer.ship").'
    )
    target_type: str | None = strawberry.field(
        description='The kind of object changed (e.g. "Transfer"), if any.'
    )
    target_id: str | None = strawberry.field(
        description="The global ID of the object changed, if any (filter with "
        "auditEvents(entityId:))."
    )
    before: JSON | None = strawberry.field(
        description="The object's relevant fields before the change, as JSON, if recorded."
    )
    after: JSON | None = strawberry.field(
        description="The object's relevant fields after the change, as JSON, if recorded."
    )
    reason: str | None = strawberry.field(
        description="The reason or comment given with the change, if any."
    )
    request_id: str | None = strawberry.field(
        description="The request's ID (X-Request-ID), to match server logs."
    )
    idempotency_key: str | None = strawberry.field(
        description="The idempotencyKey the request carried, if any."
    )
    outcome: str = strawberry.field(
        description='"success", "failed" (refused as a userError) or "denied" (lacking permission).'
    )
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
