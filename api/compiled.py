"""Compiled reads: a read-only document runs without per-field machinery.

Why: strawberry and graphql-core resolve a response field by field, each through
wrappers, an ``Info`` object and an awaitable; a 50-row stock list is ~300 such
fields, and that, not PostgreSQL, is where a request's time went. A plan built
once per document walks the same selection over whole rows at a time: one call per
field per *level* (a list of sources), not per row. See docs/fast-path.md.

The plan runs inside strawberry's own execution (``CompiledExecution``, a schema
extension's ``on_execute``), after strawberry parsed and validated the document, so
every validation rule and limit has passed. It keeps every guarantee of the full path:

- it calls the same resolvers with the same converted arguments under the same
  caller, so row-level security, location rules and field permissions still apply
  (a field's permission is checked before the field is read);
- it covers only what the schema declares compilable (schema/loading.py): root and
  resolver fields marked ``READS``, ``loaded`` fields, and the plain fields of types
  marked ``@compiled_type``; there is no list of names here;
- all of a plan's reads, sessions included, run in one read-only transaction on one
  pooled connection (db.reader.one_transaction): one snapshot, one BEGIN;
- whatever it does not expect (a permission the caller lacks, a null in a non-null
  field, an error from a resolver, a resolver that wants more of ``info`` than its
  context) makes it give up, and the full path answers instead, errors and all. A
  failure that is not such a give-up is logged and counted on /metrics.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.language import Visitor, visit
from graphql.utilities import get_operation_ast
from prometheus_client import Counter
from strawberry.extensions import SchemaExtension
from strawberry.permission import PermissionExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from api.error_log import ErrorLog, kind_of
from auth.permissions import Permission
from db.reader import one_transaction
from domain.errors import DomainError
from schema.context import Context
from schema.loading import BATCH, COMPILED, NOT_WITH, Batch, is_compiled_type

log = logging.getLogger("stockgraph.compiled")
failures = ErrorLog(log)  # once per kind per minute, with a count

PLAN_CACHE_SIZE = 1000
PLAN_CACHE_BYTES = 32 * 1024 * 1024  # the kept plans' estimated size together
# A plan keeps its document's AST (about 95 bytes per character of text without
# locations, measured with tracemalloc) and its own field plans: 160 rounds up.
PLAN_BYTES_PER_CHAR = 160
REFUSED_BYTES = 4 * 1024 * 1024  # the remembered non-compilable documents' text
# Longer documents are run but not remembered: the cache holds its keys' text, and a
# document with large literals (say, an inline receipt) is rarely sent twice.
MAX_DOCUMENT_CHARS = 20_000
PLAN_TRIED = "stockgraph.plan_tried"  # ASGI scope key: a plan already gave up on this request
OUTCOMES = Counter(
    "stockgraph_compiled_reads_total",
    "Requests for read-only documents: answered by a compiled plan, given back to the full "
    "path as expected (gave_up), or failed unexpectedly (failed, logged), or not compilable",
    ["outcome"],
)
# What a plan may run into and leave to the full path without anything being wrong:
# the full path answers these with its own error (or its own null), as it should.
EXPECTED = (GraphQLError, DomainError, PermissionError)


class GiveUp(Exception):
    """The compiled path cannot answer this request exactly; the full path will."""


class NotCompilable(Exception):
    """The document has something the compiler does not cover."""


class ContextInfo:
    """What a compiled resolver gets for ``info``: the context and the names of the fields
    selected below its field (``schema.loading.selected_below``), nothing else.

    Any other attribute gives up: the full path, with its whole ``Info``, answers.
    """

    __slots__ = ("context", "selected_below")

    def __init__(self, context: Context, selected_below: frozenset[str] = frozenset()) -> None:
        self.context = context
        self.selected_below = selected_below

    def __getattr__(self, name: str) -> Any:
        raise GiveUp(f"a resolver wants info.{name}")


Complete = Callable[[Any], Any]
PlanKey = tuple[int, str, str | None]  # tenant, document, operation name
MAX_INT = 2**31  # GraphQL Int is 32-bit signed
NON_NULL = ("nonnull",)
NON_NULL_LIST = ("nonnull", "list", "nonnull")


@dataclass(slots=True)
class FieldPlan:
    key: str
    field_def: GraphQLField | None  # None for __typename
    node: FieldNode | None
    strawberry_field: StrawberryField | None
    permissions: tuple[Permission, ...]
    typename: str | None = None
    complete: Complete | None = None  # leaves
    child: ObjectPlan | None = None  # objects
    wrappers: tuple[str, ...] = ()  # outer to inner: "nonnull" / "list"
    rows_suffice: bool = False  # a batched field whose selection reads only row columns
    # abstract fields (node, nodes): the plan per concrete type; None where that type's
    # selection does not compile (an object of that type makes the plan give up)
    children: dict[str, ObjectPlan | None] | None = None
    selected_below: frozenset[str] = frozenset()  # field names at any depth below


@dataclass(slots=True)
class ObjectPlan:
    type_name: str
    fields: list[FieldPlan]


@dataclass(slots=True)
class Plan:
    operation: OperationDefinitionNode
    root: ObjectPlan
    fields: frozenset[tuple[str, str]] = frozenset()  # (type, field) pairs it reads


# ---------------------------------------------------------------- compiling


def compile_plan(
    schema: GraphQLSchema, query: str | DocumentNode, operation_name: str | None
) -> Plan:
    """The plan of one operation of a valid document, or NotCompilable."""
    if isinstance(query, str):
        document = parse(query, no_location=True)  # a plan keeps its AST: no tokens in it
    else:
        document = query
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        raise NotCompilable("only queries")
    _refuse_directives(document)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if any(f.variable_definitions for f in fragments.values()):
        raise NotCompilable("fragment variables")
    query_type = schema.query_type
    assert query_type is not None
    root = _object_plan(schema, query_type, [operation.selection_set], fragments)
    return Plan(operation=operation, root=root, fields=frozenset(_fields_read(root)))


def _fields_read(plan: ObjectPlan) -> Iterator[tuple[str, str]]:
    for f in plan.fields:
        if f.node is not None:
            yield (plan.type_name, f.node.name.value)
        children = [f.child] if f.child is not None else list((f.children or {}).values())
        for child in children:
            if child is not None:
                yield from _fields_read(child)


def compilable(type_: GraphQLObjectType, name: str) -> bool:
    """Whether the schema declares ``type_.name`` compilable (schema/loading.py)."""
    field_def = type_.fields.get(name)
    sf = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF) if field_def else None
    if not isinstance(sf, StrawberryField):
        return False
    if sf.base_resolver is not None:
        return bool(sf.metadata.get(COMPILED)) or isinstance(sf.metadata.get(BATCH), Batch)
    definition = type_.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return definition is not None and is_compiled_type(definition.origin)


class _DirectiveFinder(Visitor):
    def enter_directive(self, *_: Any) -> None:
        raise NotCompilable("directives depend on variables")


def _refuse_directives(document: DocumentNode) -> None:
    visit(document, _DirectiveFinder())


def _collect(
    schema: GraphQLSchema,
    type_: GraphQLObjectType,
    selection_sets: Sequence[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
) -> dict[str, list[FieldNode]]:
    """Response key → its field nodes, in response order (fragments merged in)."""
    fields: dict[str, list[FieldNode]] = {}

    def applies(condition: Any) -> bool:
        if condition is None:
            return True
        cond = schema.get_type(condition.name.value)
        if cond is type_:
            return True
        return cond is not None and schema.is_sub_type(cond, type_)  # type: ignore[arg-type]

    def walk(selection_set: SelectionSetNode, seen: frozenset[str]) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if applies(selection.type_condition):
                    walk(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:
                    raise NotCompilable("unknown or cyclic fragment")
                if applies(fragment.type_condition):
                    walk(fragment.selection_set, seen | {name})

    for selection_set in selection_sets:
        walk(selection_set, frozenset())
    return fields


def _object_plan(
    schema: GraphQLSchema,
    type_: GraphQLObjectType,
    selection_sets: Sequence[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
) -> ObjectPlan:
    plans: list[FieldPlan] = []
    for key, nodes in _collect(schema, type_, selection_sets, fragments).items():
        name = nodes[0].name.value
        if name == "__typename":
            plans.append(FieldPlan(key, None, None, None, (), typename=type_.name))
            continue
        if not compilable(type_, name):
            raise NotCompilable(f"{type_.name}.{name} is not declared compilable")
        field_def = type_.fields[name]
        strawberry_field = field_def.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
        refused = strawberry_field.metadata.get(NOT_WITH, ())
        if any(a.name.value in refused for n in nodes for a in n.arguments or ()):
            raise NotCompilable(f"{type_.name}.{name} writes with the arguments given")
        plan = FieldPlan(
            key,
            field_def,
            nodes[0],
            strawberry_field,
            _permissions(strawberry_field),
        )
        wrappers: list[str] = []
        inner: GraphQLOutputType = field_def.type
        while isinstance(inner, GraphQLNonNull | GraphQLList):
            wrappers.append("nonnull" if isinstance(inner, GraphQLNonNull) else "list")
            inner = inner.of_type
        plan.wrappers = tuple(wrappers)
        subsets = [n.selection_set for n in nodes if n.selection_set is not None]
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            plan.complete = _leaf(field_def.type)
        elif isinstance(inner, GraphQLObjectType):
            plan.child = _object_plan(schema, inner, subsets, fragments)
            plan.rows_suffice = _rows_suffice(strawberry_field, plan.child)
        elif isinstance(inner, GraphQLInterfaceType | GraphQLUnionType):
            plan.children = {}
            for possible in schema.get_possible_types(inner):
                try:
                    plan.children[possible.name] = _object_plan(
                        schema, possible, subsets, fragments
                    )
                except NotCompilable:
                    plan.children[possible.name] = None
            if not any(plan.children.values()):
                raise NotCompilable(f"no type at {name} compiles")
        else:
            raise NotCompilable(f"type at {name}")
        below = [plan.child] if plan.child is not None else list((plan.children or {}).values())
        plan.selected_below = frozenset(_names(c for c in below if c is not None))
        plans.append(plan)
    return ObjectPlan(type_.name, plans)


def _names(plans: Iterable[ObjectPlan]) -> Iterator[str]:
    for plan in plans:
        for f in plan.fields:
            if f.node is not None:
                yield f.node.name.value
            yield from f.selected_below


def _rows_suffice(field: StrawberryField, child: ObjectPlan) -> bool:
    """True when ``field`` is batched and its selection reads only verbatim row columns."""
    batch = field.metadata.get(BATCH)
    if not isinstance(batch, Batch) or not batch.row_fields:
        return False
    for sub in child.fields:
        if sub.typename is not None:
            continue
        sf = sub.strawberry_field
        if sf is None or sf.base_resolver is not None or sub.permissions:
            return False
        if sf.python_name not in batch.row_fields:
            return False
    return True


def _permissions(field: StrawberryField) -> tuple[Permission, ...]:
    """The permissions a field declares; any other field extension is not compiled."""
    found: list[Permission] = []
    for extension in field.extensions:
        if not isinstance(extension, PermissionExtension):
            raise NotCompilable(f"extension on {field.python_name}")
        for permission in extension.permissions:
            declared = getattr(type(permission), "permission", None)
            if not isinstance(declared, Permission):
                raise NotCompilable(f"permission class on {field.python_name}")
            found.append(declared)
    return tuple(found)


def _leaf(type_: GraphQLOutputType) -> Complete:
    """A function from a resolved value to its serialized form, for scalar and enum fields."""
    if isinstance(type_, GraphQLNonNull):
        inner_type = type_.of_type
        if inner_type is GraphQLString or inner_type is GraphQLInt:
            return _plain_non_null(inner_type)
        inner = _leaf(inner_type)

        def non_null(value: Any) -> Any:
            if value is None:
                raise GiveUp("null in a non-null field")
            return inner(value)

        return non_null
    if isinstance(type_, GraphQLList):
        item = _leaf(type_.of_type)
        return lambda value: None if value is None else [item(v) for v in value]
    assert isinstance(type_, GraphQLScalarType | GraphQLEnumType)
    serialize = type_.serialize

    def leaf(value: Any) -> Any:
        if value is None:
            return None
        result = serialize(value)
        if result is None:
            raise GiveUp("value did not serialize")
        return result

    return leaf


def _plain_non_null(type_: GraphQLScalarType) -> Complete:
    """String! and Int!: a str (an int in range) is its own serialization; anything
    else goes through graphql-core's own serialize, exactly as on the full path."""
    serialize = type_.serialize

    def plain_str(value: Any) -> Any:
        if type(value) is str:
            return value
        if value is None:
            raise GiveUp("null in a non-null field")
        return serialize(value)

    def plain_int(value: Any) -> Any:
        if type(value) is int and -MAX_INT <= value < MAX_INT:
            return value
        if value is None:
            raise GiveUp("null in a non-null field")
        return serialize(value)

    return plain_str if type_ is GraphQLString else plain_int


