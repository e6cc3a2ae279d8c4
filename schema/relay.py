"""Relay plumbing: the Node interface, opaque cursors and generic connections."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from domain import ids
from domain.errors import InvalidInput, NotFound
from domain.pagination import Page
from schema.loading import READS, compiled_type

# Every connection field's paging arguments, described once: ``first: First = None``.
First = Annotated[
    int | None,
    strawberry.argument(description="How many items to return: 0 to 250 (default 50)."),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Return the items after this cursor (pageInfo.endCursor or an edge's "
        "cursor); omit for the first page."
    ),
]

T = TypeVar("T")


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global ID, stable across releases: pass it to node(id:) or to "
        "arguments of type ID. Never parse it; another tenant's ID resolves to null."
    )


class LazyGlobalId:
    """``id`` of an object made from a row: encoded from its ``pk`` when first read.

    Why: encoding an opaque ID (domain/ids.py) costs ~2 µs, and most lists never select
    ``id``; a page of 250 levels spent half a millisecond on IDs nobody read. An object
    made with an ``id`` keeps it (the instance's value comes first).
    """

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = strawberry.ID(ids.encode(self.type_name, obj.pk))
        obj.__dict__["id"] = value
        return value


N = TypeVar("N", bound=type)


def lazy_id(cls: N) -> N:
    """Gives a Node type made from rows (it has ``pk``) an ID encoded on first read; its
    ``from_row`` may then leave ``id`` out (see ``made``)."""
    definition = getattr(cls, "__strawberry_definition__", None)
    cls.id = LazyGlobalId(definition.name if definition is not None else cls.__name__)  # type: ignore[attr-defined]
    return cls


_new = object.__new__


def made(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of a strawberry type from all its attributes but a lazy ``id``, without
    the dataclass ``__init__`` (keyword passing was most of a row's cost in a long page)."""
    obj = _new(cls)
    obj.__dict__ = values
    return obj


@compiled_type
@strawberry.type(description="Where a page sits in its list (Relay cursor connections).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more items follow: ask again with after: endCursor."
    )
    has_previous_page: bool = strawberry.field(
        description="True when this page was asked for with after: (items precede it)."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the first edge; null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last edge, to pass as after: for the next page; "
        "null on an empty page."
    )


@compiled_type
@strawberry.type(description="One item of a list and its cursor.")
class Edge(Generic[T]):
    """An item and its cursor; the cursor is encoded only when it is asked for."""

    _key: strawberry.Private[Any]
    cursor: str = strawberry.field(
        resolver=lambda root: edge_cursor(root),
        metadata=READS,
        description="Opaque position of this item: pass it as after: to read the items "
        "that follow it.",
    )
    node: T = strawberry.field(description="The item.")


@compiled_type
@strawberry.type(
    description="One page of a list (a Relay cursor connection): first (default 50, at "
    "most 250) items after the cursor given as after:, in the list's stable order."
)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="How to ask for the next page.")
    _count: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field(
        description="The number of items matching the filter (one COUNT query).", metadata=READS
    )
    async def total_count(self) -> int:
        return await self._count() if self._count is not None else len(self.edges)

    @property
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def edge_cursor(edge: Edge[Any]) -> str:
    return encode_cursor(edge._key)


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _cursor_error() -> InvalidInput:
    return InvalidInput("after is not a cursor of this list", ["after"])


def decode_cursor(cursor: str | None) -> Any:
    """The sort key inside a cursor; a cursor we did not make is INVALID."""
    if cursor is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        raise _cursor_error() from None


def text_cursor(cursor: str | None) -> str | None:
    key = decode_cursor(cursor)
    if key is not None and not isinstance(key, str):
        raise _cursor_error()
    return key


def int_cursor(cursor: str | None) -> int | None:
    key = decode_cursor(cursor)
    if key is not None and not (type(key) is int and 0 <= key < 2**63):
        raise _cursor_error()
    return key


def pair_cursor(cursor: str | None) -> tuple[int, int] | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    if not (
        isinstance(key, list)
        and len(key) == 2
        and all(type(k) is int and 0 <= k < 2**63 for k in key)
    ):
        raise _cursor_error()
    return (key[0], key[1])


def connection(
    page: Page[Any],
    to_node: Callable[[Any], T],
    key: Callable[[Any], Any],
    count: Callable[[], Awaitable[int]] | None = None,
) -> Connection[T]:
    rows = page.rows
    edges = [made(Edge, {"_key": key(row), "node": to_node(row)}) for row in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=encode_cursor(edges[0]._key) if edges else None,
            end_cursor=encode_cursor(edges[-1]._key) if edges else None,
        ),
        _count=count,
    )


def decode_id(global_id: strawberry.ID | str | None, type_name: str, field: Sequence[str]) -> int:
    """The pk behind an ID argument, for every resolver, the compiled plans and the socket.

    A string that is not an ID of ``type_name`` (a location code where a Location ID is
    expected, another type's ID, a typo) is INVALID naming the argument: answering an
    empty list or null would hide the caller's mistake. A well-formed ID whose row the
    caller cannot see (another tenant's) decodes, and its lookup answers null or
    NOT_FOUND, so nothing tells the two tenants' IDs apart.
    """
    if global_id is None:
        raise NotFound(f"no {type_name} with this ID", list(field))
    pk = ids.decode_int(str(global_id), type_name)
    if pk is None:
        raise invalid_id(global_id, f"a {type_name} ID", field)
    return pk


def decode_ids(
    values: Sequence[strawberry.ID | str] | None, type_name: str, field: str
) -> list[int] | None:
    """``decode_id`` for a list argument; an item's error names its index."""
    if values is None:
        return None
    return [decode_id(v, type_name, [field, str(i)]) for i, v in enumerate(values)]


def invalid_id(value: object, expected: str, field: Sequence[str]) -> InvalidInput:
    """INVALID: ``field`` holds ``value``, which is not ``expected``."""
    shown = str(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    path = ".".join(field[:1]) + "".join(f"[{f}]" if f.isdigit() else f".{f}" for f in field[1:])
    return InvalidInput(f'{path} is not {expected}: "{shown}"', list(field))
