"""Per-request dataloaders: one SQL statement per type per level, never one per row.

One kind of loader, over the reader (db/reader.py): each batch is one read-only
transaction of the request's tenant, or a turn in the request's one transaction
(``one_transaction``) when there is one. The hot lookups of every stock list are
plain SQL with array parameters; the others are SQLAlchemy Core statements run on
the same reader (``Reader.rows``), with SQLAlchemy's type handling.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import Row, select

from db.models import (
    ApprovalDecision,
    ApprovalRequest,
    AuditEvent,
    Coupon,
    ImportJob,
    JobRun,
    Location,
    Member,
    MemberComputedTags,
    MemberConsent,
    MemberSegment,
    Notification,
    NotificationAttempt,
    OfferRule,
    PartnerApp,
    PeriodClose,
    PosDevice,
    PosReversal,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    ReconciliationLine,
    ReconciliationRun,
    ReplenishmentAlert,
    ReportJob,
    Staff,
    StockLevel,
    StockMovement,
    Stocktake,
    StocktakeLine,
    Supplier,
    Tenant,
    Transfer,
    TransferLine,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from db.reader import Reader, Record
from db.session import Database

ReadFetch = Callable[[Reader, Sequence[Any]], Awaitable[dict[Any, Any]]]


def _by_id(model: Any, key: str = "id") -> ReadFetch:
    """Rows of ``model`` by ``key`` (SQLAlchemy Core, on the reader)."""
    table = model.__table__

    async def fetch(reader: Reader, keys: Sequence[Any]) -> dict[Any, Row[Any]]:
        column = table.c[key]
        stmt = select(table).where(table.c.tenant_id == reader.tenant_id, column.in_(keys))
        return {getattr(r, key): r for r in await reader.rows(stmt)}

    return fetch


def _all_by(model: Any, key: str, order: str = "id") -> ReadFetch:
    """Every row per key (one-to-many), in ``order``; a key with none gets []."""
    table = model.__table__

    async def fetch(reader: Reader, keys: Sequence[Any]) -> dict[Any, Any]:
        column = table.c[key]
        stmt = (
            select(table)
            .where(table.c.tenant_id == reader.tenant_id, column.in_(keys))
            .order_by(column, table.c[order])
        )
        found: dict[Any, list[Row[Any]]] = {k: [] for k in keys}
        for r in await reader.rows(stmt):
            found[getattr(r, key)].append(r)
        return found

    return fetch


def _read_by(key: str, sql: str) -> ReadFetch:
    """Rows by ``key`` over the asyncpg reader; ``sql`` takes the tenant and a key array."""

    async def fetch(reader: Reader, keys: Sequence[Any]) -> dict[Any, Record]:
        return {getattr(r, key): r for r in await reader.fetch(sql, reader.tenant_id, keys)}

    return fetch


def _read_by_id(model: Any, key: str = "id") -> ReadFetch:
    """Rows of ``model`` by ``key`` (one array parameter)."""
    table = model.__table__
    columns = ", ".join(c.name for c in table.columns)
    array = "bigint[]" if key == "id" else "text[]"
    return _read_by(
        key, f"SELECT {columns} FROM {table.name} WHERE tenant_id = $1 AND {key} = ANY($2::{array})"
    )


def _read_priced_products(key: str) -> ReadFetch:
    """Products with their tenant's currency, so prices come out in the right one."""
    columns = ", ".join(f"p.{c.name}" for c in Product.__table__.columns)
    array = "bigint[]" if key == "id" else "text[]"
    return _read_by(
        key,
        f"SELECT {columns}, t.currency FROM products p "
        "JOIN tenants t ON t.tenant_id = p.tenant_id "
        f"WHERE p.tenant_id = $1 AND p.{key} = ANY($2::{array})",
    )


class ReadLoader(DataLoader[Any, Any]):
    """Rows by key, for one tenant, over the reader (db/reader.py).

    ``known`` holds rows another read of the request already brought (``Loaders.rows``):
    those keys are not read again."""

    def __init__(
        self, db: Database, tenant_id: int, fetch: ReadFetch, known: dict[Any, Any] | None = None
    ) -> None:
        super().__init__()
        self.db = db
        self.tenant_id = tenant_id
        self.fetch = fetch
        self.known = known if known is not None else {}

    async def batch_load_fn(self, keys: Sequence[Any]) -> list[Any]:
        """One read; again on a fresh connection if the pooled one died (a restart)."""
        known = self.known
        unique = [k for k in set(keys) if k not in known]
        if unique:
            found = await self.db.read(self.tenant_id, lambda reader: self.fetch(reader, unique))
            known.update(found)
        return [known.get(k) for k in keys]


