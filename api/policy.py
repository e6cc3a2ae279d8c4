"""The request policy: one place for what every way of running a document obeys.

Strawberry's executor (HTTP, persisted documents, legacy graphql-ws), the compiled
plans (learnt only from documents that passed here) and the graphql-transport-ws
endpoint (api/ws.py, subscriptions/render.py) all read the same ``Policy``:

- parsing with the token limit (and no number literal over 100 characters), and
  validation with the depth and alias limits,
  introspection on or off, and field suggestions hidden in production; both cached
  by document text, one cache per policy shared by every path. The rule classes
  are built once per policy: a rule class made per request would defeat the cache;
- request errors carry a code: GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
  BAD_USER_INPUT for variables (unless a scalar gave its own, such as INVALID);
- a cheap pre-check of each selection set's width before graphql-core's validation
  (api/cost.py: its overlap rule is quadratic in a selection set's width);
- the caches bounded by bytes, not count; a document over a share of the cache is
  run but not kept, and nothing is kept for a caller without a token;
- no caller, no execution (UNAUTHENTICATED, HTTP 401), introspection aside where on;
- the query cost (api/cost.py): MAX_COST_EXCEEDED over the maximum, a leaky bucket
  per client (api/throttle.py) refusing with THROTTLED (HTTP 429) and a retry hint,
  and ``extensions.cost`` in every response;
- a subscription sent over plain HTTP is told where the WebSocket endpoint is;
- errors as the client sees them: in production, unexpected errors are masked and
  no message says "Did you mean", whichever step produced it;
- an answer replayed from an idempotency key says so: the ``Idempotent-Replayed:
  true`` header over HTTP and ``extensions.idempotentReplayed`` wherever a
  response has extensions.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FloatValueNode,
    GraphQLError,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    Visitor,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from starlette.requests import Request
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from api.cost import actual_cost, requested_cost, too_wide
from api.throttle import ClientKey, Status, Throttle
from auth.caller import Caller
from domain.errors import DomainError
from schema.context import Context

UNAUTHENTICATED = "UNAUTHENTICATED"
# request errors, by the codes integrators know from Apollo's servers
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"  # variables that do not coerce
WEBSOCKET_REQUIRED = "WEBSOCKET_REQUIRED"
THROTTLED = "THROTTLED"
MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
MASKED_MESSAGE = "Unexpected error."
REPLAY_HEADER = "Idempotent-Replayed"  # Stripe's name for the same thing
REPLAY_EXTENSION = "idempotentReplayed"
CACHE_BYTES = 64 * 1024 * 1024  # parsed and validated documents together, per policy
# A parsed document takes about 120 bytes per character of its text (measured with
# tracemalloc on graphql-core 3.3); the estimate rounds up.
AST_BYTES_PER_CHAR = 128
ENTRY_SHARE = 32  # a document whose estimate is over 1/32 of the cache is not kept
# Parsing leaves garbage in reference cycles (graphql-core's token list, strawberry's
# execution context), and the server raises the collector's thresholds for its
# sockets (api/app.py), so a full collection may come only after thousands of
# requests: distinct documents sent quickly grew RSS by ~45 KB each. After this many
# characters of newly parsed text (cache hits parse nothing) the policy collects:
# 300 distinct 50 KB documents then grew RSS by 22 MB in all, against 72 MB before.
GC_AFTER_PARSED_CHARS = 1_000_000
INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
MAX_NUMBER_CHARS = 100  # a number literal longer than this is refused at parse
_LONG_DIGITS = re.compile(f"[0-9]{{{MAX_NUMBER_CHARS + 1}}}")


class Policy:
    """Limits, introspection, suggestions and masking for one configuration."""

    def __init__(
        self,
        *,
        production: bool,
        introspection: bool,
        max_depth: int,
        max_aliases: int,
        max_tokens: int,
        max_cost: int | None = None,
        bucket_size: int = 2000,
        restore_rate: float = 100.0,
        max_width: int = 100,
        max_fields: int = 1000,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        self.production = production
        self.introspection = introspection
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.max_width = max_width
        self.max_fields = max_fields
        self.throttle = Throttle(bucket_size, restore_rate) if max_cost is not None else None
        self.hide_suggestions = production
        self.mask_errors = production
        rules: list[type[ASTValidationRule]] = [
            *specified_rules,
            *QueryDepthLimiter(max_depth=max_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
            MaybeNullValidationRule,
            OneOfInputValidationRule,
        ]
        if not introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.rules: tuple[type[ASTValidationRule], ...] = tuple(rules)
        # The validation results are small next to the documents: an eighth of the bytes.
        self._parsed = _SizedCache(cache_bytes)
        self._parsed_chars = 0
        self.collections = 0
        self._validated = _SizedCache(cache_bytes // 8)

    def parse(self, query: str, keep: bool = True) -> DocumentNode:
        """The document, parsed once per text; GraphQLError beyond the token limit.

        ``keep=False`` (a caller without a token): parsed, never cached."""
        if not keep:
            self._churn(len(query))
            return self._parse_text(query)
        document = self._parsed.get(query)
        if document is None:
            self._churn(len(query))
            document = self._parse_text(query)
            self._parsed.put(query, document, AST_BYTES_PER_CHAR * len(query))
        return document  # type: ignore[no-any-return]

    def _churn(self, chars: int) -> None:
        """Collect the parsing garbage once enough new text went through the parser."""
        self._parsed_chars += chars
        if self._parsed_chars > GC_AFTER_PARSED_CHARS:
            self._parsed_chars = 0
            self.collections += 1
            gc.collect()

    def validate(
        self, schema: GraphQLSchema, query: str, keep: bool = True
    ) -> tuple[GraphQLError, ...]:
        """Validation errors of a document text (cached); () when it is valid."""
        if not keep:
            return self.validate_document(schema, self.parse(query, keep=False))
        key = (schema, query)
        errors = self._validated.get(key)
        if errors is None:
            errors = self.validate_document(schema, self.parse(query))
            # the text is shared with the parse cache; the errors are short
            self._validated.put(key, errors, 64 + 2 * len(query) + 1024 * len(errors))
        return errors  # type: ignore[no-any-return]

    def cache_info(self) -> dict[str, CacheInfo]:
        """Hits, misses and bytes of the parse and validation caches (tests and metrics)."""
        return {"parse": self._parsed.info(), "validate": self._validated.info()}

    def validate_document(
        self, schema: GraphQLSchema, document: DocumentNode
    ) -> tuple[GraphQLError, ...]:
        """The same rules for a document that came without its text (not cached).

        The width pre-check first: a document it refuses never reaches the overlap rule."""
        wide = too_wide(document, self.max_width, self.max_fields)
        if wide is not None:
            return (wide,)
        errors = validate(schema, document, self.rules, hide_suggestions=self.hide_suggestions)
        return tuple(with_code(e, VALIDATION_FAILED) for e in errors)

    def _parse_text(self, query: str) -> DocumentNode:
        try:
            document = parse(query, max_tokens=self.max_tokens)
            if _LONG_DIGITS.search(query) is not None:  # rare: only then walk the document
                visit(document, _NumberLength())
        except GraphQLError as error:
            raise with_code(error, PARSE_FAILED) from None
        return document

    def charge(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        caller: Caller | None,
    ) -> Charge | None:
        """The requested cost of a valid document, taken from the caller's bucket.

        None when cost is off (no maximum configured) or there is no caller. A Charge
        with an ``error`` is a refusal: nothing was taken."""
        if self.max_cost is None or self.throttle is None or caller is None:
            return None
        requested = requested_cost(schema, document, operation_name, variables)
        key = client_key(caller)
        if requested > self.max_cost:
            error = GraphQLError(
                f"the query's cost ({requested}) is over the maximum of {self.max_cost}: "
                "ask for smaller pages or fewer fields",
                extensions={
                    "code": MAX_COST_EXCEEDED,
                    "requestedQueryCost": requested,
                    "maximumCost": self.max_cost,
                },
            )
            return Charge(key, requested, self.throttle.status(key), error)
        status = self.throttle.take(key, requested)
        if status.retry_after:
            error = GraphQLError(
                f"throttled: this client's cost bucket holds {int(status.available)} points "
                f"and the query needs {requested}; retry after {status.retry_after} s",
                extensions={"code": THROTTLED, "retryAfter": status.retry_after},
            )
            return Charge(key, requested, status, error, status.retry_after)
        return Charge(key, requested, status)

    def settle(
        self,
        charge: Charge,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        data: Any,
    ) -> dict[str, Any]:
        """Refund what the operation did not use; ``extensions.cost`` of its response."""
        if charge.error is not None or self.throttle is None:
            return charge.extension(None)
        actual = actual_cost(schema, document, operation_name, variables, data)
        actual = min(actual, charge.requested)
        charge.status = self.throttle.refund(charge.key, charge.requested - actual)
        return charge.extension(actual)

    def cancel(self, charge: Charge | None) -> None:
        """Give a charge back whole: the document will be charged again elsewhere."""
        if charge is not None and charge.error is None and self.throttle is not None:
            self.throttle.refund(charge.key, charge.requested)

    def present(self, errors: Iterable[GraphQLError]) -> list[GraphQLError]:
        """Errors as the client may see them: a refusal from the domain with its code
        (everywhere); in production, unexpected ones masked and no suggestions."""
        coded = [_coded(error) for error in errors]
        if not self.production:
            return coded
        return [_shown(error) for error in coded]

    def formatted(self, result: ExecutionResult) -> dict[str, Any]:
        """A result's JSON-ready form, its errors presented."""
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = self.formatted_errors(result.errors)
        return body

    def formatted_errors(self, errors: Iterable[GraphQLError]) -> list[dict[str, Any]]:
        return [dict(e.formatted) for e in self.present(errors)]

    def extension(self) -> type[SchemaExtension]:
        """The strawberry extension that applies this policy (one class per policy)."""
        return _extension(self)


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    entries: int
    bytes: int
    max_bytes: int


