"""The framework-free half of the OAuth 2.0 token endpoint (RFC 6749, RFC 8414).

Only the client_credentials grant exists: partner apps authenticate with a
client id and secret, by HTTP Basic or form fields, and get a bearer token.
The HTTP route parses the form and header, calls these, and serialises.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from auth.permissions import Permission, format_scopes, parse_scopes

GRANT_TYPE = "client_credentials"
REALM = "stockgraph"
# RFC 6749 §5.1: token responses (and their errors) must not be cached.
NO_STORE_HEADERS: dict[str, str] = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An RFC 6749 §5.2 error response.

    ``basic_challenge`` is set when the client tried to authenticate through the
    Authorization header: §5.2 then requires a 401 with a matching challenge.
    """

    def __init__(self, error: str, description: str, *, basic_challenge: bool = False) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.basic_challenge = basic_challenge
        self.status_code = 401 if error == "invalid_client" else 400

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}

    def headers(self) -> dict[str, str]:
        headers = dict(NO_STORE_HEADERS)
        if self.error == "invalid_client" and self.basic_challenge:
            headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
        return headers


@dataclass(frozen=True)
class TokenRequest:
    client_id: str
    client_secret: str
    scope: str | None
    used_basic: bool


def _param(form: Mapping[str, str], name: str) -> str | None:
    """One form parameter; empty means absent, repeated is an error (RFC 6749 §3.2)."""
    getlist = getattr(form, "getlist", None)  # Starlette FormData and other multidicts
    if callable(getlist) and len(getlist(name)) > 1:
        raise OAuthError("invalid_request", f"parameter {name!r} repeated")
    value = form.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise OAuthError("invalid_request", f"parameter {name!r} must be text")
    return value


def _basic_credentials(header: str) -> tuple[str, str]:
    """Decode RFC 6749 §2.3.1 Basic credentials: base64, then form-urlencoding."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError(
            "invalid_client", "only Basic client authentication is supported", basic_challenge=True
        )
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise OAuthError(
            "invalid_client", "malformed Basic credentials", basic_challenge=True
        ) from None
    raw_id, sep, raw_secret = decoded.partition(":")
    client_id, client_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if not sep or not client_id or not client_secret:
        raise OAuthError("invalid_client", "malformed Basic credentials", basic_challenge=True)
    return client_id, client_secret


def parse_token_request(authorization_header: str | None, form: Mapping[str, str]) -> TokenRequest:
    """Validate the grant type and extract the client's credentials and scope.

    A ``client_id`` form field next to Basic credentials is tolerated when it
    names the same client (RFC 6749 §3.2.1 lets clients send it); a
    ``client_secret`` field next to Basic is two methods at once (§2.3).
    """
    grant_type = _param(form, "grant_type")
    if grant_type is None:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", f"only {GRANT_TYPE} is supported")
    scope = _param(form, "scope")
    form_id, form_secret = _param(form, "client_id"), _param(form, "client_secret")

    if authorization_header:
        if form_secret is not None:
            raise OAuthError("invalid_request", "use one client authentication method")
        client_id, client_secret = _basic_credentials(authorization_header)
        if form_id is not None and form_id != client_id:
            raise OAuthError("invalid_request", "client_id does not match the credentials")
        return TokenRequest(client_id, client_secret, scope, used_basic=True)

    if form_id is None or form_secret is None:
        raise OAuthError("invalid_client", "client authentication required")
    return TokenRequest(form_id, form_secret, scope, used_basic=False)


def narrow_scope(requested: str | None, granted: frozenset[Permission]) -> frozenset[Permission]:
    """The token's scopes: everything granted, or the requested subset of it."""
    if requested is None or not requested.strip():
        return granted
    try:
        wanted = parse_scopes(requested)
    except ValueError as exc:
        raise OAuthError("invalid_scope", str(exc)) from None
    missing = wanted - granted
    if missing:
        raise OAuthError("invalid_scope", f"scope not granted: {format_scopes(missing)}")
    return wanted


def authorization_server_metadata(issuer: str, base_url: str) -> dict[str, Any]:
    """RFC 8414 metadata, served at /.well-known/oauth-authorization-server."""
    base = base_url.rstrip("/")
    return {
        "issuer": issuer,
        "token_endpoint": f"{base}/oauth/token",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "grant_types_supported": [GRANT_TYPE],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": [p.value for p in Permission],
        "response_types_supported": [],
    }


def token_response(
    access_token: str, expires_in: int, scope: frozenset[Permission]
) -> dict[str, Any]:
    """RFC 6749 §5.1 success body; send it with NO_STORE_HEADERS."""
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": format_scopes(scope),
    }
