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
from db.models.reports import ReportJob
from db.models.stock import Sale, StockLevel, StockMovement
from db.models.stocktakes import CycleCountSchedule, Stocktake, StocktakeLine
from db.models.tenants import Tenant, TenantCounter
from db.models.transfers import Transfer, TransferLine
from db.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApprovalDecision",
    "ApprovalPolicy",
    "ApprovalRequest",
    "AuditEvent",
    "Coupon",
    "CycleCountSchedule",
    "Event",
    "IdempotencyKey",
    "ImportJob",
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
    "Product",
    "ReportJob",
    "Sale",
    "Staff",
    "StockLevel",
    "StockMovement",
    "Stocktake",
    "StocktakeLine",
    "Tenant",
    "TenantCounter",
    "Transfer",
    "TransferLine",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
