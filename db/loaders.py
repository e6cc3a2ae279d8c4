"""Per-request dataloaders: one SQL statement per type per level, never one per row.

Each batch runs in a short transaction of its own (sibling fields resolve
concurrently, and an AsyncSession is not safe across tasks), bound to the
request's tenant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import Row, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ApprovalDecision,
    ApprovalRequest,
    AuditEvent,
    Coupon,
    Location,
    Member,
    MemberComputedTags,
    MemberConsent,
    MemberSegment,
    Notification,
    NotificationAttempt,
    OfferRule,
    Product,
    StockLevel,
    StockMovement,
    Stocktake,
    StocktakeLine,
    Tenant,
    Transfer,
    TransferLine,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from db.session import Database

Fetch = Callable[[AsyncSession, int, Sequence[Any]], Awaitable[dict[Any, Row[Any]]]]


def _by_id(model: Any, key: str = "id") -> Fetch:
    table = model.__table__

    async def fetch(
        session: AsyncSession, tenant_id: int, keys: Sequence[Any]
    ) -> dict[Any, Row[Any]]:
        column = table.c[key]
        stmt = select(table).where(table.c.tenant_id == tenant_id, column.in_(keys))
        return {getattr(r, key): r for r in await session.execute(stmt)}

    return fetch


def _all_by(model: Any, key: str, order: str = "id") -> Fetch:
    """Every row per key (one-to-many), in ``order``; a key with none gets []."""
    table = model.__table__

    async def fetch(session: AsyncSession, tenant_id: int, keys: Sequence[Any]) -> dict[Any, Any]:
        column = table.c[key]
        stmt = (
            select(table)
            .where(table.c.tenant_id == tenant_id, column.in_(keys))
            .order_by(column, table.c[order])
        )
        found: dict[Any, list[Row[Any]]] = {k: [] for k in keys}
        for r in await session.execute(stmt):
            found[getattr(r, key)].append(r)
        return found

    return fetch


def _priced_products(key: str) -> Fetch:
    """Products with their tenant's currency, so prices come out in the right one."""
    products, tenants = Product.__table__, Tenant.__table__

    async def fetch(
        session: AsyncSession, tenant_id: int, keys: Sequence[Any]
    ) -> dict[Any, Row[Any]]:
        stmt = (
            select(products, tenants.c.currency)
            .join(tenants, tenants.c.tenant_id == products.c.tenant_id)
            .where(products.c.tenant_id == tenant_id, products.c[key].in_(keys))
        )
        return {getattr(r, key): r for r in await session.execute(stmt)}

    return fetch


class RowLoader(DataLoader[Any, Row[Any] | None]):
    """Rows of one table by key, for one tenant."""

    def __init__(self, db: Database, tenant_id: int, fetch: Fetch) -> None:
        super().__init__()
        self.db = db
        self.tenant_id = tenant_id
        self.fetch = fetch

    async def batch_load_fn(self, keys: Sequence[Any]) -> list[Row[Any] | None]:
        """One read; once more on a fresh connection if the pooled one died (a restart)."""
        for attempt in (1, 2):
            try:
                async with self.db.tenant_transaction(self.tenant_id) as session:
                    found = await self.fetch(session, self.tenant_id, list(set(keys)))
                break
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        return [found.get(k) for k in keys]


class Loaders:
    """The loaders of one request (or of one subscription event)."""

    def __init__(self, db: Database, tenant_id: int) -> None:
        self.location_by_id = RowLoader(db, tenant_id, _by_id(Location))
        self.product_by_id = RowLoader(db, tenant_id, _priced_products("id"))
        self.product_by_sku = RowLoader(db, tenant_id, _priced_products("sku"))
        self.level_by_id = RowLoader(db, tenant_id, _by_id(StockLevel))
        self.movement_by_id = RowLoader(db, tenant_id, _by_id(StockMovement))
        self.audit_by_sequence = RowLoader(db, tenant_id, _by_id(AuditEvent, "sequence"))
        self.webhook_endpoint_by_id = RowLoader(db, tenant_id, _by_id(WebhookEndpoint))
        self.webhook_delivery_by_id = RowLoader(db, tenant_id, _by_id(WebhookDelivery))
        self.attempts_by_delivery = RowLoader(db, tenant_id, _all_by(WebhookAttempt, "delivery_id"))
        self.notification_by_id = RowLoader(db, tenant_id, _by_id(Notification))
        self.attempts_by_notification = RowLoader(
            db, tenant_id, _all_by(NotificationAttempt, "notification_id")
        )
        self.transfer_by_id = RowLoader(db, tenant_id, _by_id(Transfer))
        self.lines_by_transfer = RowLoader(
            db, tenant_id, _all_by(TransferLine, "transfer_id", "position")
        )
        self.approval_request_by_id = RowLoader(db, tenant_id, _by_id(ApprovalRequest))
        self.decisions_by_request = RowLoader(
            db, tenant_id, _all_by(ApprovalDecision, "request_id")
        )
        self.stocktake_by_id = RowLoader(db, tenant_id, _by_id(Stocktake))
        self.lines_by_stocktake = RowLoader(
            db, tenant_id, _all_by(StocktakeLine, "stocktake_id", "product_id")
        )
        self.tenant_currency = RowLoader(db, tenant_id, _by_id(Tenant, "tenant_id"))
        self.member_by_id = RowLoader(db, tenant_id, _by_id(Member))
        self.coupon_by_id = RowLoader(db, tenant_id, _by_id(Coupon))
        self.offer_rule_by_id = RowLoader(db, tenant_id, _by_id(OfferRule))
        self.consents_by_member = RowLoader(db, tenant_id, _all_by(MemberConsent, "member_id"))
        self.computed_tags_by_member = RowLoader(
            db, tenant_id, _by_id(MemberComputedTags, "member_id")
        )
        self.segment_by_id = RowLoader(db, tenant_id, _by_id(MemberSegment))
        self.movements_by_sale = RowLoader(db, tenant_id, _all_by(StockMovement, "sale_id"))
