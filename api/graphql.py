"""The GraphQL schema and its HTTP/WebSocket view.

Validation rules (depth, aliases, tokens) are built once per schema, so the
parse and validation caches hit on every request (a rule class made per
request would silently defeat them).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Iterator
from functools import cache
from typing import Any

import orjson
import strawberry
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from graphql.error import GraphQLError as CoreGraphQLError
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.http import GraphQLRequestData
from strawberry.schema.config import StrawberryConfig
from strawberry.subscriptions import GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionContext, ExecutionResult

from api.compiled import PLAN_TRIED, CompiledReads
from api.persisted import PersistedDocuments, Refusal, requested_hash
from api.settings import Settings
from auth.backend import authenticate
from auth.tokens import InvalidToken, TokenService
from db.session import Database
from resolvers.roots import Mutation, Query, Subscription
from schema.context import Context
from schema.scalars import SCALAR_MAP

log = logging.getLogger("stockgraph.graphql")

UNAUTHENTICATED = "UNAUTHENTICATED"


INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})


def _introspection_only(ctx: ExecutionContext) -> bool:
    """True only when every top-level selection is a plain introspection field.

    Fragments at the top level are refused outright: a fragment's name says
    nothing about the fields inside it.
    """
    doc = ctx.graphql_document
    if doc is None:
        return False
    for definition in doc.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if not isinstance(selection, FieldNode):
                    return False
                if selection.name.value not in INTROSPECTION_FIELDS:
                    return False
    return True


def unauthenticated(context: Context) -> GraphQLExecutionResult:
    """HTTP 401 (when there is an HTTP response) and an UNAUTHENTICATED error."""
    if context.response is not None and hasattr(context.response, "status_code"):
        context.response.status_code = 401
        context.response.headers["WWW-Authenticate"] = 'Bearer realm="stockgraph"'
    return GraphQLExecutionResult(
        data=None,
        errors=[
            GraphQLError("a valid Bearer token is required", extensions={"code": UNAUTHENTICATED})
        ],
    )


class RequireCaller(SchemaExtension):
    """No caller, no execution: HTTP 401 with an UNAUTHENTICATED error.

    Introspection alone is let through where introspection is on, so GraphiQL
    can show the schema before the developer pastes a token.
    """

    allow_introspection = True

    def on_execute(self) -> Iterator[None]:
        context: Context = self.execution_context.context
        if context.caller is None and not (
            self.allow_introspection and _introspection_only(self.execution_context)
        ):
            self.execution_context.result = unauthenticated(context)
        yield


class RequireCallerNoIntrospection(RequireCaller):
    allow_introspection = False


class StockgraphSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[CoreGraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only what is unexpected; refusals and bad queries are the client's business."""
        for error in errors:
            original = error.original_error
            if original is not None and not isinstance(original, GraphQLError | PermissionError):
                log.error("unexpected error at %s", error.path, exc_info=original)


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def _limits(max_depth: int, max_aliases: int, introspection: bool) -> type[AddValidationRules]:
    """One extension class whose rule classes are built once, so validation caching hits."""
    from graphql.validation import NoSchemaIntrospectionCustomRule

    rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)

    class Limits(AddValidationRules):
        def __init__(self) -> None:
            super().__init__(rules)

    return Limits


@cache
def build_schema(
    production: bool = False,
    introspection: bool = True,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 5000,
) -> strawberry.Schema:
    """One schema (and one set of validation rule classes) per configuration."""
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=1000),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        _limits(max_depth, max_aliases, introspection),
        lambda: ValidationCache(maxsize=1000),
        RequireCaller if introspection else RequireCallerNoIntrospection,
    ]
    if production:
        extensions.append(lambda: MaskErrors(should_mask_error=_unexpected))
    return StockgraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production, scalar_map=SCALAR_MAP),
    )


@cache
def _rules(max_depth: int, max_aliases: int, introspection: bool) -> tuple[type, ...]:
    limits: Any = _limits(max_depth, max_aliases, introspection)
    return tuple(limits().validation_rules)


