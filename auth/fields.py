"""Field permissions, declared on the schema field (null + FORBIDDEN at its path)."""

from __future__ import annotations

from functools import cache
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from auth.permissions import Permission


@cache
def requires(permission: Permission) -> type[BasePermission]:
    """A permission class for ``permission``; one class per permission, made once."""

    class Requires(BasePermission):
        message = f"{permission.value} is required"
        error_extensions = {"code": "FORBIDDEN", "permission": permission.value}  # noqa: RUF012

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            caller = info.context.caller
            return caller is not None and caller.has(permission)

    Requires.__name__ = f"Requires_{permission.name}"
    return Requires