# ---------------------------------------------------------------- running


@dataclass(slots=True)
class Run:
    schema: Any  # strawberry.Schema
    context: Context
    variables: Any  # graphql VariableValues


async def execute(plan: Plan, strawberry_schema: Any, context: Context, inputs: Any) -> Any:
    """The ``data`` of the response, or GiveUp."""
    if context.caller is None:
        raise GiveUp("no caller")
    coerced = get_variable_values(
        strawberry_schema._schema, plan.operation.variable_definitions or (), inputs or {}
    )
    if isinstance(coerced, list):
        raise GiveUp("variables do not coerce")
    run = Run(strawberry_schema, context, coerced)
    async with one_transaction(context.db.app_engine, context.caller.tenant_id):
        (data,) = await _run_object(plan.root, [None], run)
    return data


async def _run_object(plan: ObjectPlan, sources: list[Any], run: Run) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{} for _ in sources]
    caller = run.context.caller
    assert caller is not None
    for field in plan.fields:
        key = field.key
        if field.typename is not None:
            for d in out:
                d[key] = field.typename
            continue
        for permission in field.permissions:
            if not caller.has(permission):
                raise GiveUp("permission")
        values = await _resolve(field, sources, run)
        if field.complete is not None:
            complete = field.complete
            for d, v in zip(out, values, strict=True):
                d[key] = complete(v)
            continue
        wrappers = field.wrappers
        if field.children is not None:
            objects: list[Any] = []
            for v in values:
                _gather_objects(wrappers, v, objects)
            done = iter(await _run_abstract(field.children, objects, run) if objects else ())
            for d, v in zip(out, values, strict=True):
                d[key] = _rebuild(wrappers, v, done)
            continue
        assert field.child is not None
        if wrappers == NON_NULL:  # the common shapes, without a call per value
            if any(v is None for v in values):
                raise GiveUp("null in a non-null field")
            for d, r in zip(out, await _run_object(field.child, values, run), strict=True):
                d[key] = r
            continue
        if wrappers == NON_NULL_LIST:
            objects = [item for v in values for item in v]
            if any(v is None for v in objects):
                raise GiveUp("null in a non-null field")
            done = iter(await _run_object(field.child, objects, run) if objects else ())
            for d, v in zip(out, values, strict=True):
                d[key] = [next(done) for _ in v]
            continue
        objects = []
        for v in values:
            _gather_objects(wrappers, v, objects)
        done = iter(await _run_object(field.child, objects, run) if objects else ())
        for d, v in zip(out, values, strict=True):
            d[key] = _rebuild(wrappers, v, done)
    return out


