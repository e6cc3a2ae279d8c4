"""The ASGI application factory. Nothing runs at import: pools open in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route, WebSocketRoute

from api import graphiql, report_download, routes
from api.access_log import AccessLog
from api.endpoint import GraphQLEndpoint
from api.graphql import GraphQLApp, policy_for, schema_for
from api.middleware import BodyLimit, Metrics
from api.settings import Settings
from api.ws import GraphQLWebSocket
from auth.backend import BearerBackend
from auth.revocations import Loader
from auth.tokens import TokenService
from db.session import Database
from domain import idempotency, ids, vault
from domain.members import tags as member_tags
from domain.scheduler.jobs import default_jobs
from domain.scheduler.runner import Scheduler
from domain.tenancy import revocation
from outbox.notifications import NotificationSender
from outbox.webhooks import WebhookDispatcher
from subscriptions.broker import Broker

# Far fewer young-generation passes than the default (700, 10, 10): with thousands of
# sockets alive, each full pass walks them all and stalls every subscriber at once.
GC_THRESHOLDS = (50_000, 20, 100)

log = logging.getLogger("stockgraph.app")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (stockgraph serve sets it for you)")
    if settings.production and not settings.app_database_url:
        raise RuntimeError(
            "production needs STOCKGRAPH_APP_DATABASE_URL: a login that is only a member of "
            "stockgraph_app (make one with `stockgraph db app-login`)"
        )
    tokens = TokenService(
        settings.signing_key_pem(),
        settings.token_issuer,
        settings.audience,
        cache_bytes=settings.token_cache_bytes,
    )
    if (id_key := settings.id_key_bytes()) is not None:
        ids.configure(id_key)
    db = Database.connect(
        settings.database_url, app_url=settings.app_database_url, pool_size=settings.pool_size
    )
    db.data_key = settings.data_key_bytes()
    broker = Broker(db, settings.database_url)
    graphql = GraphQLApp(settings, db, tokens, broker)
    websocket = GraphQLWebSocket(
        strawberry_schema=schema_for(settings),
        db=db,
        tokens=tokens,
        broker=broker,
        policy=policy_for(settings),
        init_timeout=settings.ws_init_timeout_seconds,
        max_operations=settings.max_subscriptions_per_connection,
        queue_size=settings.subscription_queue_size,
        legacy=graphql if settings.legacy_graphql_ws else None,
        max_frame_bytes=settings.ws_max_frame_bytes,
        max_json_depth=settings.ws_max_json_depth,
        max_per_client=settings.max_websockets_per_client,
    )
    webhooks = _webhooks(settings, db)
    notifications = _notifications(settings, db)
    scheduler = (
        Scheduler(
            db,
            default_jobs(
                db.data_key,
                period_seconds=settings.scheduler_period_seconds,
                member_retag_minutes=settings.member_retag_minutes,
            ),
            tick_seconds=settings.scheduler_tick_seconds,
        )
        if settings.scheduler_enabled
        else None
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await broker.start()
        if db.data_key is not None:  # secrets stored before sealing existed: seal them now
            async with db.owner_transaction() as session:
                await vault.seal_plain_rows(session, db.data_key)
        # Everything built at start-up lives as long as the process: keep it out of the
        # collector's way, so full collections stay short under many sockets.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        if webhooks is not None:
            broker.wake_callbacks.append(webhooks.wake)
            await webhooks.start()
        if notifications is not None:
            await notifications.start()
        housekeeping = asyncio.create_task(_housekeeping(db))
        revocations = asyncio.create_task(
            tokens.revocations.watch(_epochs_loader(db), settings.revocation_poll_seconds)
        )
        # Member retagging runs as a scheduled job when the scheduler runs.
        retag = (
            asyncio.create_task(_retag(db, settings.member_retag_minutes * 60))
            if settings.member_retag_minutes > 0 and scheduler is None
            else None
        )
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            for task in (housekeeping, retag, revocations):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if scheduler is not None:
                await scheduler.stop()
            if notifications is not None:
                await notifications.stop()
            if webhooks is not None:
                await webhooks.stop()
            await broker.stop()
            await db.dispose()

    app = Starlette(
        routes=[
            # every method reaches the endpoint, so that even a 405 is GraphQL's JSON shape
            Route("/graphql", GraphQLEndpoint(graphql)),
            WebSocketRoute("/graphql", websocket),
            Route(graphiql.ASSET_PREFIX + "{name}", graphiql.asset),
            Route("/oauth/token", routes.token, methods=["POST"]),
            Route("/.well-known/oauth-authorization-server", routes.oauth_metadata),
            Route("/.well-known/jwks.json", routes.jwks),
            Route("/healthz", routes.healthz),
            Route("/readyz", routes.readyz),
            Route("/metrics", routes.metrics),
            report_download.ROUTE,
        ],
        middleware=[
            Middleware(Metrics),
            *access_log_middleware(settings),
            Middleware(AuthenticationMiddleware, backend=BearerBackend(tokens)),
            Middleware(
                BodyLimit,
                limit=settings.max_body_bytes,
                upload_limit=settings.max_upload_bytes,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.tokens = tokens
    app.state.broker = broker
    app.state.webhooks = webhooks
    app.state.notifications = notifications
    app.state.scheduler = scheduler
    return app


def _epochs_loader(db: Database) -> Loader:
    """Reads every revocation epoch (see auth.revocations) in the owner's session."""

    async def load() -> dict[tuple[int, str], int]:
        async with db.owner_transaction() as session:
            return await revocation.all_epochs(session)

    return load


