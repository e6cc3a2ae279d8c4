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
- no caller, no execution (UNAUTHENTICATED, HTTP 401), introspection aside where on;
- a subscription sent over plain HTTP is told where the WebSocket endpoint is;
- errors as the client sees them: in production, unexpected errors are masked and
  no message says "Did you mean", whichever step produced it;
- an answer replayed from an idempotency key says so: the ``Idempotent-Replayed:
  true`` header over HTTP and ``extensions.idempotentReplayed`` wherever a
  response has extensions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from typing import Any

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

from domain.errors import DomainError
from schema.context import Context

UNAUTHENTICATED = "UNAUTHENTICATED"
# request errors, by the codes integrators know from Apollo's servers
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"  # variables that do not coerce
WEBSOCKET_REQUIRED = "WEBSOCKET_REQUIRED"
MASKED_MESSAGE = "Unexpected error."
REPLAY_HEADER = "Idempotent-Replayed"  # Stripe's name for the same thing
REPLAY_EXTENSION = "idempotentReplayed"
CACHE_SIZE = 1000  # documents kept parsed and validated, per policy
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
    ) -> None:
        self.production = production
        self.introspection = introspection
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.max_tokens = max_tokens
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
        self._parse = lru_cache(maxsize=CACHE_SIZE)(self._parse_text)
        self._validate = lru_cache(maxsize=CACHE_SIZE)(self._validate_text)

    def parse(self, query: str) -> DocumentNode:
        """The document, parsed once per text; GraphQLError beyond the token limit."""
        return self._parse(query)

    def validate(self, schema: GraphQLSchema, query: str) -> tuple[GraphQLError, ...]:
        """Validation errors of a document text (cached); () when it is valid."""
        return self._validate(schema, query)

    def cache_info(self) -> dict[str, Any]:
        """Hits and misses of the parse and validation caches (for tests and metrics)."""
        return {"parse": self._parse.cache_info(), "validate": self._validate.cache_info()}

    def validate_document(
        self, schema: GraphQLSchema, document: DocumentNode
    ) -> tuple[GraphQLError, ...]:
        """The same rules for a document that came without its text (not cached)."""
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

    def _validate_text(self, schema: GraphQLSchema, query: str) -> tuple[GraphQLError, ...]:
        return self.validate_document(schema, self.parse(query))

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


def policy(
    production: bool = False,
    introspection: bool = True,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 5000,
) -> Policy:
    """One Policy (and so one set of rule classes and caches) per configuration."""
    return _policy(production, introspection, max_depth, max_aliases, max_tokens)


@cache
def _policy(
    production: bool, introspection: bool, max_depth: int, max_aliases: int, max_tokens: int
) -> Policy:
    return Policy(
        production=production,
        introspection=introspection,
        max_depth=max_depth,
        max_aliases=max_aliases,
        max_tokens=max_tokens,
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

    def get_results(self) -> dict[str, Any]:
        """``extensions.idempotentReplayed``: the answer is a stored one, nothing ran again."""
        context = self.execution_context.context
        if isinstance(context, Context) and context.idempotent_replay:
            return {REPLAY_EXTENSION: True}
        return {}

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result of a stream (the legacy graphql-ws protocol's events) as well."""
        if getattr(result, "errors", None):
            result.errors = self.policy.present(result.errors)
        yield

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query is not None:
            ctx.graphql_document = self.policy.parse(ctx.query)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        schema = ctx.schema._schema
        if ctx.query is not None:
            errors = self.policy.validate(schema, ctx.query)
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
        result = ctx.result
        if isinstance(result, ExecutionResult) and result.data is None and result.errors:
            if all(e.path is None for e in result.errors):  # nothing ran: the variables
                result.errors = bad_user_input(result.errors)


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