async def _run_abstract(
    children: dict[str, ObjectPlan | None], objects: list[Any], run: Run
) -> list[dict[str, Any]]:
    """Objects of an interface or union: each concrete type's plan over its own objects,
    the results back in the objects' order."""
    by_type: dict[str, list[int]] = {}
    for i, obj in enumerate(objects):
        definition = getattr(type(obj), "__strawberry_definition__", None)
        name = getattr(definition, "name", None)
        if name is None or children.get(name) is None:
            raise GiveUp(f"an object of type {name} here does not compile")
        by_type.setdefault(name, []).append(i)
    results: list[dict[str, Any]] = [{} for _ in objects]
    for name, indices in by_type.items():
        child = children[name]
        assert child is not None
        done = await _run_object(child, [objects[i] for i in indices], run)
        for i, r in zip(indices, done, strict=True):
            results[i] = r
    return results


async def _resolve(field: FieldPlan, sources: list[Any], run: Run) -> list[Any]:
    sf = field.strawberry_field
    assert sf is not None and field.field_def is not None and field.node is not None
    resolver = sf.base_resolver
    if resolver is None:
        name = sf.python_name
        return [getattr(s, name) for s in sources]
    batch = sf.metadata.get(BATCH)
    if isinstance(batch, Batch):
        return await _load_batch(batch, sources, run, field.rows_suffice)
    kwargs: dict[str, Any] = {}
    if field.field_def.args:
        raw = get_argument_values(field.field_def, field.node, run.variables)
        kwargs = convert_arguments(
            raw,
            sf.arguments,
            scalar_registry=run.schema.schema_converter.scalar_registry,
            config=run.schema.config,
        )
    if resolver.info_parameter is not None:
        kwargs[resolver.info_parameter.name] = ContextInfo(run.context, field.selected_below)
    source_parameter = resolver.root_parameter or resolver.parent_parameter
    if resolver.self_parameter is not None:
        results = [resolver(s, **kwargs) for s in sources]
    elif source_parameter is not None:
        name = source_parameter.name
        results = [resolver(**kwargs, **{name: s}) for s in sources]
    else:
        results = [resolver(**kwargs) for _ in sources]
    if resolver.is_async or any(inspect.isawaitable(r) for r in results):
        if len(results) == 1:  # a root field: no task needed to await one coroutine
            return [await results[0]]
        return list(await asyncio.gather(*results))
    return results


