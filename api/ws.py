"""GraphQL over WebSocket (graphql-transport-ws), served with render-once fan-out.

Close codes follow the protocol: 4400 invalid message (not JSON, JSON nested
deeper than ``ws_max_json_depth``, or a message over ``ws_max_frame_bytes``),
4401 subscribe before connection_ack, 4403 authentication refused or token
expired, 4406 no acceptable subprotocol, 4408 no connection_init in time, 4409
duplicate operation id, 4429 a second connection_init, or (reason "Too many
connections") a client already holding ``max_websockets_per_client`` open
sockets in this process. The token comes in
connection_init's payload (`{"authorization": "Bearer …"}`, the key in any case)
or in the upgrade request's Authorization header, which the authentication
middleware has already turned into the scope's caller. Documents are parsed,
validated and their errors presented by the same policy as on HTTP
(api/policy.py); a subscription field's permission is read from the field. The
legacy `graphql-ws` subprotocol is handed to strawberry's view, and only when the
setting enables it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
from graphql import DocumentNode, FieldNode, GraphQLError, GraphQLSchema, OperationType
from graphql.execution import Executor
from graphql.execution.values import get_argument_values
from graphql.utilities import get_operation_ast
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from api.policy import Policy, bad_user_input, client_key, domain_error
from api.throttle import ClientKey
from auth.backend import authorization_param, caller_from_header, caller_of
from auth.caller import Caller
from auth.fields import permissions_of
from auth.tokens import TokenService
from db.session import Database
from domain.errors import DomainError
from schema.context import Context
from subscriptions import stock as live
from subscriptions.broker import Broker
from subscriptions.render import Selection

log = logging.getLogger("stockgraph.ws")

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


def _error(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extra}}


class GraphQLWebSocket:
    """The ASGI endpoint for WS /graphql."""

    def __init__(
        self,
        *,
        strawberry_schema: Any,
        db: Database,
        tokens: TokenService,
        broker: Broker,
        policy: Policy,
        init_timeout: float,
        max_operations: int,
        queue_size: int,
        legacy: ASGIApp | None,
        max_frame_bytes: int = 1_000_000,
        max_json_depth: int = 64,
        max_per_client: int = 20,
    ) -> None:
        self.strawberry_schema = strawberry_schema
        self.schema: GraphQLSchema = strawberry_schema._schema
        self.db = db
        self.tokens = tokens
        self.broker = broker
        self.policy = policy
        self.init_timeout = init_timeout
        self.max_operations = max_operations
        self.queue_size = queue_size
        self.legacy = legacy
        self.max_frame_bytes = max_frame_bytes
        self.max_json_depth = max_json_depth
        self.max_per_client = max_per_client
        self.open_by_client: Counter[ClientKey] = Counter()  # this process's sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        offered = scope.get("subprotocols") or []
        if TRANSPORT_WS in offered:
            await Session(self, WebSocket(scope, receive, send)).run()
        elif LEGACY_WS in offered and self.legacy is not None:
            await self.legacy(scope, receive, send)
        else:
            # As graphql-ws does: accept (choosing no subprotocol), then close with 4406,
            # so the client sees the protocol's code, not a bare 403 at the handshake.
            ws = WebSocket(scope, receive, send)
            await ws.accept()
            await ws.close(code=4406, reason="Subprotocol not acceptable")


class Session:
    """One socket: its caller, its operations, and the protocol's rules."""

    def __init__(self, endpoint: GraphQLWebSocket, ws: WebSocket) -> None:
        self.endpoint = endpoint
        self.ws = ws
        self.caller: Caller | None = None
        self.init_received = False
        self.acked = asyncio.Event()
        self.closed = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.counted: ClientKey | None = None  # the key this socket counts under

    async def run(self) -> None:
        await self.ws.accept(subprotocol=TRANSPORT_WS)
        self.tasks.append(asyncio.create_task(self._init_deadline()))
        try:
            while not self.closed:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                raw = message.get("text")
                if raw is None:
                    raw = message.get("bytes") or b""
                if _too_large(raw, self.endpoint.max_frame_bytes):
                    await self.close(4400, "Message too large")
                    break
                await self._handle(raw)
        except WebSocketDisconnect:
            pass
        finally:
            if self.counted is not None:
                self.endpoint.open_by_client[self.counted] -= 1
                if self.endpoint.open_by_client[self.counted] <= 0:
                    del self.endpoint.open_by_client[self.counted]
            self.closed = True
            for task in [*self.tasks, *self.operations.values()]:
                task.cancel()
            for task in [*self.tasks, *self.operations.values()]:
                with contextlib.suppress(BaseException):
                    await task

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, reason=reason)

    async def send(self, message: dict[str, Any]) -> None:
        if self.ws.application_state == WebSocketState.CONNECTED:
            await self.ws.send_text(orjson.dumps(message).decode())

    async def _init_deadline(self) -> None:
        await asyncio.sleep(self.endpoint.init_timeout)
        if not self.init_received:
            await self.close(4408, "Connection initialisation timeout")

    async def _expiry(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.close(4403, "Token expired")

    async def _handle(self, raw: str | bytes) -> None:
        try:
            # orjson: invalid UTF-8 and lone surrogates are errors, and it stops at
            # 1,024 levels instead of exhausting the stack
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            message = None
        if (
            not isinstance(message, dict)
            or not isinstance(message.get("type"), str)
            or _too_deep(message, self.endpoint.max_json_depth)
        ):
            await self.close(4400, "Invalid message")
            return
        kind = message["type"]
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            task = self.operations.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        else:
            await self.close(4400, f"Unexpected message type {kind!r}")

    async def _init(self, payload: Any) -> None:
        if self.init_received:
            await self.close(4429, "Too many initialisation requests")
            return
        self.init_received = True
        header = authorization_param(payload)
        if header is None:
            caller = caller_of(self.ws.scope)  # the upgrade request's header, if any
        else:
            caller = caller_from_header(header, self.endpoint.tokens)
        if caller is None:
            await self.close(4403, "Forbidden")
            return
        key = client_key(caller)
        if self.endpoint.open_by_client[key] >= self.endpoint.max_per_client:
            await self.close(4429, "Too many connections")
            return
        self.endpoint.open_by_client[key] += 1
        self.counted = key
        self.caller = caller
        self.acked.set()
        await self.send({"type": "connection_ack"})
        if caller.expires_at is not None:
            self.tasks.append(asyncio.create_task(self._expiry(caller.expires_at)))

    async def _subscribe(self, message: dict[str, Any]) -> None:
        op_id, payload = message.get("id"), message.get("payload")
        if not self.acked.is_set():
            await self.close(4401, "Unauthorized")
            return
        if (
            not isinstance(op_id, str)
            or not op_id
            or not isinstance(payload, dict)
            or not (isinstance(payload.get("query"), str))
        ):
            await self.close(4400, "Invalid message")
            return
        if op_id in self.operations:
            await self.close(4409, f"Subscriber for {op_id} already exists")
            return
        if len(self.operations) >= self.endpoint.max_operations:
            await self.send(
                {
                    "id": op_id,
                    "type": "error",
                    "payload": [
                        _error(
                            f"at most {self.endpoint.max_operations} operations per connection",
                            "TOO_MANY_SUBSCRIPTIONS",
                        )
                    ],
                }
            )
            return
        task = asyncio.create_task(self._operation(op_id, payload))
        self.operations[op_id] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self.operations.get(op_id) is done:
                del self.operations[op_id]

        task.add_done_callback(forget)

    async def _operation(self, op_id: str, payload: dict[str, Any]) -> None:
        endpoint, caller = self.endpoint, self.caller
        assert caller is not None
        query: str = payload["query"]
        variables = payload.get("variables") if isinstance(payload.get("variables"), dict) else None
        name = (
            payload.get("operationName") if isinstance(payload.get("operationName"), str) else None
        )
        policy = endpoint.policy
        try:
            document = policy.parse(query)
        except GraphQLError as error:
            await self._errors(op_id, [error])
            return
        if errors := policy.validate(endpoint.schema, query):
            await self._errors(op_id, errors)
            return
        operation = get_operation_ast(document, name)
        if operation is None:
            await self.send(
                {
                    "id": op_id,
                    "type": "error",
                    "payload": [_error("no such operation in the document", "INVALID")],
                }
            )
            return
        if operation.operation is not OperationType.SUBSCRIPTION:
            context = Context(
                db=endpoint.db,
                caller=caller,
                request_id=uuid.uuid4().hex,
                broker=endpoint.broker,
                queue_size=endpoint.queue_size,
            )
            result = await endpoint.strawberry_schema.execute(
                query, variable_values=variables, context_value=context, operation_name=name
            )
            body: dict[str, Any] = {"data": result.data}
            if result.errors:  # strawberry's run of the policy has presented them
                body["errors"] = [e.formatted for e in result.errors]
            if result.extensions:  # the query cost; idempotentReplayed for a replay
                body["extensions"] = result.extensions
            await self.send({"id": op_id, "type": "next", "payload": body})
            await self.send({"id": op_id, "type": "complete"})
            return
        # a subscription is charged its requested cost once, when it starts
        charge = policy.charge(endpoint.schema, document, name, variables, caller)
        if charge is not None and charge.error is not None:
            await self._errors(op_id, [charge.error])
            return
        await self._stream(
            op_id, document, query, name, variables, operation.selection_set.selections[0]
        )

    async def _stream(
        self,
        op_id: str,
        document: DocumentNode,
        query: str,
        name: str | None,
        variables: dict[str, Any] | None,
        node: Any,
    ) -> None:
        endpoint, caller = self.endpoint, self.caller
        assert caller is not None
        executor = Executor.build(
            endpoint.schema,
            document,
            raw_variable_values=variables,
            operation_name=name,
            hide_suggestions=endpoint.policy.hide_suggestions,
        )
        if isinstance(executor, list):  # the variables did not coerce
            await self._errors(op_id, bad_user_input(executor))
            return
        subscription = endpoint.schema.subscription_type
        definition = (
            subscription.fields.get(node.name.value)
            if isinstance(node, FieldNode) and subscription is not None
            else None
        )
        streamed = live.live_field(definition) if definition is not None else None
        if streamed is None:
            await self.send(
                {
                    "id": op_id,
                    "type": "error",
                    "payload": [_error("select one subscription field directly", "INVALID")],
                }
            )
            return
        assert definition is not None
        field = node.name.value
        permissions = permissions_of(definition)
        for permission in permissions:
            if not caller.has(permission):
                denied = GraphQLError(
                    f"{permission.value} is required",
                    path=[node.alias.value if node.alias else field],
                    extensions={"code": "FORBIDDEN", "permission": permission.value},
                )
                await self._errors(op_id, [denied])
                return
        args = get_argument_values(definition, node, executor.variable_values)
        event_type = streamed.event_type
        task = asyncio.current_task()

        def overflow() -> None:
            if task is not None:
                task.cancel()

        subscriber = None
        try:
            if streamed.source is not None:
                stream = streamed.source(endpoint.broker, endpoint.db, caller, args, permissions)
            else:
                subscriber = await live.make_subscriber(
                    endpoint.db,
                    caller,
                    event_type,
                    args.get("locationIds"),
                    args.get("skus"),
                    endpoint.queue_size,
                    permissions,
                    on_overflow=overflow,
                )
                stream = live.batches(endpoint.broker, subscriber, args.get("afterSequence"))
        except DomainError as refused:  # an argument that is not what it must be
            await self._errors(
                op_id, [domain_error(refused, [node.alias.value if node.alias else field])]
            )
            return
        selection = Selection(
            endpoint.schema,
            document,
            query,
            name,
            variables,
            caller,
            endpoint.db,
            streamed.root,
            endpoint.policy.formatted,
        )
        prefix = '{"id":' + json.dumps(op_id) + ',"type":"next","payload":'
        last_sent: int | None = args.get("afterSequence")
        try:
            async for batch in stream:
                frames = await selection.render(batch)
                for event, frame in zip(batch, frames, strict=True):
                    await self.ws.send_text(prefix + frame + "}")
                    last_sent = event.sequence
            await self.send({"id": op_id, "type": "complete"})  # the source has ended
        except live.Refused as refused:
            path = [node.alias.value if node.alias else field]
            error = GraphQLError(refused.message, path=path, extensions=refused.extensions)
            await self._errors(op_id, [error])
        except live.SlowConsumer as slow:
            await self._slow(op_id, slow.last_sequence)
        except asyncio.CancelledError:
            if subscriber is not None and subscriber.overflowed and not self.closed:
                await self._slow(op_id, last_sent or 0)
                return
            raise

    async def _errors(self, op_id: str, errors: Sequence[GraphQLError]) -> None:
        """An operation's `error` message, its errors presented by the policy."""
        payload = self.endpoint.policy.formatted_errors(errors)
        await self.send({"id": op_id, "type": "error", "payload": payload})

    async def _slow(self, op_id: str, last_sequence: int) -> None:
        """Tell a subscriber that fell behind where to resume; close a socket that is stuck."""
        error = live.SlowConsumer(last_sequence, self.endpoint.queue_size)
        message = {
            "id": op_id,
            "type": "error",
            "payload": [_error(str(error), "SLOW_CONSUMER", afterSequence=str(last_sequence))],
        }
        try:
            await asyncio.wait_for(self.send(message), timeout=5)
        except TimeoutError:
            await self.close(4400, "Subscriber too slow")


def _too_deep(value: Any, limit: int) -> bool:
    """Whether a decoded message nests deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _too_large(raw: str | bytes, limit: int) -> bool:
    """Over ``limit`` bytes as it came over the wire (UTF-8 for a text frame); a text
    frame is encoded only when its length in characters cannot settle it."""
    if isinstance(raw, bytes) or len(raw) > limit:  # a character is at least one byte
        return len(raw) > limit
    if 4 * len(raw) <= limit:  # and at most four
        return False
    return len(raw.encode("utf-8", "surrogatepass")) > limit
