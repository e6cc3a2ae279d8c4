"""Input objects built from their GraphQL values by a converter made once per type.

Strawberry converts an argument's value into its input classes on every call, and
resolves each field's type annotation again each time (about a twentieth of a
sale's CPU in the API). ``install(schema)`` gives every input type whose fields it
can convert a ``from_input`` hook (strawberry 0.341's hook for types that build
their own values): the fields' types are resolved once, and each call only walks
the value. The result is what strawberry builds: the same classes, fields the
client omitted left to their defaults (``None`` for fields without one), lists
copied, scalars and enums as graphql-core coerced them.

Types with a ``Maybe`` field, a ``GlobalID`` or a type this module does not know
keep strawberry's own conversion, as do the types that contain them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import strawberry
from strawberry.relay.types import GlobalID
from strawberry.schema.compat import is_scalar
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _copy(value: Any) -> Any:
    # graphql-core gives the same default list to every request that omits the
    # value: a list that is changed must be a copy (as strawberry does)
    return list(value) if value is not None and value is not UNSET else value


class _Builder:
    """Converters for the input types of one schema, made once."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self.registry = schema.schema_converter.scalar_registry
        self.config = schema.config
        self.made: dict[type, Convert | None] = {}

    def type_converter(self, type_: Any) -> Convert | None:
        """How a value of ``type_`` is converted, or None when this module cannot."""
        if isinstance(type_, StrawberryMaybe) or type_ is GlobalID:
            return None
        if isinstance(type_, StrawberryOptional):
            return self.type_converter(type_.of_type)  # None and UNSET pass below anyway
        if isinstance(type_, LazyType):
            return self.type_converter(type_.resolve_type())
        if isinstance(type_, StrawberryList):
            inner = self.type_converter(type_.of_type)
            if inner is None:
                return None
            if inner is _same:
                return _copy
            return lambda value: (
                value
                if value is None or value is UNSET
                else [inner(x) if x is not None and x is not UNSET else x for x in value]
            )
        if (
            is_scalar(type_, self.registry)
            or isinstance(type_, StrawberryEnumDefinition)
            or has_enum_definition(type_)
        ):
            return _same
        if has_object_definition(type_) and type_.__strawberry_definition__.is_input:
            return self.input_converter(type_)
        return None

    def input_converter(self, cls: type) -> Convert | None:
        """The builder of one input class; None for one this module leaves to strawberry
        (and for one met again while it is being made: a type that contains itself)."""
        if cls in self.made:
            return self.made[cls]
        self.made[cls] = None
        definition: StrawberryObjectDefinition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        fields: list[tuple[str, str, Convert]] = []
        for field in definition.fields:
            convert = self.type_converter(field.resolve_type(type_definition=definition))
            if convert is None:
                return None
            fields.append(
                (self.config.name_converter.from_field(field), field.python_name, convert)
            )
        unset = {
            f.python_name: None
            for f in definition.fields
            if f.default_value is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }

        def build(value: Any) -> Any:
            if value is None or value is UNSET:
                return value
            kwargs = dict(unset)
            for graphql_name, python_name, convert in fields:
                if graphql_name in value:
                    item = value[graphql_name]
                    kwargs[python_name] = item if item is None or item is UNSET else convert(item)
            return cls(**kwargs)

        self.made[cls] = build
        return build


def _hook(build: Convert) -> Callable[[type, Mapping[str, Any], InputContext], Any]:
    def from_input(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        return build(value)

    return from_input


def install(schema: strawberry.Schema) -> list[str]:
    """Give the schema's input types a converter made once; the names of those given."""
    builder = _Builder(schema)
    installed = []
    for concrete in list(schema.schema_converter.type_map.values()):
        definition = concrete.definition
        if not isinstance(definition, StrawberryObjectDefinition) or not definition.is_input:
            continue
        if definition.from_input is not None:
            continue  # built its own way already (by another schema of this process)
        build = builder.input_converter(definition.origin)
        if build is not None:
            definition.from_input = _hook(build)
            installed.append(definition.name)
    return sorted(installed)
