"""Query cost, as Shopify and GitHub calculate it: known before execution, settled after.

Why: the depth, alias and token limits bound a document's text, not the work it
asks for; 30 aliases of ``stockMovements(first: 250)`` pass all three. A cost per
field, multiplied by the page size a connection asks for, bounds the work.

- A field costs what it declares (``strawberry.field(metadata={"cost": n})``), else:
  a scalar or enum 0, an object 1, a connection 2, a mutation's root field 10; a
  connection's wrappers (fields returning ``…Edge`` or ``PageInfo``) cost nothing, so
  ``products(first: 10) { edges { node { sku } } }`` costs 2 + 10 × 1 = 12.
- A connection's selection is multiplied by ``first`` (or ``last``), literal or
  variable, else by the default page size; ``nodes(ids:)``'s by the number of IDs.
- The requested cost is the most the document may cost; the actual cost is counted
  on the data returned (the connections' real lengths, nothing for a null), and
  the difference is refunded to the caller's bucket (api/throttle.py).

Also here, the cheap pre-check that runs before graphql-core's validation: the
overlap rule compares fields pairwise, so a document of 300 copies of one
selection costs a second to validate; counting its fields costs microseconds.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from graphql.utilities import get_operation_ast
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from domain.pagination import DEFAULT_PAGE

TOO_WIDE = "SELECTION_TOO_WIDE"
# About 1-4 µs a unit in graphql-core 3.3's overlap rule here: 10,000 is under 40 ms.
# A document that selects each field once spends one unit per field.
MAX_MERGE_WORK = 10_000
SCALAR_COST = 0
OBJECT_COST = 1
CONNECTION_COST = 2
MUTATION_COST = 10
PAGE_ARGUMENTS = ("first", "last")
LIST_ARGUMENTS = ("ids",)
WRAPPER_TYPE_SUFFIXES = ("Edge", "PageInfo")

CompositeType = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


def too_wide(
    document: DocumentNode, max_width: int, max_fields: int, max_work: int = MAX_MERGE_WORK
) -> GraphQLError | None:
    """SELECTION_TOO_WIDE when one selection set holds more than ``max_width``
    selections, the document more than ``max_fields`` fields once fragments are
    expanded, or the overlap rule would have more than ``max_work`` comparisons to make.

    Runs on the bare AST (no schema), in time linear in the expanded document: a
    fragment's expanded size is counted once and reused, and a fragment cycle counts
    as nothing here (validation refuses it)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    sizes: dict[str, int] = {}

    def expanded(selection_set: SelectionSetNode | None, seen: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        selections = selection_set.selections
        if len(selections) > max_width:
            raise _Wide(f"a selection set holds {len(selections)} selections; at most {max_width}")
        total = 0
        for selection in selections:
            if isinstance(selection, FieldNode):
                total += 1 + expanded(selection.selection_set, seen)
            elif isinstance(selection, InlineFragmentNode):
                total += expanded(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen or name not in fragments:
                    continue
                if name not in sizes:
                    sizes[name] = expanded(fragments[name].selection_set, seen | {name})
                total += sizes[name]
            if total > max_fields:
                raise _Wide(f"the document selects more than {max_fields} fields")
        return total

    def flat(sets: list[SelectionSetNode], seen: frozenset[str]) -> Iterator[FieldNode]:
        for selection_set in sets:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    yield selection
                elif isinstance(selection, InlineFragmentNode):
                    yield from flat([selection.selection_set], seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name not in seen and name in fragments:
                        yield from flat([fragments[name].selection_set], seen | {name})

    def work(sets: list[SelectionSetNode], spent: int) -> int:
        """The overlap rule compares every pair of fields under one response key, then
        their sub-selections merged: the squares of the key counts, level by level."""
        groups: dict[str, list[FieldNode]] = {}
        for node in flat(sets, frozenset()):
            groups.setdefault((node.alias or node.name).value, []).append(node)
        for nodes in groups.values():
            spent += len(nodes) * len(nodes)
            if spent > max_work:
                raise _Wide(
                    "the document repeats the same fields too often "
                    f"(about {spent} comparisons to merge them; at most {max_work})"
                )
            children = [n.selection_set for n in nodes if n.selection_set is not None]
            if children:
                spent = work(children, spent)
        return spent

    try:
        operations: list[SelectionSetNode] = []
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                expanded(definition.selection_set, frozenset())
                operations.append(definition.selection_set)
            elif isinstance(definition, FragmentDefinitionNode):
                name = definition.name.value
                if name not in sizes:
                    sizes[name] = expanded(definition.selection_set, frozenset({name}))
        spent = 0
        for selection_set in operations:
            spent = work([selection_set], spent)
    except _Wide as wide:
        return GraphQLError(str(wide), extensions={"code": TOO_WIDE})
    return None


class _Wide(Exception):
    pass


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The most a valid document's operation may cost (0 when there is no such operation)."""
    # The walk reads a variable only as a page size (an int) or as a list of IDs (its
    # length): requests that differ in nothing else share one walk's answer.
    seen = tuple(
        (name, value if type(value) is int else len(value) if type(value) is list else None)
        for name, value in (variables or {}).items()
    )
    key = (id(schema), id(document), operation_name, seen)
    kept = _REQUESTED.get(key)
    if kept is not None and kept[0]() is document:
        _REQUESTED.move_to_end(key)
        return kept[1]
    cost = _requested(schema, document, operation_name, variables)
    _REQUESTED[key] = (weakref.ref(document), cost)
    if len(_REQUESTED) > COUNTERS_KEPT:
        _REQUESTED.popitem(last=False)
    return cost


_REQUESTED: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()


def _requested(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = _root_type(schema, operation)
    if root is None:
        return 0
    walk = _Walk(schema, document, variables, operation.operation is OperationType.MUTATION)
    return walk.requested(root, operation.selection_set, frozenset(), top=True)


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    data: Any,
) -> int:
    """What the operation cost, counted on the data it returned."""
    if not isinstance(data, dict):
        return 0
    count = _counter(schema, document, operation_name)
    return count(data) if count is not None else 0


# A document's counter depends on its text and operation, never on variables or data:
# made once per parsed document (the policy's cache hands the same object back for the
# same text) and kept beside a weak reference that proves the ``id`` still names it.
_COUNTERS: OrderedDict[tuple[int, int, str | None], tuple[Any, Counter | None]] = OrderedDict()
COUNTERS_KEPT = 1000


def _counter(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Counter | None:
    key = (id(schema), id(document), operation_name)
    kept = _COUNTERS.get(key)
    if kept is not None and kept[0]() is document:
        _COUNTERS.move_to_end(key)
        return kept[1]
    count: Counter | None = None
    operation = get_operation_ast(document, operation_name)
    root = _root_type(schema, operation) if operation is not None else None
    if operation is not None and root is not None:
        walk = _Walk(schema, document, None, operation.operation is OperationType.MUTATION)
        count = walk.counter(root, operation.selection_set, frozenset(), top=True)
    _COUNTERS[key] = (weakref.ref(document), count)
    if len(_COUNTERS) > COUNTERS_KEPT:
        _COUNTERS.popitem(last=False)
    return count


def _root_type(schema: GraphQLSchema, operation: OperationDefinitionNode) -> CompositeType | None:
    if operation.operation is OperationType.QUERY:
        return schema.query_type
    if operation.operation is OperationType.MUTATION:
        return schema.mutation_type
    return schema.subscription_type


Counter = Callable[[dict[str, Any]], int]  # a selection set's data → its actual cost
# (response key, own cost, a list by IDs?, the field's named type, its selection, fragments seen)
_Entry = tuple[str, int, bool, "CompositeType", SelectionSetNode | None, frozenset[str]]


class _Walk:
    """One walk over an operation's selections, fragments expanded (cycles skipped)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        mutation: bool,
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables or {}
        self.mutation = mutation
        self._memo: dict[tuple[str, int, frozenset[str], bool], list[_Entry]] = {}
        self._counters: dict[tuple[str, int, frozenset[str], bool], Counter | None] = {}

    def _fields(
        self, parent: CompositeType, selection_set: SelectionSetNode | None, seen: frozenset[str]
    ) -> Iterable[tuple[CompositeType, FieldNode, frozenset[str]]]:
        """The field nodes of a selection set with the type each is selected on."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield parent, selection, seen
            elif isinstance(selection, InlineFragmentNode):
                on = self._condition(parent, selection.type_condition)
                yield from self._fields(on, selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                on = self._condition(parent, fragment.type_condition)
                yield from self._fields(on, fragment.selection_set, seen | {name})

    def _condition(self, parent: CompositeType, condition: Any) -> CompositeType:
        if condition is None:
            return parent
        found = self.schema.type_map.get(condition.name.value)
        if isinstance(found, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return found
        return parent

    def _definition(self, parent: CompositeType, node: FieldNode) -> GraphQLField | None:
        if isinstance(parent, GraphQLUnionType):
            return None  # only __typename is selectable on a union itself
        return parent.fields.get(node.name.value)

    def _own(self, definition: GraphQLField, top: bool) -> int:
        declared = _declared(definition)
        if declared is not None:
            return declared
        if top and self.mutation:
            return MUTATION_COST
        named = get_named_type(definition.type)
        if is_leaf_type(named) or named.name.endswith(WRAPPER_TYPE_SUFFIXES):
            return SCALAR_COST
        if named.name.endswith("Connection"):
            return CONNECTION_COST
        return OBJECT_COST

    def _listed(self, node: FieldNode) -> int | None:
        """How many IDs a field such as ``nodes(ids: […])`` names; None for other fields."""
        for argument in node.arguments or ():
            if argument.name.value in LIST_ARGUMENTS:
                value = argument.value
                if isinstance(value, ListValueNode):
                    return len(value.values)
                if isinstance(value, VariableNode):
                    raw = self.variables.get(value.name.value)
                    return len(raw) if isinstance(raw, list) else 1
        return None

    def _multiplier(self, definition: GraphQLField, node: FieldNode) -> int:
        named = get_named_type(definition.type)
        given: int | None = None
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                given = int(value.value)
            elif isinstance(value, VariableNode):
                raw = self.variables.get(value.name.value)
                given = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
            if given is not None:
                break
        if given is None:
            if not named.name.endswith("Connection"):
                return 1
            given = DEFAULT_PAGE
        return max(0, given)

    def requested(
        self,
        parent: CompositeType,
        selection_set: SelectionSetNode | None,
        seen: frozenset[str],
        top: bool = False,
    ) -> int:
        total = 0
        for on, node, inner_seen in self._fields(parent, selection_set, seen):
            definition = self._definition(on, node)
            if definition is None:
                continue
            own = self._own(definition, top)
            named = get_named_type(definition.type)
            child = 0
            if node.selection_set is not None and not is_leaf_type(named):
                child = self.requested(named, node.selection_set, inner_seen)  # type: ignore[arg-type]
            ids = self._listed(node)
            if ids is not None:  # a list of objects by ID: each costs what one would
                total += ids * (own + child)
            else:
                total += own + self._multiplier(definition, node) * child
        return total

    def counter(
        self,
        parent: CompositeType,
        selection_set: SelectionSetNode | None,
        seen: frozenset[str],
        top: bool = False,
    ) -> Counter | None:
        """A function from a selection set's data to its actual cost (None: always 0).

        The entries and the counters below them are worked out once, so counting a
        connection's 250 nodes is a loop over plain tuples, not a walk of the AST."""
        memo_key = (parent.name, id(selection_set), seen, top)
        if memo_key in self._counters:
            return self._counters[memo_key]
        steps = [
            (key, own, listed, self.counter(named, child, inner) if child is not None else None)
            for key, own, listed, named, child, inner in self._entries(
                parent, selection_set, seen, top
            )
        ]
        steps = [step for step in steps if step[1] or step[3] is not None]
        count = _count_with(steps) if steps else None
        self._counters[memo_key] = count
        return count

    def _entries(
        self,
        parent: CompositeType,
        selection_set: SelectionSetNode | None,
        seen: frozenset[str],
        top: bool,
    ) -> list[_Entry]:
        """A selection set's fields as ``actual`` needs them, worked out once per walk:
        a connection's 50 nodes share one list, not 50 collections of fields."""
        memo_key = (parent.name, id(selection_set), seen, top)
        entries = self._memo.get(memo_key)
        if entries is None:
            entries = []
            for on, node, inner_seen in self._fields(parent, selection_set, seen):
                definition = self._definition(on, node)
                if definition is None:
                    continue
                named = get_named_type(definition.type)
                child = node.selection_set if not is_leaf_type(named) else None
                own = self._own(definition, top)
                if own == 0 and child is None:
                    continue  # a free scalar: nothing to count
                entries.append(
                    (
                        node.alias.value if node.alias else node.name.value,
                        own,
                        self._listed(node) is not None,
                        named,  # type: ignore[arg-type]
                        child,
                        inner_seen,
                    )
                )
            self._memo[memo_key] = entries
        return entries


def _count_with(steps: list[tuple[str, int, bool, Counter | None]]) -> Counter:
    if len(steps) == 1 and not steps[0][2]:  # one field (an edge's node, a node's object)
        key, own, _, below = steps[0]
        if below is None:
            return lambda data: 0 if data.get(key) is None else own

        def count_one(data: dict[str, Any]) -> int:
            value = data.get(key)
            if value is None:
                return 0
            return own + (below(value) if type(value) is dict else _count_items(below, value))

        return count_one

    def count(data: dict[str, Any]) -> int:
        total = 0
        for key, own, listed, below in steps:
            value = data.get(key)
            if value is None:
                continue
            if listed and type(value) is list:
                total += own * sum(1 for item in value if item is not None)
            else:
                total += own
            if below is not None:
                total += _count_items(below, value)
        return total

    return count


def _count_items(count: Counter, value: Any) -> int:
    if type(value) is dict:
        return count(value)
    if type(value) is not list:
        return 0
    total = 0
    for item in value:
        if type(item) is dict:
            total += count(item)
        elif item is not None:
            total += _count_items(count, item)
    return total


def _declared(definition: GraphQLField) -> int | None:
    """A cost the field declares: ``strawberry.field(metadata={"cost": n})``."""
    field = definition.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if isinstance(field, StrawberryField):
        cost = field.metadata.get("cost")
        if isinstance(cost, int):
            return cost
    return None
