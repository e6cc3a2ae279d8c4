"""The GraphQL schema and its HTTP view (and the legacy graphql-ws protocol).

What a request may do (limits, introspection, suggestions, masking, the caller
requirement) is the policy's (api/policy.py); the caller comes from the scope,
where the authentication middleware put it (auth/backend.py).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from contextvars import ContextVar
from functools import cache
from typing import Any

import orjson
import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, GraphQLSchema
from graphql.error import GraphQLError as CoreGraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.config import StrawberryConfig
from strawberry.subscriptions import GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionContext, ExecutionResult

from api import graphiql, protocol
from api.compiled import PLAN_CACHE_BYTES, CompiledExecution, CompiledReads
from api.error_log import ErrorLog, kind_of
from api.persisted import PersistedDocuments, Refusal, requested_hash
from api.policy import Policy, policy, unauthenticated
from api.protocol import BAD_REQUEST, GRAPHQL_RESPONSE, BadRequest
from api.settings import Settings
from auth.backend import authorization_param, caller_from_header, caller_of
from auth.tokens import TokenService
from db.session import Database
from domain.errors import DomainError
from resolvers.roots import Mutation, Query, Subscription
from schema import inputs
from schema.context import Context
from schema.scalars import SCALAR_MAP, harden_text_scalars

log = logging.getLogger("stockgraph.graphql")
unexpected_errors = ErrorLog(log)  # once per kind per minute, with a count

# ASGI scope key: the JSON body of a POST, already decoded by the /graphql endpoint,
# so that the view does not decode it a second time.
JSON_BODY = "stockgraph.json_body"
_NOTHING = object()
_DECODED: ContextVar[object] = ContextVar("stockgraph_decoded_body", default=_NOTHING)


class StockgraphSchema(strawberry.Schema):
    compiled_reads: CompiledReads | None = None  # the plans of CompiledExecution, if on

    def process_errors(
        self, errors: list[CoreGraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only what is unexpected; refusals and bad queries are the client's business."""
        for error in errors:
            original = error.original_error
            if original is not None and not isinstance(
                original, GraphQLError | PermissionError | DomainError
            ):
                unexpected_errors.error(
                    kind_of(original, error.path), f"unexpected error at {error.path}", original
                )


@cache
def build_schema(
    production: bool = False,
    introspection: bool = True,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 5000,
    compiled_reads: bool = True,
    *,
    limits: tuple[tuple[str, Any], ...] = (),
    plan_cache_bytes: int = PLAN_CACHE_BYTES,
) -> strawberry.Schema:
    """One schema per configuration, executing under that configuration's policy.

    ``limits``: the policy's keyword settings (cost, widths, cache bytes) as pairs."""
    harden_text_scalars()
    rules = policy(production, introspection, max_depth, max_aliases, max_tokens, **dict(limits))
    reads = CompiledReads(max_bytes=plan_cache_bytes) if compiled_reads else None
    # the policy first: a refusal it sets is left alone by the compiled reads
    extensions: list[Any] = [rules.extension()]
    if reads is not None:
        extensions.append(lambda: CompiledExecution(reads))
    schema = StockgraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production, scalar_map=SCALAR_MAP),
    )
    if reads is not None:
        reads.schema = schema
        schema.compiled_reads = reads
    inputs.install(schema)
    return schema


def _limits(settings: Settings) -> tuple[tuple[str, Any], ...]:
    """The policy's keyword settings of a running server (cost is always on there)."""
    return (
        ("max_cost", settings.max_query_cost),
        ("bucket_size", settings.cost_bucket_size),
        ("restore_rate", settings.cost_restore_rate),
        ("max_width", settings.max_selection_width),
        ("max_fields", settings.max_selection_fields),
        ("cache_bytes", settings.document_cache_bytes),
    )


def policy_for(settings: Settings) -> Policy:
    """The policy of a running server: the same object for HTTP and WebSocket."""
    return policy(
        settings.production,
        settings.introspection_enabled,
        settings.max_depth,
        settings.max_aliases,
        settings.max_tokens,
        **dict(_limits(settings)),
    )


def schema_for(settings: Settings) -> strawberry.Schema:
    return build_schema(
        settings.production,
        settings.introspection_enabled,
        settings.max_depth,
        settings.max_aliases,
        settings.max_tokens,
        settings.compiled_reads,
        limits=_limits(settings),
        plan_cache_bytes=settings.plan_cache_bytes,
    )


_CODES = {405: "METHOD_NOT_ALLOWED", 404: "NOT_FOUND"}


