"""The root types, composed per area: one line per field."""

from __future__ import annotations

import strawberry

from auth.fields import requires
from auth.permissions import Permission
from resolvers import alerts as alerts_r
from resolvers import approvals as approvals_r
from resolvers import audit as audit_r
from resolvers import catalog as catalog_r
from resolvers import coupons as coupons_r
from resolvers import imports as imports_r
from resolvers import kpis as kpis_r
from resolvers import live as live_r
from resolvers import members as members_r
from resolvers import node as node_r
from resolvers import notifications as notifications_r
from resolvers import offers as offers_r
from resolvers import periods as periods_r
from resolvers import pos as pos_r
from resolvers import purchasing as purchasing_r
from resolvers import reconciliation as reconciliation_r
from resolvers import replenishment as replenishment_r
from resolvers import reports as reports_r
from resolvers import segments as segments_r
from resolvers import stock as stock_r
from resolvers import stocktakes as stocktakes_r
from resolvers import suppliers as suppliers_r
from resolvers import transfers as transfers_r
from resolvers import viewer as viewer_r
from resolvers import webhooks as webhooks_r
from resolvers import workbench as workbench_r
from resolvers._query import coded_errors
from schema.loading import READS, reads_unless

STOCK_READ = [requires(Permission.STOCK_READ)]
AUDIT_READ = [requires(Permission.AUDIT_READ)]
TRANSFERS_READ = [requires(Permission.TRANSFERS_READ)]
MEMBERS_READ = [requires(Permission.MEMBERS_READ)]
MEMBERS_PII = [requires(Permission.MEMBERS_READ), requires(Permission.MEMBERS_PII)]
ADMIN = [requires(Permission.ADMIN)]
COSTS_READ = [requires(Permission.COSTS_READ)]