async def _load_batch(batch: Batch, sources: list[Any], run: Run, rows_suffice: bool) -> list[Any]:
    """One loader call for the whole level, as the full path's dataloader would batch it.

    When the selection below reads only fields the type copies from its row unchanged
    (``Batch.row_fields``), the rows themselves stand in for the objects."""
    keys = [getattr(s, batch.key) for s in sources]
    loaders = run.context.loaders
    known = loaders.known(batch.loader)  # rows read, or joined in, earlier in this request
    missing = list({k for k in keys if k not in known})
    if missing:
        loader = getattr(loaders, batch.loader)
        known.update(zip(missing, await loader.batch_load_fn(missing), strict=True))
    rows = [known[k] for k in keys]
    if rows_suffice:
        if any(row is None for row in rows):
            raise GiveUp("a row the full path would fail on")
        return list(rows)
    convert = batch.convert
    values = []
    for row in rows:
        if row is None:
            raise GiveUp("a row the full path would fail on")
        values.append(convert(row))
    return values


def _gather_objects(wrappers: tuple[str, ...], value: Any, out: list[Any], depth: int = 0) -> None:
    if depth == len(wrappers):
        if value is not None:
            out.append(value)
        return
    if wrappers[depth] == "nonnull":
        if value is None:
            raise GiveUp("null in a non-null field")
        _gather_objects(wrappers, value, out, depth + 1)
    elif value is not None:
        for item in value:
            _gather_objects(wrappers, item, out, depth + 1)


