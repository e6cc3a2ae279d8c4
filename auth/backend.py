"""Bearer token → Caller, once, at the edge (HTTP and WebSocket alike)."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any

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
    claims = tokens.verify(token)
    caller = _CALLERS.get(token)
    if caller is None:
        caller = caller_from_claims(claims)
        _CALLERS[token] = caller
        if len(_CALLERS) > CALLER_CACHE_SIZE:
            _CALLERS.popitem(last=False)
    return caller
