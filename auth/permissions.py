"""The permission matrix of the public contract, as data.

A partner app's scopes are permission names; a staff member's rank maps to a
set of permissions. Some permissions are limited to the staff member's own
locations for some ranks ("own locations" in the contract): those are listed
in ``LOCATION_SCOPED``.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    STOCK_READ = "stock:read"
    STOCK_WRITE = "stock:write"
    TRANSFERS_READ = "transfers:read"
    TRANSFERS_WRITE = "transfers:write"
    TRANSFERS_APPROVE = "transfers:approve"
    COSTS_READ = "costs:read"
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    MEMBERS_PII = "members:pii"
    AUDIT_READ = "audit:read"
    ADMIN = "admin"


class Role(StrEnum):
    OWNER = "OWNER"
    REGIONAL_MANAGER = "REGIONAL_MANAGER"
    STORE_MANAGER = "STORE_MANAGER"
    PURCHASER = "PURCHASER"
    CLERK = "CLERK"
    AUDITOR = "AUDITOR"


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.REGIONAL_MANAGER: frozenset(
        {
            P.STOCK_READ,
            P.STOCK_WRITE,
            P.TRANSFERS_READ,
            P.TRANSFERS_WRITE,
            P.TRANSFERS_APPROVE,
            P.COSTS_READ,
            P.MEMBERS_READ,
            P.MEMBERS_WRITE,
            P.MEMBERS_PII,
        }
    ),
    Role.STORE_MANAGER: frozenset(
        {
            P.STOCK_READ,
            P.STOCK_WRITE,
            P.TRANSFERS_READ,
            P.TRANSFERS_WRITE,
            P.MEMBERS_READ,
            P.MEMBERS_WRITE,
            P.MEMBERS_PII,
        }
    ),
    Role.PURCHASER: frozenset(
        {P.STOCK_READ, P.STOCK_WRITE, P.TRANSFERS_READ, P.TRANSFERS_WRITE, P.COSTS_READ}
    ),
    Role.CLERK: frozenset(
        {
            P.STOCK_READ,
            P.STOCK_WRITE,
            P.TRANSFERS_READ,
            P.TRANSFERS_WRITE,
            P.MEMBERS_READ,
            P.MEMBERS_WRITE,
        }
    ),
    Role.AUDITOR: frozenset({P.STOCK_READ, P.TRANSFERS_READ, P.COSTS_READ, P.AUDIT_READ}),
}

# Permissions that these ranks hold only at the locations assigned to them.
LOCATION_SCOPED: dict[Role, frozenset[Permission]] = {
    Role.STORE_MANAGER: frozenset({P.STOCK_WRITE, P.TRANSFERS_WRITE}),
    Role.CLERK: frozenset({P.STOCK_WRITE, P.TRANSFERS_WRITE}),
}

# Permissions that an app limited to some locations holds only there.
APP_LOCATION_SCOPED: frozenset[Permission] = frozenset({P.STOCK_WRITE, P.TRANSFERS_WRITE})


def parse_scopes(text: str) -> frozenset[Permission]:
    """Parse a space-separated scope string; unknown scopes raise ValueError."""
    out: set[Permission] = set()
    for word in text.split():
        try:
            out.add(Permission(word))
        except ValueError:
            raise ValueError(f"unknown scope {word!r}") from None
    return frozenset(out)


def format_scopes(perms: frozenset[Permission] | set[Permission]) -> str:
    return " ".join(sorted(p.value for p in perms))