@strawberry.type(
    description="Everything a caller may read: stock, catalog, transfers, purchasing, "
    "members, audit and more, always within the caller's own tenant."
)
class Query:
    node = strawberry.field(
        resolver=node_r.node, description="Any object by its global ID.", metadata=READS
    )
    nodes = strawberry.field(
        resolver=node_r.nodes, description="Up to 250 objects by global ID.", metadata=READS
    )
    viewer = strawberry.field(resolver=viewer_r.viewer, description="The caller.")
    location = strawberry.field(
        resolver=catalog_r.location,
        metadata=READS,
        description='A location by its code (e.g. "CWB"); null when there is none in your tenant.',
    )
    locations = strawberry.field(
        resolver=coded_errors(catalog_r.locations),
        metadata=READS,
        description="The tenant's locations (warehouses, stores, temporary warehouses), "
        "ordered by code.",
    )
    product = strawberry.field(
        resolver=catalog_r.product,
        metadata=READS,
        description="A product by its SKU; null when there is none in your tenant.",
    )
    products = strawberry.field(
        resolver=coded_errors(catalog_r.products),
        metadata=READS,
        description="The tenant's products, ordered by SKU.",
    )
    stock_level = strawberry.field(
        resolver=stock_r.stock_level,
        permission_classes=STOCK_READ,
        metadata=READS,
        description="The stock of one product at one location; needs stock:read. Null while "
        "the product has no level there (nothing has moved or been set there yet).",
    )
    stock_levels = strawberry.field(
        resolver=coded_errors(stock_r.stock_levels),
        permission_classes=STOCK_READ,
        metadata=READS,
        description="Stock levels, by location then product; needs stock:read. Everyone "
        "with stock:read may read every location of the tenant.",
    )
    stock_movements = strawberry.field(
        resolver=coded_errors(stock_r.stock_movements),
        permission_classes=STOCK_READ,
        metadata=READS,
        description="The stock ledger in commit order (sequence ascending); needs "
        "stock:read. Every stock change is one movement.",
    )
    stocktake = strawberry.field(
        resolver=stocktakes_r.stocktake,
        permission_classes=STOCK_READ,
        metadata=READS,
        description="A stocktake by its ID; needs stock:read. Null when it is not in your tenant.",
    )
    stocktakes = strawberry.field(
        resolver=coded_errors(stocktakes_r.stocktakes),
        permission_classes=STOCK_READ,
        metadata=READS,
        description="Stocktakes, newest first; needs stock:read.",
    )
    count_record = strawberry.field(
        resolver=coded_errors(stocktakes_r.count_record),
        permission_classes=STOCK_READ,
        description="The stocktakes posted at a location in a month (YYYY-MM, tenant "
        "time). Needs stock:read.",
    )
    cycle_count_schedule = strawberry.field(
        resolver=stocktakes_r.cycle_count_schedule,
        permission_classes=STOCK_READ,
        description="A location's cycle-count rules and what is due under them; needs stock:read.",
    )
    workbench = strawberry.field(
        resolver=workbench_r.workbench,
        permission_classes=STOCK_READ,
        description="What a store manager opens first, for one location. Needs stock:read.",
    )
    transfer = strawberry.field(
        resolver=transfers_r.transfer,
        permission_classes=TRANSFERS_READ,
        metadata=READS,
        description="A transfer by its ID; needs transfers:read. Null when it is not in "
        "your tenant.",
    )
    transfers = strawberry.field(
        resolver=coded_errors(transfers_r.transfers),
        permission_classes=TRANSFERS_READ,
        metadata=READS,
        description="Transfers, newest first; needs transfers:read.",
    )
    approval_requests = strawberry.field(
        resolver=coded_errors(approvals_r.approval_requests),
        permission_classes=TRANSFERS_READ,
        description="Approval requests for transfers and purchase orders, newest first; "
        "needs transfers:read.",
    )
    audit_events = strawberry.field(
        resolver=coded_errors(audit_r.audit_events),
        permission_classes=AUDIT_READ,
        description="The tenant's audit trail in chain order (sequence ascending); needs "
        "audit:read.",
    )
    member = strawberry.field(
        resolver=members_r.member,
        permission_classes=MEMBERS_READ,
        metadata=READS,
        description="A member by ID; needs members:read. Null when not in your tenant.",
    )
    coupon = strawberry.field(
        resolver=coded_errors(coupons_r.coupon),
        permission_classes=MEMBERS_READ,
        description="A coupon by its code. Needs members:read.",
    )
    coupons = strawberry.field(
        resolver=coded_errors(coupons_r.coupons),
        permission_classes=MEMBERS_READ,
        description="Coupons, newest first; of one member when memberId is given. Needs "
        "members:read.",
    )
    offer_rules = strawberry.field(
        resolver=coded_errors(offers_r.offer_rules),
        permission_classes=MEMBERS_READ,
        description="The tenant's offer rules, oldest first; needs members:read.",
    )
    members = strawberry.field(
        resolver=coded_errors(members_r.members),
        permission_classes=MEMBERS_READ,
        # a search is rate-limited per caller, and one by phone is audited: not compiled
        metadata=reads_unless("search"),
        description="Members, by member number; needs members:read.",
    )
    export_member = strawberry.field(
        resolver=coded_errors(members_r.export_member),
        permission_classes=MEMBERS_PII,
        description="Everything held about a member (JSON, in clear); audited. Needs "
        "members:read and members:pii.",
    )
    segment = strawberry.field(
        resolver=segments_r.segment,
        permission_classes=MEMBERS_READ,
        description="A segment by ID; needs members:read.",
    )
    segments = strawberry.field(
        resolver=coded_errors(segments_r.segments_),
        permission_classes=MEMBERS_READ,
        description="The tenant's segments, oldest first; needs members:read.",
    )
    member_tag_rule = strawberry.field(
        resolver=segments_r.member_tag_rule,
        permission_classes=MEMBERS_READ,
        description="The tenant's rule for the computed vip and lapsed tags. Needs members:read.",
    )
    webhook_subscriptions = strawberry.field(
        resolver=coded_errors(webhooks_r.webhook_subscriptions),
        description="Active webhook subscriptions: your own, or every one in the tenant "
        "with admin; oldest first.",
    )
    webhook_deliveries = strawberry.field(
        resolver=coded_errors(webhooks_r.webhook_deliveries),
        description="A webhook subscription's delivery log, newest first (yours, or any "
        "with admin).",
    )
    notification_channels = strawberry.field(
        resolver=coded_errors(notifications_r.notification_channels),
        permission_classes=ADMIN,
        description="How this tenant sends email, SMS and chat messages (no secrets). Needs admin.",
    )
    notifications = strawberry.field(
        resolver=coded_errors(notifications_r.notifications),
        permission_classes=ADMIN,
        description="The notification delivery log, newest first. Needs admin.",
    )
    # replenishment and purchasing
    suppliers = strawberry.field(
        resolver=coded_errors(suppliers_r.suppliers_),
        permission_classes=STOCK_READ,
        description="The tenant's suppliers, in the order they were created; needs stock:read.",
    )
    replenishment_rules = strawberry.field(
        resolver=coded_errors(replenishment_r.replenishment_rules),
        permission_classes=STOCK_READ,
        description="The replenishment rules, by location and product; needs stock:read.",
    )
    demand_forecast = strawberry.field(
        resolver=coded_errors(replenishment_r.demand_forecast),
        permission_classes=STOCK_READ,
        description="Expected units per day (at most 56 days), with the events that move "
        "them. Needs stock:read.",
    )
    replenishment_suggestions = strawberry.field(
        resolver=coded_errors(replenishment_r.replenishment_suggestions),
        permission_classes=STOCK_READ,
        description="What to move or buy for one location now, each with its arithmetic. "
        "Needs stock:read.",
    )
    replenishment_alerts = strawberry.field(
        resolver=coded_errors(alerts_r.replenishment_alerts),
        permission_classes=STOCK_READ,
        description="Replenishment alerts, newest first; needs stock:read.",
    )
    purchase_order = strawberry.field(
        resolver=purchasing_r.purchase_order,
        permission_classes=STOCK_READ,
        description="A purchase order by its ID; needs stock:read. Null when it is not in "
        "your tenant.",
    )
    purchase_orders = strawberry.field(
        resolver=coded_errors(purchasing_r.purchase_orders),
        permission_classes=STOCK_READ,
        description="Purchase orders, newest first; needs stock:read.",
    )
    job_runs = strawberry.field(
        resolver=coded_errors(alerts_r.job_runs),
        permission_classes=ADMIN,
        description="Scheduled job runs of this tenant, newest first. Needs admin.",
    )
    # Point of sale
    devices = strawberry.field(
        resolver=coded_errors(pos_r.devices_),
        permission_classes=STOCK_READ,
        description="The tenant's tills, oldest first; needs stock:read.",
    )
    device_sync_status = strawberry.field(
        resolver=coded_errors(pos_r.device_sync_status),
        description="A till's last sale, last sync and counts (stock:read, or the device itself).",
    )
    reconciliation_runs = strawberry.field(
        resolver=coded_errors(reconciliation_r.reconciliation_runs),
        permission_classes=STOCK_READ,
        description="Imported settlement files, newest first. Needs stock:read.",
    )
    reconciliation_lines = strawberry.field(
        resolver=coded_errors(reconciliation_r.reconciliation_lines),
        permission_classes=STOCK_READ,
        description="A run's outcomes, in file order, then the tenders it lacks. Needs stock:read.",
    )
    unreconciled = strawberry.field(
        resolver=coded_errors(reconciliation_r.unreconciled),
        permission_classes=STOCK_READ,
        description="What a manager must explain: every line of current runs not MATCHED. "
        "Needs stock:read.",
    )
    reconciliation_export = strawberry.field(
        resolver=reconciliation_r.reconciliation_export,
        permission_classes=STOCK_READ,
        description="A run as XLSX, headers in Chinese and English. Needs stock:read.",
    )
    # valuation, periods, reports
    inventory_kpis = strawberry.field(
        resolver=coded_errors(kpis_r.inventory_kpis),
        permission_classes=COSTS_READ,
        description="Inventory KPIs over a period, for the tenant or one store and/or "
        "category; needs costs:read. Formulas in each field's description.",
    )
    member_kpis = strawberry.field(
        resolver=coded_errors(kpis_r.member_kpis),
        permission_classes=MEMBERS_READ,
        description="Member KPIs over a period; needs members:read.",
    )
    report_job = strawberry.field(
        resolver=reports_r.report_job,
        permission_classes=COSTS_READ,
        description="A report job by ID, with its progress and download link; needs costs:read.",
    )
    import_job = strawberry.field(
        resolver=imports_r.import_job,
        permission_classes=ADMIN,
        description="An import job by ID, with its row errors; needs admin.",
    )
    periods = strawberry.field(
        resolver=coded_errors(periods_r.periods_),
        permission_classes=STOCK_READ,
        description="Closed periods, newest first; needs stock:read.",
    )


