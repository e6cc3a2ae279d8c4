"""POST /graphql: a document that already has a plan is answered here, the rest by strawberry.

Why: for a 50-row list, strawberry's HTTP view (request and response objects, its
parsing, context and result processing) cost about as much as answering from the
plan. Plans are made inside strawberry's execution (api/compiled.py:
CompiledExecution), after its parsing and validation; so a plan exists only for a
document text that passed every rule and limit of this schema in this process.
This endpoint reads the JSON body itself and, when the bearer token is good and the
document (or the persisted document its hash names, api/persisted.py) already has
a plan for the caller's tenant, answers from the plan directly. Anything else, and
any request the plan gives up on, is handed to strawberry's view with the body
replayed unchanged, so the full path answers it exactly as it would have: errors,
401s, GET, batches, multipart and all. A body that is no GraphQL request is refused
here first, by the rules of api/protocol.py, as the view refuses its own; a plan's
answer speaks the negotiated media type.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from api import protocol
from api.compiled import PLAN_TRIED
from api.graphql import JSON_BODY, GraphQLApp, request_id
from api.protocol import BadRequest
from auth.backend import caller_of
from schema.context import Context


class GraphQLEndpoint:
    """The ASGI app behind the /graphql HTTP route."""

    def __init__(self, view: GraphQLApp) -> None:
        self.view = view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.view(scope, receive, send)
            return
        headers = _headers(scope)
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            await self.view(scope, receive, send)
            return
        compiled = self.view.compiled
        body = await _read_body(receive)
        replay = _replay(body, receive)
        media = protocol.media_type(_text(headers.get(b"accept")))
        try:
            decoded = protocol.decode(body)
            if not isinstance(decoded, list):  # a batch: strawberry's view answers it
                protocol.check_params(decoded)
        except BadRequest as error:
            await _refuse(send, error, media)
            return
        scope[JSON_BODY] = decoded  # the view reads it from here, not from the body
        request = _request(decoded) if compiled is not None else None
        if request is None:
            await self.view(scope, replay, send)
            return
        caller = caller_of(scope)  # the authentication middleware's
        if caller is None:
            await self.view(scope, replay, send)
            return
        query = self.view.persisted.resolve(
            caller.tenant_id, request.get("query"), request.get("extensions")
        )
        name = request.get("operationName")
        assert compiled is not None
        if not isinstance(query, str) or compiled.plan_for(query, name, caller.tenant_id) is None:
            await self.view(scope, replay, send)
            return
        # the query cost, as the full path charges it (api/policy.py); a refusal is the
        # full path's to answer, in its words (it charges nothing for it either)
        policy, schema = self.view.policy, self.view.graphql_schema
        variables = request.get("variables")
        document = policy.parse(query)  # a cache hit: the full path parsed it before
        charge = policy.charge(schema, document, name, variables, caller)
        if charge is not None and charge.error is not None:
            await self.view(scope, replay, send)
            return
        context = Context(
            db=self.view.db,
            caller=caller,
            request_id=request_id(_text(headers.get(b"x-request-id"))),
            broker=self.view.broker,
            queue_size=self.view.queue_size,
        )
        answered, data = await compiled.try_execute(query, name, variables, context)
        if not answered:
            policy.cancel(charge)  # the full path charges it
            scope[PLAN_TRIED] = True  # the full path need not try the plan again
            await self.view(scope, replay, send)
            return
        answer: dict[str, Any] = {"data": data}
        if charge is not None:
            answer["extensions"] = {
                "cost": policy.settle(charge, schema, document, name, variables, data)
            }
        await _answer(send, 200, orjson.dumps(answer), media)


async def _refuse(send: Send, error: BadRequest, media: str) -> None:
    """A body that is not a GraphQL request: its status, GraphQL's error shape."""
    await _answer(send, error.status_code, protocol.error_body(error.reason, error.code), media)


async def _answer(send: Send, status: int, payload: bytes, media: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-length", str(len(payload)).encode()),
                (b"content-type", protocol.CONTENT_TYPES[media]),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The headers this endpoint reads (names arrive lower-cased from the server)."""
    return {k: v for k, v in scope["headers"] if k in _WANTED}


_WANTED = frozenset({b"content-type", b"authorization", b"x-request-id", b"accept"})


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None


def _request(data: Any) -> dict[str, Any] | None:
    """The request object when it is one this endpoint can answer; else None."""
    if not isinstance(data, dict) or not isinstance(data.get("query"), str | None):
        return None
    variables = data.get("variables")
    name = data.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        return None
    if name is not None and not isinstance(name, str):
        return None
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        return None  # the full path answers 400
    return data


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the already-read body over once, then defers to the server."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