def _allow_internal(settings: Settings) -> bool:
    """Deliveries may reach this machine's network only where http:// URLs are allowed
    (development by default): the same switch as at registration."""
    allowed = settings.webhook_allow_http
    return bool(allowed if allowed is not None else not settings.production)


def _webhooks(settings: Settings, db: Database) -> WebhookDispatcher | None:
    """Every process runs a dispatcher; their claims never overlap (SKIP LOCKED)."""
    if not settings.webhooks_enabled:
        return None
    return WebhookDispatcher(
        db,
        backoff_base=settings.webhook_backoff_base_seconds,
        max_attempts=settings.webhook_max_attempts,
        timeout=settings.webhook_timeout_seconds,
        allow_internal=_allow_internal(settings),
    )


def _notifications(settings: Settings, db: Database) -> NotificationSender | None:
    """Every process runs a sender too; claims never overlap (SKIP LOCKED)."""
    if not settings.notifications_enabled:
        return None
    return NotificationSender(
        db,
        backoff_base=settings.notification_backoff_base_seconds,
        max_attempts=settings.notification_max_attempts,
        timeout=settings.notification_timeout_seconds,
        allow_internal=_allow_internal(settings),
    )


async def _housekeeping(db: Database, every: float = 900.0) -> None:
    """Expired idempotency keys go (they are kept at least 24 hours); any process may do it."""
    while True:
        await asyncio.sleep(every)
        try:
            async with db.owner_transaction() as session:
                removed = await idempotency.purge_all(session)
            if removed:
                log.info("removed %d expired idempotency keys", removed)
        except Exception:
            log.exception("idempotency key purge failed")


async def _retag(db: Database, every: float) -> None:
    """Computed member tags of every tenant, recomputed (one process at a time)."""
    while True:
        await asyncio.sleep(every)
        try:
            async with db.owner_transaction() as session:
                done = await member_tags.scheduled_recompute(session, now=datetime.now(UTC))
            if done is not None:
                log.info("recomputed tags of %d members", sum(done.values()))
        except Exception:
            log.exception("member tag recompute failed")


def app_from_env() -> Starlette:
    """Entry point for `uvicorn --factory api.app:app_from_env` (each worker builds its own)."""
    return create_app(Settings())


def access_log_middleware(settings: Settings) -> list[Middleware]:
    """The access log when the settings ask for one (never by default in production)."""
    rate = settings.access_log_rate
    return [Middleware(AccessLog, rate=rate)] if rate > 0 else []