def error_response(message: str, code: str | None, status: int, request: Request) -> Response:
    """A refusal before GraphQL ran, as JSON in GraphQL's error shape (never text/plain)."""
    media = protocol.media_type(request.headers.get("accept"))
    headers = {"content-type": protocol.CONTENT_TYPES[media].decode()}
    if status == 405:
        headers["allow"] = "GET, POST"
    body = protocol.error_body(message, code or BAD_REQUEST)
    return Response(body, status_code=status, headers=headers)


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
        self.public_url = settings.public_url
        self.db = db
        self.tokens = tokens
        self.broker = broker
        self.queue_size = settings.subscription_queue_size
        self.compiled: CompiledReads | None = getattr(self.schema, "compiled_reads", None)
        self.persisted = PersistedDocuments(max_bytes=settings.persisted_cache_bytes)
        self.policy = policy_for(settings)
        self.graphql_schema: GraphQLSchema = schema_for(settings)._schema

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our own GraphiQL page, which loads nothing from a CDN (api/graphiql.py)."""
        return graphiql.page(request, self.public_url)

    async def execute_single(  # type: ignore[override]
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """A persisted document is looked up by its hash, then runs through strawberry
        (where api/compiled.py's extension answers read-only documents from their plans)."""
        if context.caller is None and (
            not self.policy.introspection or requested_hash(request_data.extensions) is not None
        ):
            # Without a token only introspection may run, and only where it is on: the
            # document is neither parsed nor kept. Persisted documents are kept per tenant.
            return ExecutionResult(data=None, errors=[unauthenticated(context)])
        tenant_id = context.caller.tenant_id if context.caller is not None else None
        query = self.persisted.resolve(tenant_id, request_data.query, request_data.extensions)
        if isinstance(query, Refusal):
            error = GraphQLError(query.message, extensions={"code": query.code})
            return ExecutionResult(data=None, errors=[error])
        if query is not request_data.query:
            request_data = dataclasses.replace(request_data, query=query)
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    def parse_json(self, data: str | bytes) -> Any:
        """The body the endpoint decoded already (see get_context), else decoded here."""
        decoded = _DECODED.get()
        if decoded is not _NOTHING:
            _DECODED.set(_NOTHING)
            return decoded
        return super().parse_json(data)

    def decode_json(self, data: str | bytes) -> object:
        """The strict decoding of api/protocol.py: anything unreadable is a 400, not a 500."""
        return protocol.decode(data)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """strawberry's reading of the request, then the parameter checks of every path."""
        parsed = await super().parse_http_body(request)
        for item in parsed if isinstance(parsed, list) else [parsed]:
            protocol.check_params(
                {
                    "query": item.query,
                    "operationName": item.operation_name,
                    "variables": item.variables,
                    "extensions": item.extensions,
                }
            )
        return parsed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """strawberry's view, with its HTTP refusals in GraphQL's JSON error shape."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            code = error.code if isinstance(error, BadRequest) else _CODES.get(error.status_code)
            response = error_response(error.reason, code, error.status_code, request)
        await response(scope, receive, send)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = protocol.media_type(request.headers.get("accept"))
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """A request error (nothing was executed) has no data entry at all."""
        body = await super().process_result(request, result)
        if protocol.is_request_error(result.data, result.errors):
            body.pop("data", None)  # type: ignore[misc]
        return body

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """The negotiated media type; under application/graphql-response+json a request
        error is a 400 (application/json keeps the spec's legacy 200)."""
        media = sub_response.media_type or protocol.JSON
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = protocol.CONTENT_TYPES[media].decode()
        if (
            media == GRAPHQL_RESPONSE
            and not sub_response.status_code
            and isinstance(response_data, dict)
            and "data" not in response_data
        ):
            response.status_code = 400
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        # strawberry asks for the context before it parses the body, in the same task
        _DECODED.set(request.scope.get(JSON_BODY, _NOTHING))
        return Context(
            db=self.db,
            caller=caller_of(request.scope),
            request_id=request_id(request.headers.get("x-request-id")),
            response=response,
            request=request,
            broker=self.broker,
            queue_size=self.queue_size,
        )

    async def on_ws_connect(self, context: Context) -> None:
        """Legacy graphql-ws only: the token may come in connection_init's payload."""
        header = authorization_param(context.connection_params)
        if header is not None:
            context.caller = caller_from_header(header, self.tokens)
        if context.caller is None:
            raise ConnectionRejectionError({"message": "a valid Bearer token is required"})

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)
