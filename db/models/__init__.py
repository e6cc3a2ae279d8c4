"""All tables, imported so that ``Base.metadata`` knows every one of them."""

from db.models.approvals import ApprovalDecision, ApprovalPolicy, ApprovalRequest
from db.models.audit import AuditEvent
from db.models.catalog import Location, Product
from db.models.idempotency import IdempotencyKey
from db.models.identity import PartnerApp, Staff
from db.models.imports import ImportJob
from db.models.member_marketing import MemberComputedTags, MemberSegment, MemberTagRule
from db.models.members import Member, MemberConsent, MemberKey, MemberTenantKey
from db.models.notifications import Notification, NotificationAttempt, NotificationChannel
from db.models.offers import Coupon, OfferFiring, OfferRule
from db.models.outbox import Event
from db.models.periods import PeriodClose
from db.models.pos import PosDevice, PosReversal, PosSale, PosTender
from db.models.purchasing import PurchaseOrder, PurchaseOrderLine
from db.models.reconciliation import ReconciliationLine, ReconciliationRun
from db.models.replenishment import (
    AlertContact,
    AlertSettings,
    DemandProfile,
    JobRun,
    ReplenishmentAlert,
    ReplenishmentDecision,
    ReplenishmentRule,
    Supplier,
    SupplierProduct,
)
from db.models.reports import ReportJob
from db.models.stock import Sale, StockLevel, StockMovement
from db.models.stocktakes import CycleCountSchedule, Stocktake, StocktakeLine
from db.models.tenants import Tenant, TenantCounter
from db.models.transfers import Transfer, TransferLine
from db.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "AlertContact",
    "AlertSettings",
    "ApprovalDecision",
    "ApprovalPolicy",
    "ApprovalRequest",
    "AuditEvent",
    "Coupon",
    "CycleCountSchedule",
    "DemandProfile",
    "Event",
    "IdempotencyKey",
    "ImportJob",
    "JobRun",
    "Location",
    "Member",
    "MemberComputedTags",
    "MemberConsent",
    "MemberKey",
    "MemberSegment",
    "MemberTagRule",
    "MemberTenantKey",
    "Notification",
    "NotificationAttempt",
    "NotificationChannel",
    "OfferFiring",
    "OfferRule",
    "PartnerApp",
    "PeriodClose",
    "PosDevice",
    "PosReversal",
    "PosSale",
    "PosTender",
    "Product",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "ReconciliationLine",
    "ReconciliationRun",
    "ReplenishmentAlert",
    "ReplenishmentDecision",
    "ReplenishmentRule",
    "ReportJob",
    "Sale",
    "Staff",
    "StockLevel",
    "StockMovement",
    "Stocktake",
    "StocktakeLine",
    "Supplier",
    "SupplierProduct",
    "Tenant",
    "TenantCounter",
    "Transfer",
    "TransferLine",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
