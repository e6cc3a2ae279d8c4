"""Webhook subscriptions: create, list, delete, the delivery log, redelivery.

An endpoint belongs to the caller that created it (``owner`` = the caller's
subject); only its owner, or a caller with ``admin``, sees or changes it. To
anyone else it does not exist (NOT_FOUND, null through ``node``), exactly like
an endpoint of another tenant.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Row, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Location, Product, TenantCounter, WebhookDelivery, WebhookEndpoint
from domain import ids, vault
from domain.access import require
from domain.audit.service import AuditEntry
from domain.errors import InvalidInput, NotFound
from domain.pagination import Page, make_page
from domain.stock.ledger import STOCK_CHANGED, STOCK_LOW
from domain.webhooks.payload import EVENT_TYPES, webhook_id
from domain.webhooks.urls import check_url

E = cast(Table, WebhookEndpoint.__table__)
D = cast(Table, WebhookDelivery.__table__)

# What a subscriber must be allowed to read to receive each event type.
EVENT_PERMISSIONS: dict[str, Permission] = {
    STOCK_CHANGED: Permission.STOCK_READ,
    STOCK_LOW: Permission.STOCK_READ,
}
DELIVERY_STATUSES = ("PENDING", "SUCCEEDED", "DEAD")
MAX_FILTER = 250
MAX_DESCRIPTION = 500


@dataclass(frozen=True, slots=True)
class CreateEndpoint:
    """``location_ids`` holds None for an ID that did not decode (NOT_FOUND)."""

    url: str
    event_types: tuple[str, ...]
    location_ids: tuple[int | None, ...] | None = None
    skus: tuple[str, ...] | None = None
    description: str | None = None
    allow_http: bool = False
    data_key: bytes | None = field(default=None, repr=False)  # seals the signing secret


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    """The new endpoint and its signing secret, which is shown this once only."""

    endpoint: Row[Any]
    secret: str


@dataclass(frozen=True, slots=True)
class DeleteEndpoint:
    endpoint_id: int | None


@dataclass(frozen=True, slots=True)
class Redeliver:
    delivery_id: int | None


@dataclass(frozen=True, slots=True)
class ListEndpoints:
    limit: int
    after: int | None = None


@dataclass(frozen=True, slots=True)
class ListDeliveries:
    endpoint_id: int | None
    limit: int
    after: int | None = None
    status: str | None = None


def new_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes, the Standard Webhooks secret format."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def visible(caller: Caller) -> list[Any]:
    """Conditions on ``webhook_endpoints`` for the endpoints this caller may see."""
    conditions: list[Any] = [E.c.tenant_id == caller.tenant_id]
    if not caller.has(Permission.ADMIN):
        conditions.append(E.c.owner == caller.subject)
    return conditions


def _event_types(caller: Caller, wanted: Sequence[str]) -> list[str]:
    types = list(dict.fromkeys(wanted))
    if not types:
        raise InvalidInput("at least one event type is required", ["eventTypes"])
    for name in types:
        if name not in EVENT_TYPES:
            raise InvalidInput(f"unknown event type {name!r}", ["eventTypes"])
        require(caller, EVENT_PERMISSIONS[name], field=["eventTypes"])
    return types


def _check_filter_size(values: Sequence[Any] | None, field: str) -> None:
    if values is not None and not 1 <= len(values) <= MAX_FILTER:
        raise InvalidInput(f"{field} takes 1 to {MAX_FILTER} values; omit it for all", [field])


async def _locations(
    session: AsyncSession, caller: Caller, wanted: Sequence[int | None] | None
) -> list[int] | None:
    _check_filter_size(wanted, "locationIds")
    if wanted is None:
        return None
    known = set(
        (
            await session.execute(
                select(Location.id).where(
                    Location.tenant_id == caller.tenant_id,
                    Location.id.in_([w for w in wanted if w is not None]),
                )
            )
        ).scalars()
    )
    for index, pk in enumerate(wanted):
        if pk not in known:
            raise NotFound("no such location", ["locationIds", str(index)])
    return list(dict.fromkeys(pk for pk in wanted if pk is not None))


async def _skus(
    session: AsyncSession, caller: Caller, wanted: Sequence[str] | None
) -> list[str] | None:
    _check_filter_size(wanted, "skus")
    if wanted is None:
        return None
    known = set(
        (
            await session.execute(
                select(Product.sku).where(
                    Product.tenant_id == caller.tenant_id, Product.sku.in_(wanted)
                )
            )
        ).scalars()
    )
    for index, sku in enumerate(wanted):
        if sku not in known:
            raise NotFound(f"no product with SKU {sku!r}", ["skus", str(index)])
    return list(dict.fromkeys(wanted))


async def create_endpoint(
    session: AsyncSession, caller: Caller, cmd: CreateEndpoint
) -> CreatedEndpoint:
    """A new endpoint that receives the events committed after this one commits."""
    types = _event_types(caller, cmd.event_types)
    url = check_url(cmd.url, allow_http=cmd.allow_http)
    if cmd.description is not None and len(cmd.description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description is at most {MAX_DESCRIPTION} characters", ["description"])
    locations = await _locations(session, caller, cmd.location_ids)
    skus = await _skus(session, caller, cmd.skus)
    # Start at the tenant's last committed sequence: only later events are delivered.
    start = (
        await session.execute(
            select(TenantCounter.last_sequence).where(TenantCounter.tenant_id == caller.tenant_id)
        )
    ).scalar_one()
    secret = new_secret()
    row = (
        await session.execute(
            insert(E)
            .values(
                tenant_id=caller.tenant_id,
                url=url,
                description=cmd.description,
                event_types=types,
                location_ids=locations,
                skus=skus,
                secret=vault.seal(
                    cmd.data_key,
                    secret,
                    tenant_id=caller.tenant_id,
                    table="webhook_endpoints",
                    column="secret",
                ),
                owner=caller.subject,
                active=True,
                last_sequence=start,
            )
            .returning(E)
        )
    ).one()
    return CreatedEndpoint(endpoint=row, secret=secret)


async def endpoint_row(
    session: AsyncSession, caller: Caller, endpoint_id: int | None, field: list[str]
) -> Row[Any]:
    """The endpoint if this caller may see it, else NOT_FOUND."""
    if endpoint_id is not None:
        stmt = select(E).where(*visible(caller), E.c.id == endpoint_id)
        row = (await session.execute(stmt)).first()
        if row is not None:
            return row
    raise NotFound("no webhook subscription with this ID", field)


async def list_endpoints(
    session: AsyncSession, caller: Caller, cmd: ListEndpoints
) -> Page[Row[Any]]:
    """Active endpoints the caller owns (every one in the tenant for ``admin``), oldest first."""
    stmt = select(E).where(*visible(caller), E.c.active.is_(True))
    if cmd.after is not None:
        stmt = stmt.where(E.c.id > cmd.after)
    rows = (await session.execute(stmt.order_by(E.c.id).limit(cmd.limit + 1))).all()
    return make_page(rows, cmd.limit, cmd.after is not None)


async def count_endpoints(session: AsyncSession, caller: Caller) -> int:
    stmt = select(func.count()).select_from(E).where(*visible(caller), E.c.active.is_(True))
    return int((await session.execute(stmt)).scalar_one())


async def delete_endpoint(session: AsyncSession, caller: Caller, cmd: DeleteEndpoint) -> Row[Any]:
    """Soft delete: nothing more is fanned out or sent; the delivery log stays readable."""
    await endpoint_row(session, caller, cmd.endpoint_id, ["id"])
    stmt = (
        update(E)
        .where(*visible(caller), E.c.id == cmd.endpoint_id)
        .values(active=False)
        .returning(E)
    )
    return (await session.execute(stmt)).one()


def _delivery_filter(tenant_id: int, endpoint_id: int, status: str | None) -> list[Any]:
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidInput(f"unknown status {status!r}", ["status"])
    conditions: list[Any] = [D.c.tenant_id == tenant_id, D.c.endpoint_id == endpoint_id]
    if status is not None:
        conditions.append(D.c.status == status)
    return conditions


async def list_deliveries(
    session: AsyncSession, caller: Caller, cmd: ListDeliveries
) -> Page[Row[Any]]:
    """An endpoint's delivery log, newest first (attempts load per delivery)."""
    endpoint = await endpoint_row(session, caller, cmd.endpoint_id, ["endpointId"])
    stmt = select(D).where(*_delivery_filter(caller.tenant_id, endpoint.id, cmd.status))
    if cmd.after is not None:
        stmt = stmt.where(D.c.id < cmd.after)
    rows = (await session.execute(stmt.order_by(D.c.id.desc()).limit(cmd.limit + 1))).all()
    return make_page(rows, cmd.limit, cmd.after is not None)


