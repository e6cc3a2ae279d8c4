"""Every input type converts as strawberry's own conversion would (schema/inputs.py):
the same classes, the same values, omitted fields at their defaults, lists copied."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types.arguments import convert_argument
from strawberry.types.base import (
    StrawberryList,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.lazy_type import LazyType

from api.graphql import build_schema

SCHEMA = build_schema()
REGISTRY = SCHEMA.schema_converter.scalar_registry
INPUTS = sorted(
    (
        c.definition
        for c in SCHEMA.schema_converter.type_map.values()
        if isinstance(c.definition, StrawberryObjectDefinition) and c.definition.is_input
    ),
    key=lambda d: d.name,
)


class Leaf:
    """A scalar or enum value: both paths must hand it on untouched."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __repr__(self) -> str:
        return f"Leaf({self.where})"


def sample(type_: Any, where: str, depth: int, everything: bool) -> Any:
    if isinstance(type_, StrawberryOptional):
        return sample(type_.of_type, where, depth, everything)
    if isinstance(type_, LazyType):
        return sample(type_.resolve_type(), where, depth, everything)
    if isinstance(type_, StrawberryList):
        return [sample(type_.of_type, f"{where}[{i}]", depth, everything) for i in range(2)]
    if has_object_definition(type_) and type_.__strawberry_definition__.is_input:
        return value_of(type_.__strawberry_definition__, depth + 1, everything)
    return Leaf(where)


def value_of(definition: StrawberryObjectDefinition, depth: int, everything: bool) -> Any:
    """A GraphQL input value: every field, or only the required ones (and null for the
    first optional one), nested inputs a few levels deep."""
    out: dict[str, Any] = {}
    nulled = False
    for field in definition.fields:
        name = SCHEMA.config.name_converter.from_field(field)
        type_ = field.resolve_type(type_definition=definition)
        optional = isinstance(type_, StrawberryOptional)
        if optional and not everything:
            if not nulled:
                out[name] = None
                nulled = True
            continue
        if depth > 3 and optional:
            continue
        out[name] = sample(type_, f"{definition.name}.{name}", depth, everything)
    return out


def strawberrys(definition: StrawberryObjectDefinition, value: Any) -> Any:
    hook = definition.from_input
    definition.from_input = None
    try:
        return convert_argument(value, definition.origin, REGISTRY, SCHEMA.config)
    finally:
        definition.from_input = hook


def test_every_input_type_has_a_converter() -> None:
    assert len(INPUTS) > 60
    assert [d.name for d in INPUTS if d.from_input is None] == []


@pytest.mark.parametrize("everything", [True, False], ids=["all fields", "required only"])
@pytest.mark.parametrize("definition", INPUTS, ids=lambda d: d.name)
def test_conversion_is_strawberrys(
    definition: StrawberryObjectDefinition, everything: bool
) -> None:
    value = value_of(definition, 0, everything)
    ours = convert_argument(value, definition.origin, REGISTRY, SCHEMA.config)
    theirs = strawberrys(definition, value)
    assert type(ours) is definition.origin
    assert ours == theirs


def test_lists_are_copied() -> None:
    """graphql-core gives the same default list to every request that omits it."""
    lines = [{"sku": "A", "quantity": 1}]
    definition = next(d for d in INPUTS if d.name == "RecordSaleInput")
    value = {"locationId": "x", "receiptNumber": "r", "lines": lines, "payments": []}
    ours = convert_argument(value, definition.origin, REGISTRY, SCHEMA.config)
    assert (
        ours.lines is not lines and ours.payments == [] and ours.payments is not value["payments"]
    )
