"""Field permissions, declared on the schema field (null + FORBIDDEN at its path)."""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info

from auth.permissions import Permission


@cache
def requires(permission: Permission) -> type[BasePermission]:
    """A permission class for ``permission``; one class per permission, made once.

    The class names its permission (``.permission``) so compiled reads can check it.
    """
    perm = permission

    class Requires(BasePermission):
        permission: ClassVar[Permission] = perm
        message = f"{perm.value} is required"
        error_extensions = {"code": "FORBIDDEN", "permission": perm.value}  # noqa: RUF012

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            caller = info.context.caller
            return caller is not None and caller.has(perm)

    Requires.__name__ = f"Requires_{perm.name}"
    return Requires