def _rebuild(wrappers: tuple[str, ...], value: Any, done: Iterator[Any], depth: int = 0) -> Any:
    if value is None:
        return None
    if depth == len(wrappers):
        return next(done)
    if wrappers[depth] == "nonnull":
        return _rebuild(wrappers, value, done, depth + 1)
    return [_rebuild(wrappers, item, done, depth + 1) for item in value]


# ---------------------------------------------------------------- the cache


class CompiledReads:
    """Plans by (tenant, document, operation name), made the first time a document runs.

    Per tenant, so that no tenant can tell (from timing or the counters on /metrics)
    which documents another one runs. Bounded by count and by estimated bytes
    (a document that inlines its values instead of using variables is a new key each
    time; it is compiled, run and in time pushed out, never more than the bound).
    Documents that do not compile are remembered apart, so they never push plans out.
    """

    def __init__(
        self,
        strawberry_schema: Any = None,
        size: int = PLAN_CACHE_SIZE,
        max_bytes: int = PLAN_CACHE_BYTES,
    ) -> None:
        self.schema = strawberry_schema
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self.plans: OrderedDict[PlanKey, Plan] = OrderedDict()
        self.refused: OrderedDict[PlanKey, None] = OrderedDict()
        self.refused_bytes = 0
        self.hits = 0
        self.fallbacks = 0
        self.failures = 0

    def plan_for(
        self, query: str | None, operation_name: str | None, tenant_id: int | None
    ) -> Plan | None:
        """The plan already made for this document, if any."""
        if query is None or tenant_id is None:
            return None
        key = (tenant_id, query, operation_name)
        plan = self.plans.get(key)
        if plan is not None:
            self.plans.move_to_end(key)
        return plan

    def learn(
        self,
        query: str | None,
        operation_name: str | None,
        tenant_id: int | None,
        document: DocumentNode | None = None,
    ) -> Plan | None:
        """The plan of a document that strawberry parsed and validated; None when it does
        not compile (remembered, so it is not tried again)."""
        if query is None or tenant_id is None:
            return None
        key = (tenant_id, query, operation_name)
        plan = self.plan_for(query, operation_name, tenant_id)
        if plan is not None or key in self.refused:
            return plan
        try:
            plan = compile_plan(self.schema._schema, document or query, operation_name)
        except (NotCompilable, GraphQLError):
            OUTCOMES.labels("not_compilable").inc()
            if len(query) <= MAX_DOCUMENT_CHARS:
                self.refused[key] = None
                self.refused_bytes += 2 * len(query)
                while len(self.refused) > self.size or self.refused_bytes > REFUSED_BYTES:
                    (_, dropped, _), _ = self.refused.popitem(last=False)
                    self.refused_bytes -= 2 * len(dropped)
            return None
        if len(query) <= MAX_DOCUMENT_CHARS:
            self.plans[key] = plan
            self.bytes += PLAN_BYTES_PER_CHAR * len(query)
            while len(self.plans) > self.size or self.bytes > self.max_bytes:
                (_, dropped, _), _ = self.plans.popitem(last=False)
                self.bytes -= PLAN_BYTES_PER_CHAR * len(dropped)
        return plan

    async def run(self, plan: Plan, variables: Any, context: Context) -> tuple[bool, Any]:
        """(True, data) when the plan answered; (False, None) when the full path must."""
        try:
            data = await execute(plan, self.schema, context, variables)
        except GiveUp as reason:
            return self._gave_up(context, "gave_up", reason)
        except EXPECTED as reason:
            return self._gave_up(context, "gave_up", reason)
        except Exception as error:
            self.failures += 1
            failures.error(
                kind_of(error, "compiled plan"),
                "compiled plan failed; the full path answers",
                error,
            )
            return self._gave_up(context, "failed", error)
        self.hits += 1
        OUTCOMES.labels("answered").inc()
        return True, data

    def _gave_up(self, context: Context, outcome: str, reason: BaseException) -> tuple[bool, Any]:
        self.fallbacks += 1
        OUTCOMES.labels(outcome).inc()
        log.debug("compiled plan gave up: %s", reason)
        context._loaders = None  # the full path starts from fresh loaders
        return False, None

    async def try_execute(
        self, query: str | None, operation_name: str | None, variables: Any, context: Context
    ) -> tuple[bool, Any]:
        """(True, data) when a plan answered; (False, None) when the full path must."""
        tenant_id = context.caller.tenant_id if context.caller is not None else None
        plan = self.plan_for(query, operation_name, tenant_id)
        if plan is None:
            return False, None
        return await self.run(plan, variables, context)


class CompiledExecution(SchemaExtension):
    """Runs a read-only document on its plan inside strawberry's execution.

    ``on_execute`` comes after strawberry parsed and validated the document (every
    rule and limit of the schema), and after the extensions before it in the list
    (an answer already set, such as a 401, is left alone). When the plan answers,
    its data is the result and graphql-core's executor is not called; when it gives
    up, the executor runs as if the plan had never been tried.
    """

    def __init__(self, reads: CompiledReads) -> None:
        super().__init__()
        self.reads = reads

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        context = ec.context
        if ec.result is None and isinstance(context, Context) and context.caller is not None:
            scope = getattr(context.request, "scope", None) or {}
            if not scope.get(PLAN_TRIED) and _is_query(ec.graphql_document, ec.operation_name):
                plan = self.reads.learn(
                    ec.query, ec.operation_name, context.caller.tenant_id, ec.graphql_document
                )
                if plan is not None:
                    answered, data = await self.reads.run(plan, ec.variables, context)
                    if answered:
                        ec.result = GraphQLExecutionResult(data=data, errors=None)
        yield


def _is_query(document: DocumentNode | None, operation_name: str | None) -> bool:
    if document is None:
        return False
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation is OperationType.QUERY