async def count_deliveries(
    session: AsyncSession, caller: Caller, endpoint_id: int, status: str | None
) -> int:
    stmt = (
        select(func.count())
        .select_from(D)
        .where(*_delivery_filter(caller.tenant_id, endpoint_id, status))
    )
    return int((await session.execute(stmt)).scalar_one())


async def redeliver(session: AsyncSession, caller: Caller, cmd: Redeliver) -> Row[Any]:
    """Queue a delivery again, due now, with a fresh series of attempts.

    Its event and therefore its ``webhook-id`` and body stay the same, so a
    receiver that already processed it can recognise the repeat.
    """
    found = None
    if cmd.delivery_id is not None:
        stmt = (
            select(D.c.id, E.c.active)
            .join(E, (E.c.tenant_id == D.c.tenant_id) & (E.c.id == D.c.endpoint_id))
            .where(*visible(caller), D.c.id == cmd.delivery_id)
        )
        found = (await session.execute(stmt)).first()
    if found is None:
        raise NotFound("no webhook delivery with this ID", ["deliveryId"])
    if not found.active:
        raise InvalidInput("the webhook subscription was deleted", ["deliveryId"])
    stmt2 = (
        update(D)
        .where(D.c.tenant_id == caller.tenant_id, D.c.id == cmd.delivery_id)
        .values(status="PENDING", attempts=0, next_attempt_at=func.now())
        .returning(D)
    )
    return (await session.execute(stmt2)).one()


def audit_created(created: CreatedEndpoint) -> AuditEntry:
    """The audit view of a new endpoint: its settings, never its secret."""
    row = created.endpoint
    return AuditEntry(
        action="webhook.create",
        target_type="WebhookEndpoint",
        target_id=ids.encode("WebhookEndpoint", row.id),
        after={
            "url": row.url,
            "description": row.description,
            "eventTypes": list(row.event_types),
            "locationIds": [ids.encode("Location", pk) for pk in row.location_ids]
            if row.location_ids is not None
            else None,
            "skus": row.skus,
        },
    )


def audit_deleted(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        action="webhook.delete",
        target_type="WebhookEndpoint",
        target_id=ids.encode("WebhookEndpoint", row.id),
        after={"active": False},
    )


def audit_redelivered(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        action="webhook.redeliver",
        target_type="WebhookDelivery",
        target_id=ids.encode("WebhookDelivery", row.id),
        after={
            "eventSequence": row.event_sequence,
            "webhookId": webhook_id(row.tenant_id, row.event_sequence),
        },
    )
