"""GraphQL over HTTP: what a request must look like, and how an answer is typed.

One module for the rules of the GraphQL-over-HTTP spec that every HTTP path (the
compiled fast path of api/endpoint.py, strawberry's view in api/graphql.py,
persisted documents) obeys the same way:

- a body is decoded strictly: invalid UTF-8, numbers no float can hold, integers of
  thousands of digits and JSON nested past any sane depth are a 400, never a 500;
- the request parameters have their types (``query`` a string, ``operationName`` a
  string, ``variables`` and ``extensions`` objects), and text without a UTF-8
  encoding (a lone surrogate) is refused before anything echoes it back;
- every refusal is JSON in GraphQL's error shape (``{"errors": [{"message",
  "extensions": {"code"}}]}``), never ``text/plain``, and never has a ``data`` entry;
- ``Accept: application/graphql-response+json`` is answered with that media type,
  and then a request error (a document that fails to parse or validate, variables
  that cannot be coerced) is a 4xx; with ``application/json`` the spec's legacy rule
  keeps such answers at 200.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
CONTENT_TYPES = {
    GRAPHQL_RESPONSE: b"application/graphql-response+json; charset=utf-8",
    JSON: b"application/json",
}
BAD_REQUEST = "BAD_REQUEST"
_BAD_TEXT = re.compile("[\ud800-\udfff]")


class BadRequest(HTTPException):
    """A request the server cannot read as GraphQL: HTTP 400 (or ``status``) and a code."""

    def __init__(self, reason: str, code: str = BAD_REQUEST, status: int = 400) -> None:
        super().__init__(status, reason)
        self.code = code


def media_type(accept: str | None) -> str:
    """The response media type for an Accept header: the GraphQL one when the client
    prefers it (or accepts it as much as JSON), else application/json."""
    if not accept:
        return JSON
    best, best_q = JSON, -1.0
    for item in accept.split(","):
        kind, _, params = item.strip().partition(";")
        kind = kind.strip().lower()
        if kind not in (GRAPHQL_RESPONSE, JSON, "application/*", "*/*"):
            continue
        q = _quality(params)
        if q <= 0:
            continue
        candidate = GRAPHQL_RESPONSE if kind == GRAPHQL_RESPONSE else JSON
        if q > best_q or (q == best_q and candidate == GRAPHQL_RESPONSE):
            best, best_q = candidate, q
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return q if math.isfinite(q) else 0.0
    return 1.0


def decode(body: bytes | str) -> Any:
    """A JSON request body (or a JSON-encoded GET parameter); BadRequest when unreadable.

    orjson reads what it can; what it refuses (integers beyond 64 bits, a lone
    surrogate escape) is read by the standard library with bounds of its own.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise BadRequest("the request body is not valid UTF-8") from None
    except RecursionError:
        raise BadRequest("the JSON is nested too deeply") from None
    except ValueError:  # JSONDecodeError, and integers of more than 4,300 digits
        raise BadRequest("the request body is not valid JSON") from None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest("a number in the request is too large for a float")
    return value


def _no_constant(name: str) -> float:
    raise BadRequest(f"{name} is not JSON")


def check_params(data: Any) -> None:
    """The parameters of one GraphQL request, checked before anything runs or echoes them."""
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    query = data.get("query")
    if query is not None and not isinstance(query, str):
        raise BadRequest("query must be a string")
    name = data.get("operationName")
    if name is not None and not isinstance(name, str):
        raise BadRequest("operationName must be a string or null")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("variables must be an object or null")
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise BadRequest("extensions must be an object or null")
    for field, value in (("query", query), ("operationName", name)):
        if isinstance(value, str) and _BAD_TEXT.search(value) is not None:
            raise BadRequest(f"{field} must be Unicode text (it holds an unpaired surrogate)")


def error_body(message: str, code: str) -> bytes:
    """A request error in GraphQL's shape: errors only, no data entry."""
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})


def is_request_error(data: Any, errors: list[GraphQLError] | None) -> bool:
    """Nothing was executed: no data and no error with a path (a field error always has
    one). Parse, validation and variable errors, and refusals before execution."""
    return data is None and bool(errors) and all(e.path is None for e in errors or ())
