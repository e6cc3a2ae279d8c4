"""Bearer token → Caller, once, at the edge (HTTP and WebSocket alike).

Starlette's ``AuthenticationMiddleware`` runs ``BearerBackend`` for every HTTP
request and WebSocket upgrade and puts the result in the ASGI scope; everything
behind it reads ``caller_of(scope)``. A missing or bad token is not refused here:
the caller is then None, and the GraphQL policy answers UNAUTHENTICATED (HTTP 401,
or close code 4403 on a socket) in its own words. The one other way in is a
WebSocket's ``connection_init`` payload, which ``caller_from_params`` reads.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection
from starlette.types import Scope

from auth.caller import Caller
from auth.permissions import Permission, Role, parse_scopes
from auth.tokens import InvalidToken, TokenService


def app_claims(
    tenant_id: int, client_id: str, scopes: frozenset[Permission], location_ids: list[int] | None
) -> dict[str, Any]:
    return {
        "sub": f"app:{client_id}",
        "tid": tenant_id,
        "kind": "APP",
        "client_id": client_id,
        "scope": " ".join(sorted(p.value for p in scopes)),
        "loc": location_ids,
    }


def staff_claims(
    tenant_id: int, staff_id: int, role: str, location_ids: list[int]
) -> dict[str, Any]:
    return {
        "sub": f"staff:{staff_id}",
        "tid": tenant_id,
        "kind": "STAFF",
        "role": role,
        "loc": location_ids,
    }


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("expected 'Bearer <token>'")
    return token.strip()


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    """Build the Caller; any claim of the wrong shape makes the token invalid."""
    caller = _caller(claims)
    exp = claims.get("exp")
    return dataclasses.replace(caller, expires_at=float(exp)) if exp is not None else caller


def _caller(claims: dict[str, Any]) -> Caller:
    try:
        tenant_id = int(claims["tid"])
        kind = claims["kind"]
        loc = claims.get("loc")
        locations = frozenset(int(x) for x in loc) if loc is not None else None
        if kind == "APP":
            return Caller.for_app(
                tenant_id, str(claims["client_id"]), parse_scopes(str(claims["scope"])), locations
            )
        if kind == "STAFF":
            staff_id = int(str(claims["sub"]).removeprefix("staff:"))
            return Caller.for_staff(
                tenant_id, staff_id, Role(claims["role"]), locations or frozenset()
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken(f"malformed claims: {exc}") from None
    raise InvalidToken("unknown caller kind")


_CALLERS: OrderedDict[str, Caller] = OrderedDict()
CALLER_CACHE_SIZE = 4096


def authenticate(header: str | None, tokens: TokenService) -> Caller | None:
    """None when no credentials were sent; InvalidToken when they are bad.

    The token is verified on every call (``tokens.verify``); only the Caller built from
    its claims, a pure function of them, is kept per token."""
    token = bearer_token(header)
    if token is None:
        return None
    claims = tokens.verify(token, copied=False)  # only read here
    caller = _CALLERS.get(token)
    if caller is None:
        caller = caller_from_claims(claims)
        _CALLERS[token] = caller
        if len(_CALLERS) > CALLER_CACHE_SIZE:
            _CALLERS.popitem(last=False)
    return caller


class CallerUser(BaseUser):
    """Starlette's view of a Caller (``scope["user"]``)."""

    __slots__ = ("caller",)

    def __init__(self, caller: Caller) -> None:
        self.caller = caller

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return str(self.caller.kind.value)


class BearerBackend(AuthenticationBackend):
    """The Authorization header of a request or a WebSocket upgrade → its Caller."""

    def __init__(self, tokens: TokenService) -> None:
        self.tokens = tokens

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        caller = caller_from_header(conn.headers.get("authorization"), self.tokens)
        if caller is None:
            return None
        return AuthCredentials(), CallerUser(caller)


def caller_from_header(header: str | None, tokens: TokenService) -> Caller | None:
    """The caller a header names; None for no header or a bad one."""
    try:
        return authenticate(header, tokens)
    except InvalidToken:
        return None


def caller_of(scope: Scope) -> Caller | None:
    """The caller the authentication middleware put in the scope (None: anonymous)."""
    user = scope.get("user")
    return user.caller if isinstance(user, CallerUser) else None


def authorization_param(params: Any) -> str | None:
    """The Authorization value of a WebSocket ``connection_init`` payload, if it has one.

    The key is matched case-insensitively (``Authorization`` and ``authorization``
    alike, as HTTP header names are). A value that is not a string is returned as
    an empty string, which no token matches.
    """
    if not isinstance(params, Mapping):
        return None
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == "authorization":
            return value if isinstance(value, str) else ""
    return None