class LazyLoader:
    """A class attribute that makes its ReadLoader on first use, once per Loaders.

    A request touches two or three of the many loaders; making all of them up front
    cost more than the rows it read."""

    def __init__(self, fetch: ReadFetch) -> None:
        self.fetch = fetch
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> ReadLoader:
        loader = ReadLoader(obj.db, obj.tenant_id, self.fetch, obj.known(self.name))
        obj.__dict__[self.name] = loader  # later reads find it without this descriptor
        return loader


class Loaders:
    """The loaders of one request (or of one subscription event)."""

    location_by_id = LazyLoader(_read_by_id(Location))
    location_by_code = LazyLoader(_read_by_id(Location, "code"))
    product_by_id = LazyLoader(_read_priced_products("id"))
    product_by_sku = LazyLoader(_read_priced_products("sku"))
    level_by_id = LazyLoader(_by_id(StockLevel))
    movement_by_id = LazyLoader(_by_id(StockMovement))
    audit_by_sequence = LazyLoader(_by_id(AuditEvent, "sequence"))
    webhook_endpoint_by_id = LazyLoader(_by_id(WebhookEndpoint))
    webhook_delivery_by_id = LazyLoader(_by_id(WebhookDelivery))
    attempts_by_delivery = LazyLoader(_all_by(WebhookAttempt, "delivery_id"))
    notification_by_id = LazyLoader(_by_id(Notification))
    attempts_by_notification = LazyLoader(_all_by(NotificationAttempt, "notification_id"))
    transfer_by_id = LazyLoader(_by_id(Transfer))
    lines_by_transfer = LazyLoader(_all_by(TransferLine, "transfer_id", "position"))
    approval_request_by_id = LazyLoader(_by_id(ApprovalRequest))
    decisions_by_request = LazyLoader(_all_by(ApprovalDecision, "request_id"))
    stocktake_by_id = LazyLoader(_by_id(Stocktake))
    lines_by_stocktake = LazyLoader(_all_by(StocktakeLine, "stocktake_id", "product_id"))
    tenant_currency = LazyLoader(_by_id(Tenant, "tenant_id"))
    member_by_id = LazyLoader(_by_id(Member))
    coupon_by_id = LazyLoader(_by_id(Coupon))
    offer_rule_by_id = LazyLoader(_by_id(OfferRule))
    consents_by_member = LazyLoader(_all_by(MemberConsent, "member_id"))
    computed_tags_by_member = LazyLoader(_by_id(MemberComputedTags, "member_id"))
    segment_by_id = LazyLoader(_by_id(MemberSegment))
    movements_by_sale = LazyLoader(_all_by(StockMovement, "sale_id"))
    supplier_by_id = LazyLoader(_by_id(Supplier))
    purchase_order_by_id = LazyLoader(_by_id(PurchaseOrder))
    lines_by_purchase_order = LazyLoader(
        _all_by(PurchaseOrderLine, "purchase_order_id", "position")
    )
    job_run_by_id = LazyLoader(_by_id(JobRun))
    alert_by_id = LazyLoader(_by_id(ReplenishmentAlert))
    pos_device_by_id = LazyLoader(_by_id(PosDevice))
    sale_reversal_by_id = LazyLoader(_by_id(PosReversal))
    reconciliation_run_by_id = LazyLoader(_by_id(ReconciliationRun))
    reconciliation_line_by_id = LazyLoader(_by_id(ReconciliationLine))
    period_by_id = LazyLoader(_by_id(PeriodClose))
    import_job_by_id = LazyLoader(_by_id(ImportJob))
    report_job_by_id = LazyLoader(_by_id(ReportJob))
    staff_by_id = LazyLoader(_by_id(Staff))
    app_by_client_id = LazyLoader(_by_id(PartnerApp, "client_id"))

    def __init__(self, db: Database, tenant_id: int) -> None:
        self.db = db
        self.tenant_id = tenant_id
        # rows by key per loader, as read in this request so far: a read that joined a
        # loader's rows in (``seed``) spares the loader its own statement
        self.rows: dict[str, dict[Any, Any]] = {}

    def known(self, loader: str) -> dict[Any, Any]:
        """The rows of ``loader`` this request has read (shared with the loader itself)."""
        return self.rows.setdefault(loader, {})

    def seed(self, loader: str, rows: dict[Any, Any]) -> None:
        """Rows of ``loader`` by its key that another read brought along (a join)."""
        self.known(loader).update(rows)