@strawberry.type(
    description="Every change. Each takes one input and returns a payload whose userErrors "
    "carry business failures; stock-changing ones accept an idempotencyKey."
)
class Mutation:
    create_member = strawberry.mutation(
        resolver=members_r.create_member,
        description="A member; personal data sealed at rest. Needs members:write.",
    )
    update_member = strawberry.mutation(
        resolver=members_r.update_member, description="Changes the fields given."
    )
    set_member_tags = strawberry.mutation(
        resolver=members_r.set_member_tags,
        description="Replaces the hand-set tags. Needs members:write.",
    )
    set_member_consent = strawberry.mutation(
        resolver=members_r.set_member_consent,
        description="Appends to the consent ledger; a withdrawal holds for every app at once. "
        "Needs members:write.",
    )
    erase_member = strawberry.mutation(
        resolver=members_r.erase_member,
        description="Destroys the member's key material (needs admin and members:write).",
    )
    create_segment = strawberry.mutation(
        resolver=segments_r.create_segment,
        description="A saved filter over members. Needs members:write.",
    )
    update_segment = strawberry.mutation(
        resolver=segments_r.update_segment, description="Changes the fields given."
    )
    delete_segment = strawberry.mutation(
        resolver=segments_r.delete_segment,
        description="Deletes a segment (members stay). Needs members:write.",
    )
    set_member_tag_rule = strawberry.mutation(
        resolver=segments_r.set_member_tag_rule,
        description="Sets the tenant's vip and lapsed rule (admin).",
    )
    receive_stock = strawberry.mutation(
        resolver=stock_r.receive_stock,
        description="Goods received at a location: one RECEIPT movement per line. Needs "
        "stock:write at the location.",
    )
    adjust_stock = strawberry.mutation(
        resolver=stock_r.adjust_stock,
        description="A reason-coded correction of on-hand stock; never below zero "
        "(INSUFFICIENT_STOCK). Needs stock:write at the location.",
    )
    record_sale = strawberry.mutation(
        resolver=stock_r.record_sale,
        description="A POS receipt; never refused for stock (on hand may go below zero: "
        "oversell). Needs stock:write at the location.",
    )
    set_reorder_point = strawberry.mutation(
        resolver=stock_r.set_reorder_point,
        description="Where lowStock fires for one SKU at one location. Needs stock:write at the "
        "location.",
    )
    start_stocktake = strawberry.mutation(
        resolver=stocktakes_r.start_stocktake,
        description="Opens a full or cycle count at a location. Needs stock:write there.",
    )
    record_count = strawberry.mutation(
        resolver=stocktakes_r.record_count,
        description="Counted quantities, compared with on hand now; a recount replaces. Needs "
        "stock:write at the location.",
    )
    post_stocktake = strawberry.mutation(
        resolver=stocktakes_r.post_stocktake,
        description="Posts each counted line's variance as a STOCKTAKE movement. Needs "
        "stock:write at the location.",
    )
    cancel_stocktake = strawberry.mutation(
        resolver=stocktakes_r.cancel_stocktake,
        description="Abandons an open count. Needs stock:write at the location.",
    )
    set_cycle_count_schedule = strawberry.mutation(
        resolver=stocktakes_r.set_cycle_count_schedule,
        description="Replaces a location's cycle-count rules. Needs stock:write there.",
    )
    create_transfer = strawberry.mutation(
        resolver=transfers_r.create_transfer,
        description="A new transfer: REQUESTED (submit, the default) or DRAFT. Needs "
        "transfers:write at either end.",
    )
    request_transfer = strawberry.mutation(
        resolver=transfers_r.request_transfer,
        description="DRAFT → REQUESTED: asks approval. Needs transfers:write at either end.",
    )
    approve_transfer = strawberry.mutation(
        resolver=transfers_r.approve_transfer,
        description="One approval step, by rank. Needs transfers:approve.",
    )
    reject_transfer = strawberry.mutation(
        resolver=transfers_r.reject_transfer,
        description="Rejects the request: CANCELLED. Needs transfers:approve.",
    )
    ship_transfer = strawberry.mutation(
        resolver=transfers_r.ship_transfer,
        description="APPROVED → IN_TRANSIT: TRANSFER_OUT movements at the source. Needs "
        "transfers:write at the source.",
    )
    receive_transfer = strawberry.mutation(
        resolver=transfers_r.receive_transfer,
        description="Goods arrived (partially): accepted, and rejected as DAMAGE. Needs "
        "transfers:write at the destination.",
    )
    resolve_transfer_discrepancy = strawberry.mutation(
        resolver=transfers_r.resolve_transfer_discrepancy,
        description="Writes missing units off with a reason-coded adjustment. Needs "
        "transfers:write at the destination.",
    )
    cancel_transfer = strawberry.mutation(
        resolver=transfers_r.cancel_transfer,
        description="Only before the goods leave. Needs transfers:write at either end, or "
        "transfers:approve.",
    )
    create_approval_policy = strawberry.mutation(
        resolver=approvals_r.create_approval_policy,
        description="A tenant rule: which transfers need which approver rank. Needs admin.",
    )
    create_webhook_subscription = strawberry.mutation(
        resolver=webhooks_r.create_webhook_subscription,
        description="Signed event delivery to a partner URL; the secret is shown once.",
    )
    delete_webhook_subscription = strawberry.mutation(
        resolver=webhooks_r.delete_webhook_subscription,
        description="Stops deliveries; the log stays.",
    )
    redeliver_webhook = strawberry.mutation(
        resolver=webhooks_r.redeliver_webhook, description="Sends a delivery again, same id."
    )
    configure_notification_channel = strawberry.mutation(
        resolver=notifications_r.configure_notification_channel,
        description="Sets how EMAIL, SMS or CHAT messages are sent (admin).",
    )
    issue_coupon = strawberry.mutation(
        resolver=coupons_r.issue_coupon, description="A single-use coupon (members:write)."
    )
    redeem_coupon = strawberry.mutation(
        resolver=coupons_r.redeem_coupon,
        description="Redeems a coupon at a till, exactly once (stock:write at the location).",
    )
    create_offer_rule = strawberry.mutation(
        resolver=offers_r.create_offer_rule,
        description="A triggered offer: birthday, replenishment due or cross-store.",
    )
    run_offer_triggers = strawberry.mutation(
        resolver=offers_r.run_offer_triggers,
        description="Fires every active offer rule once per occasion (members:write or admin).",
    )
    # replenishment and purchasing
    create_supplier = strawberry.mutation(
        resolver=suppliers_r.create_supplier,
        description="A supplier (costs:read, stock:write).",
    )
    update_supplier = strawberry.mutation(
        resolver=suppliers_r.update_supplier, description="Changes the fields given."
    )
    set_supplier_products = strawberry.mutation(
        resolver=suppliers_r.set_supplier_products,
        description="Adds or replaces what a supplier sells, by SKU (costs:read, stock:write).",
    )
    set_replenishment_rules = strawberry.mutation(
        resolver=replenishment_r.set_replenishment_rules,
        description="Sets up to 5,000 rules at once; resending the same rules changes nothing. "
        "Needs stock:write at each location.",
    )
    accept_replenishment_suggestion = strawberry.mutation(
        resolver=replenishment_r.accept_replenishment_suggestion,
        description="Requests the transfer part now; the purchase part waits for "
        "draftPurchaseOrders. Needs stock:write at the location.",
    )
    dismiss_replenishment_suggestion = strawberry.mutation(
        resolver=replenishment_r.dismiss_replenishment_suggestion,
        description="Recorded with its reason; not suggested again today. Needs stock:write at "
        "the location.",
    )
    set_alert_contact = strawberry.mutation(
        resolver=alerts_r.set_alert_contact,
        description="Where a staff member gets replenishment alerts (admin).",
    )
    set_alert_quiet_hours = strawberry.mutation(
        resolver=alerts_r.set_alert_quiet_hours,
        description="When alerts wait, in tenant time (admin).",
    )
    draft_purchase_orders = strawberry.mutation(
        resolver=purchasing_r.draft_purchase_orders,
        description="One DRAFT per supplier and location from accepted purchase suggestions. "
        "Needs stock:write at each location.",
    )
    submit_purchase_order = strawberry.mutation(
        resolver=purchasing_r.submit_purchase_order,
        description="DRAFT → SUBMITTED. Needs stock:write at the order's location.",
    )
    approve_purchase_order = strawberry.mutation(
        resolver=purchasing_r.approve_purchase_order,
        description="One approval step, by rank. Needs transfers:approve.",
    )
    reject_purchase_order = strawberry.mutation(
        resolver=purchasing_r.reject_purchase_order,
        description="SUBMITTED → CANCELLED. Needs transfers:approve.",
    )
    send_purchase_order = strawberry.mutation(
        resolver=purchasing_r.send_purchase_order,
        description="APPROVED → SENT: its lines count as incoming. Needs stock:write at the "
        "order's location.",
    )
    receive_purchase_order = strawberry.mutation(
        resolver=purchasing_r.receive_purchase_order,
        description="RECEIPT movements at the unit cost; over-receipt is refused. Needs "
        "stock:write at the order's location.",
    )
    close_purchase_order = strawberry.mutation(
        resolver=purchasing_r.close_purchase_order,
        description="Closes a sent order short, with a reason. Needs stock:write at the order's "
        "location.",
    )
    cancel_purchase_order = strawberry.mutation(
        resolver=purchasing_r.cancel_purchase_order, description="Only before it is sent."
    )
    send_test_notification = strawberry.mutation(
        resolver=notifications_r.send_test_notification,
        description="Queues a test message through a configured channel (admin).",
    )
    # Point of sale
    register_device = strawberry.mutation(
        resolver=pos_r.register_device,
        description="A till at one location; its secret once. Needs admin.",
    )
    disable_device = strawberry.mutation(
        resolver=pos_r.disable_device,
        description="Stops a till and its token at once. Needs admin.",
    )
    sync_sales = strawberry.mutation(
        resolver=pos_r.sync_sales,
        description="Up to 500 offline sales, each exactly once. Needs stock:write at the "
        "till's location.",
    )
    record_return = strawberry.mutation(
        resolver=pos_r.record_return,
        description="Goods back and tenders refunded, once. Needs stock:write at the sale's "
        "location.",
    )
    void_sale = strawberry.mutation(
        resolver=pos_r.void_sale,
        description="Undoes a whole sale before settlement, once. Needs stock:write at the "
        "sale's location.",
    )
    import_settlement = strawberry.mutation(
        resolver=reconciliation_r.import_settlement,
        description="Matches an AlipayHK or Octopus settlement file (admin); once per file.",
    )
    # valuation, periods, reports
    request_report = strawberry.mutation(
        resolver=reports_r.request_report, description="Starts a report job (costs:read)."
    )
    create_import = strawberry.mutation(
        resolver=imports_r.create_import, description="Checks and writes a file (admin)."
    )
    close_period = strawberry.mutation(
        resolver=periods_r.close_period, description="Closes a period (admin)."
    )
    reopen_period = strawberry.mutation(
        resolver=periods_r.reopen_period, description="Reopens a close (the owner)."
    )


