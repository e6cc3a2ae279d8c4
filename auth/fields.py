"""Permissions, declared where they apply and read from there by every path.

A field declares what reading it needs with ``permission_classes=[requires(P)]``
(null + FORBIDDEN at its path when the caller lacks it); ``permissions_of`` reads
that declaration back for the paths that do not run strawberry's permission
extension themselves (compiled reads, WebSocket subscriptions). An object type
reachable through ``node(id:)`` declares who may see it with ``@visible_with(P)``;
``node``/``nodes`` read ``type_permissions``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar, TypeVar

from graphql import GraphQLField
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from auth.permissions import Permission

T = TypeVar("T", bound=type)

_TYPE_PERMISSIONS = "__stockgraph_permissions__"
_DEFINITION = "strawberry-definition"  # strawberry's back-reference on a GraphQLField


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


def permissions_of(field: StrawberryField | GraphQLField) -> tuple[Permission, ...]:
    """The permissions a field declares with ``requires``, in declaration order."""
    if isinstance(field, GraphQLField):
        definition = (field.extensions or {}).get(_DEFINITION)
        if not isinstance(definition, StrawberryField):
            return ()
        field = definition
    found: list[Permission] = []
    for extension in field.extensions:
        if isinstance(extension, PermissionExtension):
            for check in extension.permissions:
                declared = getattr(type(check), "permission", None)
                if isinstance(declared, Permission):
                    found.append(declared)
    return tuple(found)


def visible_with(*permissions: Permission) -> Callable[[T], T]:
    """Declares on an object type what a caller needs to see one (``node(id:)``)."""

    def declare(cls: T) -> T:
        setattr(cls, _TYPE_PERMISSIONS, tuple(permissions))
        return cls

    return declare


def type_permissions(cls: type) -> tuple[Permission, ...]:
    """What ``visible_with`` declared on ``cls``; () when anyone of the tenant may see it."""
    return tuple(getattr(cls, _TYPE_PERMISSIONS, ()))
