"""Creating tenants, locations, products, staff and partner apps (operator commands)."""

from __future__ import annotations

import secrets as pysecrets
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission, Role, parse_scopes
from auth.secrets import hash_secret, new_client_secret
from db.models import Location, PartnerApp, Product, Staff, Tenant, TenantCounter
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry, append
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.tenancy import revocation

CURRENCIES = ("HKD", "MOP", "CNY")
LOCATION_KINDS = ("CENTRAL_WAREHOUSE", "STORE", "TEMPORARY_WAREHOUSE")


def _code(value: str, name: str) -> str:
    value = value.strip()
    if not value or len(value) > 64 or any(c.isspace() for c in value):
        raise InvalidInput(f"{name} must be 1 to 64 characters without spaces", [name])
    return value


async def create_tenant(
    session: AsyncSession,
    code: str,
    name: str,
    currency: str = "HKD",
    timezone: str = "Asia/Hong_Kong",
) -> Tenant:
    """A new retailer, with its sequence counter (run as the schema owner)."""
    code = _code(code, "code")
    if currency not in CURRENCIES:
        raise InvalidInput(f"currency must be one of {', '.join(CURRENCIES)}", ["currency"])
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {timezone!r}", ["timezone"]) from None
    if not name.strip():
        raise InvalidInput("name is required", ["name"])
    exists = await session.execute(select(Tenant.tenant_id).where(Tenant.code == code))
    if exists.first() is not None:
        raise AlreadyExists(f"tenant {code!r} already exists", ["code"])
    tenant = Tenant(code=code, name=name.strip(), currency=currency, timezone=timezone)
    session.add(tenant)
    await session.flush()
    session.add(
        TenantCounter(
            tenant_id=tenant.tenant_id, last_sequence=0, audit_sequence=0, audit_hash=b"\x00" * 32
        )
    )
    await session.flush()
    await append(
        session,
        Caller.system(tenant.tenant_id),
        AuditEntry(
            "tenant.create",
            "Tenant",
            ids.encode("Tenant", tenant.tenant_id),
            None,
            {"code": code, "name": name},
        ),
    )
    return tenant


async def tenant_by_code(session: AsyncSession, code: str) -> Tenant:
    tenant = (await session.execute(select(Tenant).where(Tenant.code == code))).scalar_one_or_none()
    if tenant is None:
        raise NotFound(f"no tenant {code!r}", ["tenant"])
    return tenant


async def location_ids_by_code(
    session: AsyncSession, tenant_id: int, codes: list[str]
) -> list[int]:
    rows = (
        await session.execute(
            select(Location.code, Location.id).where(
                Location.tenant_id == tenant_id, Location.code.in_(codes)
            )
        )
    ).all()
    found = {r.code: r.id for r in rows}
    missing = [c for c in codes if c not in found]
    if missing:
        raise NotFound(f"no location {', '.join(missing)}", ["locations"])
    return [found[c] for c in codes]


async def _insert(session: AsyncSession, model: type, values: dict[str, object], what: str) -> int:
    try:
        async with session.begin_nested():
            result = await session.execute(insert(model).returning(model.id), [values])  # type: ignore[attr-defined]
    except IntegrityError:
        raise AlreadyExists(f"{what} already exists", ["code"]) from None
    return int(result.scalar_one())


@dataclass(frozen=True, slots=True)
class NewLocation:
    code: str
    name_zh: str
    name_en: str
    kind: str = "STORE"
    region: str | None = None


async def create_location(session: AsyncSession, caller: Caller, cmd: NewLocation) -> int:
    require(caller, Permission.ADMIN)
    code = _code(cmd.code, "code")
    if cmd.kind not in LOCATION_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(LOCATION_KINDS)}", ["kind"])
    if not cmd.name_zh.strip() or not cmd.name_en.strip():
        raise InvalidInput("nameZh and nameEn are required", ["nameZh"])
    values = {
        "tenant_id": caller.tenant_id,
        "code": code,
        "name_zh": cmd.name_zh.strip(),
        "name_en": cmd.name_en.strip(),
        "kind": cmd.kind,
        "region": cmd.region,
    }
    new_id = await _insert(session, Location, values, f"location {code!r}")
    await append(
        session,
        caller,
        AuditEntry("location.create", "Location", ids.encode("Location", new_id), None, values),
    )
    return new_id