class _SizedCache:
    """An LRU cache bounded by the estimated bytes of its entries (cachetools).

    An entry over ``1 / ENTRY_SHARE`` of the bound is not kept: a huge document
    would push out many useful ones, and is rarely sent twice."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(1, max_bytes)
        self.cache: LRUCache[Any, tuple[Any, int]] = LRUCache(
            self.max_bytes, getsizeof=lambda entry: entry[1]
        )
        self.hits = 0
        self.misses = 0

    def get(self, key: Any) -> Any:
        entry = self.cache.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        return entry[0]

    def put(self, key: Any, value: Any, size: int) -> None:
        if size <= self.max_bytes // ENTRY_SHARE:
            self.cache[key] = (value, size)

    def info(self) -> CacheInfo:
        return CacheInfo(
            self.hits, self.misses, len(self.cache), int(self.cache.currsize), self.max_bytes
        )


@dataclass(slots=True)
class Charge:
    """What one operation took from its client's bucket, and whether it was refused."""

    key: ClientKey
    requested: int
    status: Status
    error: GraphQLError | None = None
    retry_after: int = 0

    def extension(self, actual: int | None) -> dict[str, Any]:
        """Shopify's ``extensions.cost``."""
        return {
            "requestedQueryCost": self.requested,
            "actualQueryCost": actual,
            "throttleStatus": self.status.as_extension(),
        }


