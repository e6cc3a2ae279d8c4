"""The non-GraphQL routes: OAuth token, discovery, health and metrics."""

from __future__ import annotations

import asyncio
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
from auth.secrets import equalize_timing, verify_secret
from db.migrate import is_current
from domain.tenancy.service import client_by_id


def _state(request: Request) -> Any:
    return request.app.state


def _base_url(request: Request) -> str:
    configured = _state(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


async def token(request: Request) -> Response:
    """RFC 6749 client credentials grant."""
    state = _state(request)
    try:
        form = await request.form()
        req = parse_token_request(request.headers.get("authorization"), form)  # type: ignore[arg-type]
        async with state.db.owner_transaction() as session:
            app = await client_by_id(session, req.client_id)
        if app is None or not app.active:
            await asyncio.to_thread(equalize_timing, req.client_secret)
            raise OAuthError(
                "invalid_client", "unknown client or bad secret", basic_challenge=req.used_basic
            )
        if not await asyncio.to_thread(verify_secret, req.client_secret, app.secret_hash):
            raise OAuthError(
                "invalid_client", "unknown client or bad secret", basic_challenge=req.used_basic
            )
        scopes = narrow_scope(req.scope, parse_scopes(app.scopes))
    except OAuthError as error:
        return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers())
    ttl = state.settings.app_token_ttl
    access = state.tokens.issue(
        app_claims(app.tenant_id, app.client_id, scopes, app.location_ids), ttl
    )
    return JSONResponse(token_response(access, ttl, scopes), headers=NO_STORE_HEADERS)


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