@dataclass(frozen=True, slots=True)
class NewProduct:
    sku: str
    name_zh: str
    name_en: str
    barcode: str | None = None
    category: str | None = None
    retail_price: Decimal | None = None
    retail_price_mop: Decimal | None = None
    cost_price: Decimal | None = None


async def create_product(session: AsyncSession, caller: Caller, cmd: NewProduct) -> int:
    require(caller, Permission.ADMIN)
    sku = _code(cmd.sku, "sku")
    for name, price in (("price", cmd.retail_price), ("cost", cmd.cost_price)):
        if price is not None and price < 0:
            raise InvalidInput(f"{name} cannot be negative", [name])
    if not cmd.name_zh.strip() or not cmd.name_en.strip():
        raise InvalidInput("nameZh and nameEn are required", ["nameZh"])
    values = {
        "tenant_id": caller.tenant_id,
        "sku": sku,
        "barcode": cmd.barcode,
        "name_zh": cmd.name_zh.strip(),
        "name_en": cmd.name_en.strip(),
        "category": cmd.category,
        "retail_price": cmd.retail_price,
        "retail_price_mop": cmd.retail_price_mop,
        "cost_price": cmd.cost_price,
    }
    new_id = await _insert(session, Product, values, f"product {sku!r}")
    await append(
        session,
        caller,
        AuditEntry("product.create", "Product", ids.encode("Product", new_id), None, values),
    )
    return new_id


async def create_staff(
    session: AsyncSession,
    caller: Caller,
    code: str,
    name: str,
    role: str,
    location_codes: list[str],
) -> int:
    require(caller, Permission.ADMIN)
    code = _code(code, "code")
    try:
        rank = Role(role)
    except ValueError:
        raise InvalidInput(
            f"role must be one of {', '.join(r.value for r in Role)}", ["role"]
        ) from None
    location_ids = await location_ids_by_code(session, caller.tenant_id, location_codes)
    values = {
        "tenant_id": caller.tenant_id,
        "code": code,
        "name": name,
        "role": rank.value,
        "location_ids": location_ids,
    }
    new_id = await _insert(session, Staff, values, f"staff {code!r}")
    await append(
        session,
        caller,
        AuditEntry("staff.create", "Staff", ids.encode("Staff", new_id), None, values),
    )
    return new_id


async def staff_by_code(session: AsyncSession, tenant_id: int, code: str) -> Staff:
    staff = (
        await session.execute(select(Staff).where(Staff.tenant_id == tenant_id, Staff.code == code))
    ).scalar_one_or_none()
    if staff is None or not staff.active:
        raise NotFound(f"no active staff member {code!r}", ["staff"])
    return staff


@dataclass(frozen=True, slots=True)
class NewClient:
    client_id: str
    client_secret: str


async def create_client(
    session: AsyncSession,
    caller: Caller,
    name: str,
    scopes: str,
    location_codes: list[str] | None,
    *,
    hashing_key: bytes | None = None,
) -> NewClient:
    """A partner app with client credentials; the secret is shown once, stored hashed
    (under ``hashing_key``: see ``auth.secrets``)."""
    require(caller, Permission.ADMIN)
    try:
        granted = parse_scopes(scopes)
    except ValueError as exc:
        raise InvalidInput(str(exc), ["scopes"]) from None
    if not granted:
        raise InvalidInput("at least one scope is required", ["scopes"])
    location_ids = (
        await location_ids_by_code(session, caller.tenant_id, location_codes)
        if location_codes is not None
        else None
    )
    client_id = "sgc_" + pysecrets.token_hex(12)
    secret = new_client_secret()
    values = {
        "tenant_id": caller.tenant_id,
        "client_id": client_id,
        "name": name,
        "secret_hash": hash_secret(secret, hashing_key),
        "scopes": " ".join(sorted(p.value for p in granted)),
        "location_ids": location_ids,
    }
    app_pk = await _insert(session, PartnerApp, values, f"client {name!r}")
    public = {k: v for k, v in values.items() if k != "secret_hash"}
    await append(
        session,
        caller,
        AuditEntry("client.create", "PartnerApp", ids.encode("PartnerApp", app_pk), None, public),
    )
    return NewClient(client_id=client_id, client_secret=secret)