def validation_rules(settings: Settings) -> tuple[type, ...]:
    """The same limits for the WebSocket path as for HTTP (built once)."""
    return _rules(settings.max_depth, settings.max_aliases, settings.introspection_enabled)


def schema_for(settings: Settings) -> strawberry.Schema:
    return build_schema(
        settings.production,
        settings.introspection_enabled,
        settings.max_depth,
        settings.max_aliases,
        settings.max_tokens,
    )


def request_id(value: str | None) -> str:
    if value and len(value) <= 100 and value.isprintable():
        return value
    return uuid.uuid4().hex


class GraphQLApp(GraphQL[Context, None]):
    """strawberry's ASGI view with our context, authentication and JSON encoder."""

    def __init__(
        self, settings: Settings, db: Database, tokens: TokenService, broker: Any = None
    ) -> None:
        # graphql-transport-ws is served by api/ws.py; strawberry only ever sees the
        # legacy protocol, and only when the setting enables it.
        protocols = [GRAPHQL_WS_PROTOCOL] if settings.legacy_graphql_ws else []
        super().__init__(
            schema_for(settings),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            subscription_protocols=protocols,
            max_subscriptions_per_connection=100,
            # createImport's file (bearer tokens, not cookies: no cross-site risk)
            multipart_uploads_enabled=True,
        )
        self.db = db
        self.tokens = tokens
        self.broker = broker
        self.queue_size = settings.subscription_queue_size
        self.compiled = CompiledReads(self.schema) if settings.compiled_reads else None
        self.persisted = PersistedDocuments()

    async def execute_single(  # type: ignore[override]
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """A persisted document is looked up by its hash; a document seen before runs on
        its compiled plan; otherwise (or when the plan gives up) on strawberry's full path,
        after which a clean query's plan is learnt."""
        if context.caller is None and requested_hash(request_data.extensions) is not None:
            refused = unauthenticated(context)  # persisted documents are kept per tenant
            return ExecutionResult(data=None, errors=refused.errors)
        tenant_id = context.caller.tenant_id if context.caller is not None else None
        query = self.persisted.resolve(tenant_id, request_data.query, request_data.extensions)
        if isinstance(query, Refusal):
            error = GraphQLError(query.message, extensions={"code": query.code})
            return ExecutionResult(data=None, errors=[error])
        if query is not request_data.query:
            request_data = dataclasses.replace(request_data, query=query)
        compiled = self.compiled
        tried = getattr(request, "scope", {}).get(PLAN_TRIED, False)
        if compiled is not None and context.caller is not None and not tried:
            answered, data = await compiled.try_execute(
                request_data.query, request_data.operation_name, request_data.variables, context
            )
            if answered:
                return ExecutionResult(data=data, errors=None)
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        if compiled is not None and context.caller is not None:
            compiled.learn(
                request_data.query,
                request_data.operation_name,
                succeeded=not result.errors and result.data is not None,
                tenant_id=context.caller.tenant_id,
            )
        return result

    def decode_json(self, data: str | bytes) -> object:
        """orjson, and the standard library for what orjson refuses (integers beyond 64 bits)."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return json.loads(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        try:
            caller = authenticate(request.headers.get("authorization"), self.tokens)
        except InvalidToken:
            caller = None
        return Context(
            db=self.db,
            caller=caller,
            request_id=request_id(request.headers.get("x-request-id")),
            response=response,
            request=request,
            broker=self.broker,
            queue_size=self.queue_size,
        )

    async def on_ws_connect(self, context: Context) -> None:
        """Legacy graphql-ws only: the token may come in connection_init's payload."""
        params = context.connection_params
        if isinstance(params, dict) and isinstance(params.get("authorization"), str):
            try:
                context.caller = authenticate(params["authorization"], self.tokens)
            except InvalidToken:
                context.caller = None
        if context.caller is None:
            raise ConnectionRejectionError({"message": "a valid Bearer token is required"})

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)
