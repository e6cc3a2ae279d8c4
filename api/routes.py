"""The non-GraphQL routes: OAuth token, discovery, health and metrics."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.backend import app_claims
from auth.oauth import (
    NO_STORE_HEADERS,
    OAuthError,
    authorization_server_metadata,
    narrow_scope,
    parse_token_request,
    token_response,
)
from auth.permissions import parse_scopes
from auth.secrets import LEGACY_SCHEME, Verdict, check_secret, equalize_timing, hashing_key
from db.migrate import is_current
from domain.tenancy import revocation, throttle
from domain.tenancy.service import client_by_id, upgrade_secret_hash

log = logging.getLogger("stockgraph.oauth")


def _state(request: Request) -> Any:
    return request.app.state


def _base_url(request: Request) -> str:
    configured = _state(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def _limits(settings: Any) -> throttle.Limits:
    return throttle.Limits(
        per_client=settings.oauth_client_rate,
        per_address=settings.oauth_address_rate,
        window=settings.oauth_window_seconds,
        failures=settings.oauth_lockout_failures,
        lockout=settings.oauth_lockout_seconds,
    )


def _too_many(refusal: throttle.Refusal) -> Response:
    """429 in the RFC 6749 §5.2 error shape, with Retry-After (RFC 6585 §4)."""
    body = {
        "error": "temporarily_unavailable",
        "error_description": f"too many token requests; retry after {refusal.retry_after} s",
    }
    headers = {**NO_STORE_HEADERS, "Retry-After": str(refusal.retry_after)}
    return JSONResponse(body, status_code=429, headers=headers)


async def token(request: Request) -> Response:
    """RFC 6749 client credentials grant, limited per client ID and source address."""
    state = _state(request)
    key = hashing_key(state.db.data_key) if state.db.data_key is not None else None
    limits = _limits(state.settings)
    address = request.client.host if request.client is not None else "unknown"
    try:
        form = await request.form()
        req = parse_token_request(request.headers.get("authorization"), form)  # type: ignore[arg-type]
        async with state.db.owner_transaction() as session:
            refusal = await throttle.admit(session, req.client_id[:128], address, limits)
            app = await client_by_id(session, req.client_id) if refusal is None else None
            epoch = (
                await revocation.current_epoch(
                    session, app.tenant_id, revocation.app_subject(app.client_id)
                )
                if app is not None
                else 0
            )
        if refusal is not None:
            log.warning("token request refused: %s", refusal.reason)
            return _too_many(refusal)
        if app is None or not app.active:
            equalize_timing(req.client_secret, key)
            verdict = Verdict(False)
        else:
            verdict = await _check(req.client_secret, app.secret_hash, key)
        async with state.db.owner_transaction() as session:
            if not verdict.ok:
                await throttle.failed(session, req.client_id[:128], address, limits)
            else:
                await throttle.succeeded(session, req.client_id[:128], address)
                if verdict.rehash is not None and app is not None and _shared_key(state):
                    await upgrade_secret_hash(session, app.id, app.secret_hash, verdict.rehash)
        if not verdict.ok or app is None:
            raise OAuthError(
                "invalid_client", "unknown client or bad secret", basic_challenge=req.used_basic
            )
        scopes = narrow_scope(req.scope, parse_scopes(app.scopes))
    except OAuthError as error:
        return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers())
    ttl = state.settings.app_token_ttl
    claims = app_claims(app.tenant_id, app.client_id, scopes, app.location_ids)
    claims["rev"] = epoch
    access = state.tokens.issue(claims, ttl)
    return JSONResponse(token_response(access, ttl, scopes), headers=NO_STORE_HEADERS)


def _shared_key(state: Any) -> bool:
    """Legacy hashes are replaced only under a configured data key (always so in
    production): every process of a deployment then verifies the keyed hash. A key
    generated under one development home would lock out servers with another."""
    return state.settings.data_key is not None


async def _check(secret: str, stored: str, key: bytes | None) -> Verdict:
    """A keyed hash is checked inline (about a microsecond); a legacy scrypt one in a thread."""
    if stored.startswith(LEGACY_SCHEME + "$"):
        return await asyncio.to_thread(check_secret, secret, stored, key)
    return check_secret(secret, stored, key)


async def oauth_metadata(request: Request) -> Response:
    state = _state(request)
    return JSONResponse(
        authorization_server_metadata(state.settings.token_issuer, _base_url(request))
    )


async def jwks(request: Request) -> Response:
    return JSONResponse(
        _state(request).tokens.jwks(), headers={"Cache-Control": "public, max-age=300"}
    )


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers and its schema is at the head migration."""
    db = _state(request).db
    try:
        async with db.owner_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        current = await is_current(db.owner_engine)
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "reason": type(exc).__name__}, status_code=503
        )
    if not current:
        return JSONResponse(
            {"status": "unavailable", "reason": "migrations pending"}, status_code=503
        )
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