async def client_by_id(session: AsyncSession, client_id: str) -> PartnerApp | None:
    """Cross-tenant lookup for the token endpoint (owner session)."""
    return (
        await session.execute(select(PartnerApp).where(PartnerApp.client_id == client_id))
    ).scalar_one_or_none()


async def _client_for_change(session: AsyncSession, caller: Caller, client_id: str) -> PartnerApp:
    require(caller, Permission.ADMIN)
    app = (
        await session.execute(
            select(PartnerApp)
            .where(PartnerApp.tenant_id == caller.tenant_id, PartnerApp.client_id == client_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if app is None:
        raise NotFound(f"no client {client_id!r}", ["clientId"])
    return app


async def rotate_client_secret(
    session: AsyncSession, caller: Caller, client_id: str, *, hashing_key: bytes | None = None
) -> NewClient:
    """A new secret for an app; the old one and every token issued with it stop working."""
    app = await _client_for_change(session, caller, client_id)
    secret = new_client_secret()
    app.secret_hash = hash_secret(secret, hashing_key)
    epoch = await revocation.bump(session, caller.tenant_id, revocation.app_subject(client_id))
    await session.flush()
    await append(
        session,
        caller,
        AuditEntry(
            "client.rotate_secret",
            "PartnerApp",
            ids.encode("PartnerApp", app.id),
            None,
            {"client_id": client_id, "token_epoch": epoch},
        ),
    )
    return NewClient(client_id=client_id, client_secret=secret)


async def set_client_active(
    session: AsyncSession, caller: Caller, client_id: str, active: bool
) -> None:
    """Disable (or enable again) an app; disabling refuses every token it holds."""
    app = await _client_for_change(session, caller, client_id)
    before = {"active": app.active}
    app.active = active
    after: dict[str, object] = {"active": active}
    if not active:
        subject = revocation.app_subject(client_id)
        after["token_epoch"] = await revocation.bump(session, caller.tenant_id, subject)
    await session.flush()
    await append(
        session,
        caller,
        AuditEntry(
            "client.disable" if not active else "client.enable",
            "PartnerApp",
            ids.encode("PartnerApp", app.id),
            before,
            after,
        ),
    )


async def set_staff_active(session: AsyncSession, caller: Caller, code: str, active: bool) -> None:
    """Disable (or enable again) a staff member; disabling refuses every token they hold."""
    require(caller, Permission.ADMIN)
    result = await session.execute(
        update(Staff)
        .where(Staff.tenant_id == caller.tenant_id, Staff.code == code)
        .values(active=active)
        .returning(Staff.id)
    )
    staff_id = result.scalar_one_or_none()
    if staff_id is None:
        raise NotFound(f"no staff member {code!r}", ["staff"])
    after: dict[str, object] = {"code": code, "active": active}
    if not active:
        subject = revocation.staff_subject(staff_id)
        after["token_epoch"] = await revocation.bump(session, caller.tenant_id, subject)
    await append(
        session,
        caller,
        AuditEntry(
            "staff.disable" if not active else "staff.enable",
            "Staff",
            ids.encode("Staff", staff_id),
            None,
            after,
        ),
    )


async def upgrade_secret_hash(session: AsyncSession, app_pk: int, old: str, new: str) -> None:
    """Replace a legacy hash after a successful check, unless it changed meanwhile."""
    await session.execute(
        update(PartnerApp)
        .where(PartnerApp.id == app_pk, PartnerApp.secret_hash == old)
        .values(secret_hash=new)
    )