@strawberry.type(
    description="Live events over WebSocket (graphql-transport-ws) at /graphql; the token "
    'goes in connection_init as {"authorization": "Bearer …"}.'
)
class Subscription:
    stock_changed = strawberry.subscription(
        resolver=live_r.stock_changed,
        permission_classes=STOCK_READ,
        description="Committed stock changes of the tenant in sequence order. With "
        "afterSequence, every matching change after it is replayed first, "
        "then live ones follow: reconnecting with the last sequence seen "
        "misses nothing and repeats nothing. Needs stock:read.",
    )
    low_stock = strawberry.subscription(
        resolver=live_r.low_stock,
        permission_classes=STOCK_READ,
        description="Available stock fell to or below the reorder point: once per "
        "crossing. Needs stock:read.",
    )
    transfer_updated = strawberry.subscription(
        resolver=live_r.transfer_updated,
        permission_classes=TRANSFERS_READ,
        description="Committed transfer changes of the tenant in sequence order, for "
        "transfers from or to any of locationIds; afterSequence replays "
        "first, as for stockChanged. Needs transfers:read.",
    )
    purchase_order_updated = strawberry.subscription(
        resolver=live_r.purchase_order_updated,
        permission_classes=STOCK_READ,
        description="Committed purchase-order changes of the tenant in sequence order, "
        "for orders of any of locationIds; afterSequence replays first, as "
        "for stockChanged. Needs stock:read.",
    )
    job_progress = strawberry.subscription(
        resolver=live_r.job_progress,
        permission_classes=STOCK_READ,
        description="A report's or an import's progress (requestReport, createImport with "
        "background: true) until it finishes: the state now, then each change, then the final "
        "state and the end of the stream. Needs stock:read, and what the job's type declares "
        "(ReportJob: costs:read, ImportJob: admin): FORBIDDEN without it.",
    )
