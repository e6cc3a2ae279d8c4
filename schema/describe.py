"""Descriptions of enum values, declared beside the enum's GraphQL name.

Most enums are the domain's own (``domain/`` never imports strawberry), so their
members cannot carry ``strawberry.enum_value(description=...)``; the schema module
that names the enum describes its values here instead. A value left undescribed is
an error at import, not a blank line in GraphiQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

E = TypeVar("E")


def enum_values(**descriptions: str) -> Callable[[E], E]:
    """Decorate a strawberry enum (after ``@strawberry.enum``) with one line per value."""

    def apply(enum_cls: E) -> E:
        definition: Any = getattr(enum_cls, "__strawberry_definition__")  # noqa: B009
        names = {v.name for v in definition.values}
        if names != set(descriptions):
            missing, extra = sorted(names - set(descriptions)), sorted(set(descriptions) - names)
            raise ValueError(f"{definition.name}: undescribed {missing}, unknown {extra}")
        for value in definition.values:
            value.description = descriptions[value.name]
        return enum_cls

    return apply
