"""What compiled reads (api/compiled.py) may run, declared where the schema is written.

- ``@compiled_type`` on a type: its plain fields (copied from a row when the object
  is made) may be read by a plan.
- ``metadata=READS`` on a field with a resolver (a root field included): the resolver
  only reads, and only through ``Database.read`` and ``Database.tenant_transaction`` (a
  plan runs them all in one read-only transaction on one connection), and uses
  nothing of ``info`` but its context.
- ``loaded(...)``: a row looked up by a key the parent holds, through a named loader.
  It resolves row by row through the request's dataloader on the full path; a plan
  looks up the keys of a whole level in one call.
- ``reads_unless(*arguments)``: ``READS``, except when the document gives one of these
  arguments (GraphQL names): with it the read writes something (an audit record, a
  rate limit), so such a document is not compiled and the full path answers it.

A field without a declaration is never compiled, so a new read type is compiled
when it declares itself, and nothing else needs to know its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

BATCH = "stockgraph.batch"
COMPILED = "stockgraph.compiled"
TYPE_FLAG = "__stockgraph_compiled__"
NOT_WITH = "stockgraph.compiled_not_with"
# metadata of a field whose resolver only reads (see the module's docstring)
READS: dict[str, Any] = {COMPILED: True}


def reads_unless(*arguments: str) -> dict[str, Any]:
    """Metadata of a field that only reads unless the document gives one of ``arguments``
    (their GraphQL names): a document that gives one is not compiled."""
    return {COMPILED: True, NOT_WITH: frozenset(arguments)}


C = TypeVar("C", bound=type)


def compiled_type(cls: C) -> C:
    """Declares that a plan may read this type's plain fields."""
    setattr(cls, TYPE_FLAG, True)
    return cls


def is_compiled_type(cls: Any) -> bool:
    return bool(getattr(cls, TYPE_FLAG, False))


@dataclass(frozen=True, slots=True)
class Batch:
    loader: str  # the attribute of db.loaders.Loaders
    key: str  # the attribute of the parent holding the key
    convert: Callable[[Any], Any]  # row -> schema object
    # Fields that ``convert`` copies from the row's column of the same name, unchanged:
    # a selection of only these can be answered from the rows themselves.
    row_fields: frozenset[str] = frozenset()


def selected_below(info: Any) -> frozenset[str]:
    """The names of the fields selected anywhere below the resolver's field.

    A resolver may use it to read along the rows a ``loaded`` field below will want
    (a join in its own statement, given to ``Loaders.seed``), sparing that loader its
    statement. A plan's ``info`` carries the names, made with the plan; strawberry's is
    walked here.
    """
    names = getattr(info, "selected_below", None)
    if isinstance(names, frozenset):
        return names
    found: set[str] = set()
    # selected_fields is the resolver's own field; what lies below are its selections
    todo = [child for own in info.selected_fields for child in own.selections]
    while todo:
        selection = todo.pop()
        name = getattr(selection, "name", None)
        if isinstance(name, str) and not hasattr(selection, "type_condition"):
            found.add(name)
        todo.extend(getattr(selection, "selections", ()))
    return frozenset(found)


def loaded(
    loader: str,
    key: str,
    convert: Callable[[Any], Any],
    description: str | None = None,
    row_fields: frozenset[str] = frozenset(),
) -> Any:
    """A field whose value is ``convert(loaders.<loader>.load(parent.<key>))``."""

    async def resolve(root: Any, info: Info):  # type: ignore[no-untyped-def]
        row = await getattr(info.context.loaders, loader).load(getattr(root, key))
        return convert(row)

    return strawberry.field(
        resolver=resolve,
        description=description,
        metadata={BATCH: Batch(loader, key, convert, row_fields)},
    )