def client_key(caller: Caller) -> ClientKey:
    """Whose bucket: the app or the staff member, within its tenant."""
    return (caller.tenant_id, caller.subject or f"{caller.kind}:{caller.client_id}")


def policy(
    production: bool = False,
    introspection: bool = True,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 5000,
    *,
    max_cost: int | None = None,
    bucket_size: int = 2000,
    restore_rate: float = 100.0,
    max_width: int = 100,
    max_fields: int = 1000,
    cache_bytes: int = CACHE_BYTES,
) -> Policy:
    """One Policy (and so one set of rule classes, caches and buckets) per configuration.

    Cost is off unless ``max_cost`` is given (servers give it: api/settings.py)."""
    return _policy(
        production,
        introspection,
        max_depth,
        max_aliases,
        max_tokens,
        max_cost,
        bucket_size,
        restore_rate,
        max_width,
        max_fields,
        cache_bytes,
    )


@cache
def _policy(
    production: bool,
    introspection: bool,
    max_depth: int,
    max_aliases: int,
    max_tokens: int,
    max_cost: int | None,
    bucket_size: int,
    restore_rate: float,
    max_width: int,
    max_fields: int,
    cache_bytes: int,
) -> Policy:
    return Policy(
        production=production,
        introspection=introspection,
        max_depth=max_depth,
        max_aliases=max_aliases,
        max_tokens=max_tokens,
        max_cost=max_cost,
        bucket_size=bucket_size,
        restore_rate=restore_rate,
        max_width=max_width,
        max_fields=max_fields,
        cache_bytes=cache_bytes,
    )


