"""Who is calling: resolved once per request at the edge, immutable after."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from auth.permissions import (
    APP_LOCATION_SCOPED,
    LOCATION_SCOPED,
    ROLE_PERMISSIONS,
    Permission,
    Role,
)


class CallerKind(StrEnum):
    APP = "APP"
    STAFF = "STAFF"
    SYSTEM = "SYSTEM"


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller inside one tenant.

    ``location_ids`` is ``None`` when location-scoped permissions hold at every
    location; otherwise they hold only at the listed locations. Reads are never
    location-limited (everyone may read stock everywhere in the tenant).
    """

    tenant_id: int
    kind: CallerKind
    permissions: frozenset[Permission]
    location_ids: frozenset[int] | None = None
    scoped_permissions: frozenset[Permission] = field(default_factory=frozenset)
    staff_id: int | None = None
    role: Role | None = None
    client_id: str | None = None
    subject: str = ""
    expires_at: float | None = None

    def has(self, perm: Permission) -> bool:
        return perm in self.permissions

    def can(self, perm: Permission, location_id: int | None = None) -> bool:
        """True when the caller holds ``perm`` (at ``location_id`` if given)."""
        if perm not in self.permissions:
            return False
        if location_id is None or self.location_ids is None:
            return True
        if perm not in self.scoped_permissions:
            return True
        return location_id in self.location_ids

    @property
    def actor_key(self) -> str:
        """A stable name for the caller, used to scope idempotency keys."""
        return self.subject

    @classmethod
    def for_staff(
        cls,
        tenant_id: int,
        staff_id: int,
        role: Role,
        location_ids: frozenset[int],
        client_id: str | None = None,
        app_permissions: frozenset[Permission] | None = None,
    ) -> Caller:
        """A staff member; through an app, the intersection of both."""
        perms = ROLE_PERMISSIONS[role]
        if app_permissions is not None:
            perms = perms & app_permissions
        scoped = LOCATION_SCOPED.get(role, frozenset())
        return cls(
            tenant_id=tenant_id,
            kind=CallerKind.STAFF,
            permissions=perms,
            location_ids=location_ids if scoped else None,
            scoped_permissions=scoped,
            staff_id=staff_id,
            role=role,
            client_id=client_id,
            subject=f"staff:{staff_id}",
        )

    @classmethod
    def for_app(
        cls,
        tenant_id: int,
        client_id: str,
        permissions: frozenset[Permission],
        location_ids: frozenset[int] | None,
    ) -> Caller:
        return cls(
            tenant_id=tenant_id,
            kind=CallerKind.APP,
            permissions=permissions,
            location_ids=location_ids,
            scoped_permissions=APP_LOCATION_SCOPED if location_ids is not None else frozenset(),
            client_id=client_id,
            subject=f"app:{client_id}",
        )

    @classmethod
    def system(cls, tenant_id: int) -> Caller:
        """The operator acting through the CLI: every permission."""
        return cls(
            tenant_id=tenant_id,
            kind=CallerKind.SYSTEM,
            permissions=frozenset(Permission),
            subject="system",
        )
