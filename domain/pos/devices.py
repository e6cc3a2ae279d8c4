"""Tills: registered per location, each with its own client credential.

A device's credential is an ordinary client (``domain.tenancy.service.create_client``)
with the ``stock:write`` scope, limited to the device's one location, so its token
can sell there and nowhere else. Disabling a device disables that client the
way any client is disabled (``set_client_active``): the token endpoint refuses
it, and its revocation epoch moves on, so the edge refuses its tokens still in
flight (``auth/revocations.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import PosDevice, PosReversal
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.catalog.lookup import location_row
from domain.errors import AlreadyExists, Forbidden, InvalidInput, InvalidTransition, NotFound
from domain.pagination import Page, make_page
from domain.tenancy.service import create_client, set_client_active

DEVICE_SCOPES = "stock:write"
D = PosDevice.__table__


@dataclass(frozen=True, slots=True)
class RegisterDevice:
    location_id: int | None
    name: str


@dataclass(frozen=True, slots=True)
class DisableDevice:
    device_id: int | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Registered:
    device: Any
    client_id: str
    client_secret: str


async def register_device(session: AsyncSession, caller: Caller, cmd: RegisterDevice) -> Registered:
    """A till at one location; its secret is shown once."""
    require(caller, Permission.ADMIN)
    location = await location_row(session, caller, cmd.location_id, ["locationId"])
    name = cmd.name.strip()
    if not 0 < len(name) <= 100:
        raise InvalidInput("name must be 1 to 100 characters", ["name"])
    taken = (
        await session.execute(
            select(D.c.id).where(
                D.c.tenant_id == caller.tenant_id,
                D.c.location_id == location.id,
                D.c.name == name,
            )
        )
    ).first()
    if taken is not None:
        raise AlreadyExists(f"{location.code} already has a device named {name!r}", ["name"])
    client = await create_client(
        session, caller, f"POS {location.code} {name}", DEVICE_SCOPES, [location.code]
    )
    row = (
        await session.execute(
            insert(PosDevice)
            .values(
                tenant_id=caller.tenant_id,
                location_id=location.id,
                name=name,
                client_id=client.client_id,
                status="ACTIVE",
                created_by=caller.subject,
            )
            .returning(*D.c)
        )
    ).one()
    return Registered(device=row, client_id=client.client_id, client_secret=client.client_secret)


async def device_row(
    session: AsyncSession, caller: Caller, device_id: int | None, field: list[str], *, lock: bool
) -> Any:
    """The device, or NOT_FOUND (another tenant's is just as unknown)."""
    row = None
    if device_id is not None:
        stmt = select(D).where(D.c.tenant_id == caller.tenant_id, D.c.id == device_id)
        if lock:
            stmt = stmt.with_for_update()
        row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("no such device", field)
    return row


async def caller_device(session: AsyncSession, caller: Caller) -> Any | None:
    """The device whose credential the caller holds, if it is one."""
    if caller.client_id is None:
        return None
    stmt = select(D).where(D.c.tenant_id == caller.tenant_id, D.c.client_id == caller.client_id)
    return (await session.execute(stmt)).first()


async def usable_device(session: AsyncSession, caller: Caller, device_id: int | None) -> Any:
    """The device a till acts as: active, at a location where the caller may sell, and,
    for a device credential, its own.

    Its row is then locked for the rest of the batch: a device's batches run one after
    the other, and the device row is the first lock a batch takes (before its claims,
    levels and the tenant counter), so the last-sync update never closes a cycle."""
    device = await device_row(session, caller, device_id, ["deviceId"], lock=False)
    own = await caller_device(session, caller)
    if own is not None and own.id != device.id:
        raise Forbidden("a device credential may act only as its own device", ["deviceId"])
    require(caller, Permission.STOCK_WRITE, device.location_id, ["deviceId"])
    device = await device_row(session, caller, device_id, ["deviceId"], lock=True)
    if device.status != "ACTIVE":
        raise InvalidTransition("this device is disabled", ["deviceId"])
    return device


async def disable_device(session: AsyncSession, caller: Caller, cmd: DisableDevice) -> Any:
    """Stops the device at once: its client is deactivated in the same transaction."""
    require(caller, Permission.ADMIN)
    device = await device_row(session, caller, cmd.device_id, ["id"], lock=True)
    if device.status != "ACTIVE":
        raise InvalidTransition("this device is already disabled", ["id"])
    await set_client_active(session, caller, device.client_id, False)
    return (
        await session.execute(
            update(PosDevice)
            .where(D.c.tenant_id == caller.tenant_id, D.c.id == device.id)
            .values(status="DISABLED", disabled_at=datetime.now(UTC))
            .returning(*D.c)
        )
    ).one()


async def list_devices(
    session: AsyncSession,
    caller: Caller,
    *,
    limit: int,
    after: int | None,
    location_id: int | None = None,
) -> Page[Any]:
    stmt = select(D).where(D.c.tenant_id == caller.tenant_id)
    if location_id is not None:
        stmt = stmt.where(D.c.location_id == location_id)
    if after is not None:
        stmt = stmt.where(D.c.id > after)
    rows = (await session.execute(stmt.order_by(D.c.id).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


@dataclass(frozen=True, slots=True)
class SyncStatus:
    device: Any
    sales: int
    voided: int
    returns: int


_COUNTS = text(
    """
    SELECT count(*) AS sales, count(*) FILTER (WHERE status = 'VOIDED') AS voided
    FROM pos_sales WHERE tenant_id = :t AND device_id = :d
    """
)


async def sync_status(session: AsyncSession, caller: Caller, device_id: int | None) -> SyncStatus:
    """What a till shows in its settings: last sale seen, last sync, counts."""
    device = await device_row(session, caller, device_id, ["deviceId"], lock=False)
    own = await caller_device(session, caller)
    if own is not None and own.id != device.id:
        raise NotFound("no such device", ["deviceId"])
    if own is None and not caller.has(Permission.STOCK_READ):
        raise Forbidden("stock:read is required", ["deviceId"])
    counts = (await session.execute(_COUNTS, {"t": caller.tenant_id, "d": device.id})).one()
    returns = (
        await session.execute(
            select(func.count()).where(
                PosReversal.tenant_id == caller.tenant_id,
                PosReversal.device_id == device.id,
                PosReversal.kind == "RETURN",
            )
        )
    ).scalar_one()
    return SyncStatus(device=device, sales=counts.sales, voided=counts.voided, returns=returns)


def audit_registered(result: Registered) -> AuditEntry:
    d = result.device
    return AuditEntry(
        action="pos.device.register",
        target_type="PosDevice",
        target_id=ids.encode("PosDevice", d.id),
        after={
            "name": d.name,
            "location": ids.encode("Location", d.location_id),
            "clientId": d.client_id,
        },
    )


def audit_disabled(device: Any) -> AuditEntry:
    return AuditEntry(
        action="pos.device.disable",
        target_type="PosDevice",
        target_id=ids.encode("PosDevice", device.id),
        before={"status": "ACTIVE"},
        after={"status": device.status},
    )