class _NumberLength(Visitor):
    """Refuses a number literal of more than MAX_NUMBER_CHARS characters: graphql-core
    would echo all of it, with Python's own words about integer conversion limits."""

    def enter_int_value(self, node: IntValueNode, *_: Any) -> None:
        self._check(node)

    def enter_float_value(self, node: FloatValueNode, *_: Any) -> None:
        self._check(node)

    @staticmethod
    def _check(node: IntValueNode | FloatValueNode) -> None:
        if len(node.value) > MAX_NUMBER_CHARS:
            raise GraphQLError(
                f"a number literal may have at most {MAX_NUMBER_CHARS} characters; "
                f"this one has {len(node.value)}",
                nodes=[node],
                extensions={"code": "INVALID"},  # as the scalars refuse what they cannot hold
            )


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """``error`` with ``extensions.code`` = ``code`` unless it has a code of its own (a
    scalar's INVALID, say). Request errors then carry a code as every other error does."""
    if error.extensions and "code" in error.extensions:
        return error
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


def bad_user_input(errors: Iterable[GraphQLError]) -> list[GraphQLError]:
    """Errors of coercing an operation's variables (before anything executed)."""
    return [with_code(e, BAD_USER_INPUT) for e in errors]


def unexpected(error: GraphQLError) -> bool:
    """An error the client did not cause and cannot act on (a bug, an outage)."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | DomainError)


def domain_error(error: DomainError, path: list[str | int] | None = None) -> GraphQLError:
    """A refusal the domain raised outside a mutation (say, an ID argument that is not
    an ID) as a GraphQL error with its code and the argument it names."""
    extensions: dict[str, Any] = {"code": error.code}
    if error.field:
        extensions["field"] = error.field
    return GraphQLError(error.message, path=path, extensions=extensions)


def _coded(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if not isinstance(original, DomainError) or "code" in (error.extensions or {}):
        return error
    coded = domain_error(original, list(error.path) if error.path is not None else None)
    return GraphQLError(
        coded.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=coded.extensions,
    )


def _shown(error: GraphQLError) -> GraphQLError:
    if unexpected(error):
        return GraphQLError(
            MASKED_MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
        )
    if "Did you mean" not in error.message:
        return error
    return GraphQLError(
        _SUGGESTION.sub("", error.message),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )


def throttled(context: Context, retry_after: int) -> None:
    """HTTP 429 with Retry-After, when there is an HTTP response."""
    response = context.response
    if response is not None and hasattr(response, "status_code"):
        response.status_code = 429
        response.headers["Retry-After"] = str(retry_after)


def unauthenticated(context: Context) -> GraphQLError:
    """The UNAUTHENTICATED error, and HTTP 401 when there is an HTTP response."""
    response = context.response
    if response is not None and hasattr(response, "status_code"):
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="stockgraph"'
    return GraphQLError("a valid Bearer token is required", extensions={"code": UNAUTHENTICATED})


def websocket_required_error() -> GraphQLError:
    return GraphQLError(
        "subscriptions are served over WebSocket: connect to ws(s)://<host>/graphql "
        "with the graphql-transport-ws subprotocol",
        extensions={
            "code": WEBSOCKET_REQUIRED,
            "endpoint": "/graphql",
            "protocol": "graphql-transport-ws",
        },
    )


def introspection_only(document: DocumentNode | None) -> bool:
    """True only when every top-level selection is a plain introspection field.

    Fragments at the top level are refused outright: a fragment's name says
    nothing about the fields inside it.
    """
    if document is None:
        return False
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if not isinstance(selection, FieldNode):
                    return False
                if selection.name.value not in INTROSPECTION_FIELDS:
                    return False
    return True


class Enforce(SchemaExtension):
    """Applies ``policy`` to one strawberry operation (subclassed once per policy)."""

    policy: Policy
    cost: dict[str, Any] | None = None

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = self.policy.present(result.errors)
        context = self.execution_context.context
        if isinstance(context, Context) and context.idempotent_replay:
            response = context.response
            if response is not None and hasattr(response, "status_code"):
                response.headers[REPLAY_HEADER] = "true"

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result of a stream (the legacy graphql-ws protocol's events) as well."""
        if getattr(result, "errors", None):
            result.errors = self.policy.present(result.errors)
        yield

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query is not None:
            ctx.graphql_document = self.policy.parse(ctx.query, keep=_keep(ctx))
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        schema = ctx.schema._schema
        if ctx.query is not None:
            errors = self.policy.validate(schema, ctx.query, keep=_keep(ctx))
        else:
            assert ctx.graphql_document is not None
            errors = self.policy.validate_document(schema, ctx.graphql_document)
        ctx.pre_execution_errors = list(errors)
        yield

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        refusal = _refusal(self.policy, ctx)
        if refusal is not None:
            ctx.result = ExecutionResult(data=None, errors=[refusal])
            yield
            return
        context: Context = ctx.context
        schema = ctx.schema._schema
        document = ctx.graphql_document
        charge = (
            self.policy.charge(schema, document, ctx.operation_name, ctx.variables, context.caller)
            if document is not None and ctx.result is None
            else None
        )
        if charge is not None and charge.error is not None:
            if charge.retry_after:
                throttled(context, charge.retry_after)
            ctx.result = ExecutionResult(data=None, errors=[charge.error])
        yield
        result = ctx.result
        if isinstance(result, ExecutionResult) and result.data is None and result.errors:
            if all(e.path is None for e in result.errors):  # nothing ran: the variables
                result.errors = bad_user_input(result.errors)
                if charge is not None and charge.error is None:  # a request error costs nothing
                    self.policy.cancel(charge)
                    charge = None
        if charge is not None and document is not None:
            data = getattr(ctx.result, "data", None)
            self.cost = self.policy.settle(
                charge, schema, document, ctx.operation_name, ctx.variables, data
            )

    def get_results(self) -> dict[str, Any]:
        """``extensions.cost`` (Shopify's names) when cost is on, and
        ``extensions.idempotentReplayed`` when the answer is a stored one."""
        results: dict[str, Any] = {"cost": self.cost} if self.cost is not None else {}
        context = self.execution_context.context
        if isinstance(context, Context) and context.idempotent_replay:
            results[REPLAY_EXTENSION] = True
        return results


def _keep(ctx: ExecutionContext) -> bool:
    """Documents are cached only for a caller with a token."""
    context = ctx.context
    return isinstance(context, Context) and context.caller is not None


def _refusal(policy: Policy, ctx: ExecutionContext) -> GraphQLError | None:
    """Why this operation may not run at all, if it may not."""
    context: Context = ctx.context
    if context.caller is None and not (
        policy.introspection and introspection_only(ctx.graphql_document)
    ):
        return unauthenticated(context)
    if ctx.operation_type is OperationType.SUBSCRIPTION and isinstance(context.request, Request):
        return websocket_required_error()
    return None


@cache
def _extension(policy: Policy) -> type[SchemaExtension]:
    return type("Enforce", (Enforce,), {"policy": policy})
