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
from schema.loading import READS

STOCK_READ = [requires(Permission.STOCK_READ)]
AUDIT_READ = [requires(Permission.AUDIT_READ)]
TRANSFERS_READ = [requires(Permission.TRANSFERS_READ)]
MEMBERS_READ = [requires(Permission.MEMBERS_READ)]
MEMBERS_PII = [requires(Permission.MEMBERS_READ), requires(Permission.MEMBERS_PII)]
ADMIN = [requires(Permission.ADMIN)]
COSTS_READ = [requires(Permission.COSTS_READ)]


@strawberry.type
class Query:
    node = strawberry.field(
        resolver=node_r.node, description="Any object by its global ID.", metadata=READS
    )
    nodes = strawberry.field(
        resolver=node_r.nodes, description="Up to 250 objects by global ID.", metadata=READS
    )
    viewer = strawberry.field(resolver=viewer_r.viewer, description="The caller.")
    location = strawberry.field(resolver=catalog_r.location, metadata=READS)
    locations = strawberry.field(resolver=coded_errors(catalog_r.locations), metadata=READS)
    product = strawberry.field(resolver=catalog_r.product, metadata=READS)
    products = strawberry.field(resolver=coded_errors(catalog_r.products), metadata=READS)
    stock_level = strawberry.field(
        resolver=stock_r.stock_level, permission_classes=STOCK_READ, metadata=READS
    )
    stock_levels = strawberry.field(
        resolver=coded_errors(stock_r.stock_levels), permission_classes=STOCK_READ, metadata=READS
    )
    stock_movements = strawberry.field(
        resolver=coded_errors(stock_r.stock_movements),
        permission_classes=STOCK_READ,
        metadata=READS,
    )
    stocktake = strawberry.field(resolver=stocktakes_r.stocktake, permission_classes=STOCK_READ)
    stocktakes = strawberry.field(
        resolver=coded_errors(stocktakes_r.stocktakes), permission_classes=STOCK_READ
    )
    count_record = strawberry.field(
        resolver=coded_errors(stocktakes_r.count_record),
        permission_classes=STOCK_READ,
        description="The stocktakes posted at a location in a month (YYYY-MM, tenant time).",
    )
    cycle_count_schedule = strawberry.field(
        resolver=stocktakes_r.cycle_count_schedule, permission_classes=STOCK_READ
    )
    workbench = strawberry.field(
        resolver=workbench_r.workbench,
        permission_classes=STOCK_READ,
        description="What a store manager opens first, for one location.",
    )
    transfer = strawberry.field(resolver=transfers_r.transfer, permission_classes=TRANSFERS_READ)
    transfers = strawberry.field(
        resolver=coded_errors(transfers_r.transfers), permission_classes=TRANSFERS_READ
    )
    approval_requests = strawberry.field(
        resolver=coded_errors(approvals_r.approval_requests), permission_classes=TRANSFERS_READ
    )
    audit_events = strawberry.field(
        resolver=coded_errors(audit_r.audit_events), permission_classes=AUDIT_READ
    )
    member = strawberry.field(resolver=members_r.member, permission_classes=MEMBERS_READ)
    coupon = strawberry.field(
        resolver=coded_errors(coupons_r.coupon),
        permission_classes=MEMBERS_READ,
        description="A coupon by its code.",
    )
    coupons = strawberry.field(
        resolver=coded_errors(coupons_r.coupons),
        permission_classes=MEMBERS_READ,
        description="Coupons, newest first; of one member when memberId is given.",
    )
    offer_rules = strawberry.field(
        resolver=coded_errors(offers_r.offer_rules), permission_classes=MEMBERS_READ
    )
    members = strawberry.field(
        resolver=coded_errors(members_r.members), permission_classes=MEMBERS_READ
    )
    export_member = strawberry.field(
        resolver=coded_errors(members_r.export_member),
        permission_classes=MEMBERS_PII,
        description="Everything held about a member (JSON, in clear); audited.",
    )
    segment = strawberry.field(resolver=segments_r.segment, permission_classes=MEMBERS_READ)
    segments = strawberry.field(
        resolver=coded_errors(segments_r.segments_), permission_classes=MEMBERS_READ
    )
    member_tag_rule = strawberry.field(
        resolver=segments_r.member_tag_rule,
        permission_classes=MEMBERS_READ,
        description="The tenant's rule for the computed vip and lapsed tags.",
    )
    webhook_subscriptions = strawberry.field(
        resolver=coded_errors(webhooks_r.webhook_subscriptions)
    )
    webhook_deliveries = strawberry.field(resolver=coded_errors(webhooks_r.webhook_deliveries))
    notification_channels = strawberry.field(
        resolver=coded_errors(notifications_r.notification_channels),
        permission_classes=ADMIN,
        description="How this tenant sends email, SMS and chat messages (no secrets).",
    )
    notifications = strawberry.field(
        resolver=coded_errors(notifications_r.notifications),
        permission_classes=ADMIN,
        description="The notification delivery log, newest first.",
    )
    # replenishment and purchasing
    suppliers = strawberry.field(
        resolver=coded_errors(suppliers_r.suppliers_), permission_classes=STOCK_READ
    )
    replenishment_rules = strawberry.field(
        resolver=coded_errors(replenishment_r.replenishment_rules), permission_classes=STOCK_READ
    )
    demand_forecast = strawberry.field(
        resolver=coded_errors(replenishment_r.demand_forecast),
        permission_classes=STOCK_READ,
        description="Expected units per day (at most 56 days), with the events that move them.",
    )
    replenishment_suggestions = strawberry.field(
        resolver=coded_errors(replenishment_r.replenishment_suggestions),
        permission_classes=STOCK_READ,
        description="What to move or buy for one location now, each with its arithmetic.",
    )
    replenishment_alerts = strawberry.field(
        resolver=coded_errors(alerts_r.replenishment_alerts), permission_classes=STOCK_READ
    )
    purchase_order = strawberry.field(
        resolver=purchasing_r.purchase_order, permission_classes=STOCK_READ
    )
    purchase_orders = strawberry.field(
        resolver=coded_errors(purchasing_r.purchase_orders), permission_classes=STOCK_READ
    )
    job_runs = strawberry.field(
        resolver=coded_errors(alerts_r.job_runs),
        permission_classes=ADMIN,
        description="Scheduled job runs of this tenant, newest first.",
    )
    # Point of sale
    devices = strawberry.field(resolver=coded_errors(pos_r.devices_), permission_classes=STOCK_READ)
    device_sync_status = strawberry.field(
        resolver=coded_errors(pos_r.device_sync_status),
        description="A till's last sale, last sync and counts (stock:read, or the device itself).",
    )
    reconciliation_runs = strawberry.field(
        resolver=coded_errors(reconciliation_r.reconciliation_runs),
        permission_classes=STOCK_READ,
        description="Imported settlement files, newest first.",
    )
    reconciliation_lines = strawberry.field(
        resolver=coded_errors(reconciliation_r.reconciliation_lines),
        permission_classes=STOCK_READ,
        description="A run's outcomes, in file order, then the tenders it lacks.",
    )
    unreconciled = strawberry.field(
        resolver=coded_errors(reconciliation_r.unreconciled),
        permission_classes=STOCK_READ,
        description="What a manager must explain: every line of current runs not MATCHED.",
    )
    reconciliation_export = strawberry.field(
        resolver=reconciliation_r.reconciliation_export,
        permission_classes=STOCK_READ,
        description="A run as XLSX, headers in Chinese and English.",
    )
    # valuation, periods, reports
    inventory_kpis = strawberry.field(
        resolver=coded_errors(kpis_r.inventory_kpis), permission_classes=COSTS_READ
    )
    member_kpis = strawberry.field(
        resolver=coded_errors(kpis_r.member_kpis), permission_classes=MEMBERS_READ
    )
    report_job = strawberry.field(resolver=reports_r.report_job, permission_classes=COSTS_READ)
    import_job = strawberry.field(resolver=imports_r.import_job, permission_classes=ADMIN)
    periods = strawberry.field(
        resolver=coded_errors(periods_r.periods_), permission_classes=STOCK_READ
    )


@strawberry.type
class Mutation:
    create_member = strawberry.mutation(
        resolver=members_r.create_member, description="A member; personal data sealed at rest."
    )
    update_member = strawberry.mutation(
        resolver=members_r.update_member, description="Changes the fields given."
    )
    set_member_tags = strawberry.mutation(
        resolver=members_r.set_member_tags, description="Replaces the hand-set tags."
    )
    set_member_consent = strawberry.mutation(
        resolver=members_r.set_member_consent,
        description="Appends to the consent ledger; a withdrawal holds for every app at once.",
    )
    erase_member = strawberry.mutation(
        resolver=members_r.erase_member,
        description="Destroys the member's key material (needs admin and members:write).",
    )
    create_segment = strawberry.mutation(
        resolver=segments_r.create_segment, description="A saved filter over members."
    )
    update_segment = strawberry.mutation(
        resolver=segments_r.update_segment, description="Changes the fields given."
    )
    delete_segment = strawberry.mutation(
        resolver=segments_r.delete_segment, description="Deletes a segment (members stay)."
    )
    set_member_tag_rule = strawberry.mutation(
        resolver=segments_r.set_member_tag_rule,
        description="Sets the tenant's vip and lapsed rule (admin).",
    )
    receive_stock = strawberry.mutation(
        resolver=stock_r.receive_stock, description="Goods received at a location."
    )
    adjust_stock = strawberry.mutation(
        resolver=stock_r.adjust_stock, description="A reason-coded correction of on-hand stock."
    )
    record_sale = strawberry.mutation(
        resolver=stock_r.record_sale, description="A POS receipt; never refused for stock."
    )
    set_reorder_point = strawberry.mutation(
        resolver=stock_r.set_reorder_point,
        description="Where lowStock fires for one SKU at one location.",
    )
    start_stocktake = strawberry.mutation(
        resolver=stocktakes_r.start_stocktake,
        description="Opens a full or cycle count at a location.",
    )
    record_count = strawberry.mutation(
        resolver=stocktakes_r.record_count,
        description="Counted quantities, compared with on hand now; a recount replaces.",
    )
    post_stocktake = strawberry.mutation(
        resolver=stocktakes_r.post_stocktake,
        description="Posts each counted line's variance as a STOCKTAKE movement.",
    )
    cancel_stocktake = strawberry.mutation(
        resolver=stocktakes_r.cancel_stocktake, description="Abandons an open count."
    )
    set_cycle_count_schedule = strawberry.mutation(
        resolver=stocktakes_r.set_cycle_count_schedule,
        description="Replaces a location's cycle-count rules.",
    )
    create_transfer = strawberry.mutation(
        resolver=transfers_r.create_transfer, description="A DRAFT transfer (REQUESTED: submit)."
    )
    request_transfer = strawberry.mutation(
        resolver=transfers_r.request_transfer, description="DRAFT → REQUESTED: asks approval."
    )
    approve_transfer = strawberry.mutation(
        resolver=transfers_r.approve_transfer, description="One approval step, by rank."
    )
    reject_transfer = strawberry.mutation(
        resolver=transfers_r.reject_transfer, description="Rejects the request: CANCELLED."
    )
    ship_transfer = strawberry.mutation(
        resolver=transfers_r.ship_transfer, description="APPROVED → IN_TRANSIT."
    )
    receive_transfer = strawberry.mutation(
        resolver=transfers_r.receive_transfer,
        description="Goods arrived (partially): accepted, and rejected as DAMAGE.",
    )
    resolve_transfer_discrepancy = strawberry.mutation(
        resolver=transfers_r.resolve_transfer_discrepancy,
        description="Writes missing units off with a reason-coded adjustment.",
    )
    cancel_transfer = strawberry.mutation(
        resolver=transfers_r.cancel_transfer, description="Only before the goods leave."
    )
    create_approval_policy = strawberry.mutation(
        resolver=approvals_r.create_approval_policy,
        description="A tenant rule: which transfers need which approver rank.",
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
        description="Adds or replaces what a supplier sells, by SKU.",
    )
    set_replenishment_rules = strawberry.mutation(
        resolver=replenishment_r.set_replenishment_rules,
        description="Sets up to 5,000 rules at once; resending the same rules changes nothing.",
    )
    accept_replenishment_suggestion = strawberry.mutation(
        resolver=replenishment_r.accept_replenishment_suggestion,
        description="Requests the transfer part now; the purchase part waits for "
        "draftPurchaseOrders.",
    )
    dismiss_replenishment_suggestion = strawberry.mutation(
        resolver=replenishment_r.dismiss_replenishment_suggestion,
        description="Recorded with its reason; not suggested again today.",
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
        description="One DRAFT per supplier and location from accepted purchase suggestions.",
    )
    submit_purchase_order = strawberry.mutation(
        resolver=purchasing_r.submit_purchase_order, description="DRAFT → SUBMITTED."
    )
    approve_purchase_order = strawberry.mutation(
        resolver=purchasing_r.approve_purchase_order, description="One approval step, by rank."
    )
    reject_purchase_order = strawberry.mutation(
        resolver=purchasing_r.reject_purchase_order, description="SUBMITTED → CANCELLED."
    )
    send_purchase_order = strawberry.mutation(
        resolver=purchasing_r.send_purchase_order,
        description="APPROVED → SENT: its lines count as incoming.",
    )
    receive_purchase_order = strawberry.mutation(
        resolver=purchasing_r.receive_purchase_order,
        description="RECEIPT movements at the unit cost; over-receipt is refused.",
    )
    close_purchase_order = strawberry.mutation(
        resolver=purchasing_r.close_purchase_order,
        description="Closes a sent order short, with a reason.",
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
        resolver=pos_r.register_device, description="A till at one location; its secret once."
    )
    disable_device = strawberry.mutation(
        resolver=pos_r.disable_device, description="Stops a till and its token at once."
    )
    sync_sales = strawberry.mutation(
        resolver=pos_r.sync_sales, description="Up to 500 offline sales, each exactly once."
    )
    record_return = strawberry.mutation(
        resolver=pos_r.record_return, description="Goods back and tenders refunded, once."
    )
    void_sale = strawberry.mutation(
        resolver=pos_r.void_sale, description="Undoes a whole sale before settlement, once."
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


@strawberry.type
class Subscription:
    stock_changed = strawberry.subscription(
        resolver=live_r.stock_changed,
        permission_classes=STOCK_READ,
        description="Committed stock changes of the tenant in sequence order. With "
        "afterSequence, every matching change after it is replayed first, then live ones "
        "follow: reconnecting with the last sequence seen misses nothing and repeats nothing.",
    )
    low_stock = strawberry.subscription(
        resolver=live_r.low_stock,
        permission_classes=STOCK_READ,
        description="Available stock fell to or below the reorder point: once per crossing.",
    )
    transfer_updated = strawberry.subscription(
        resolver=live_r.transfer_updated,
        permission_classes=TRANSFERS_READ,
        description="Committed transfer changes of the tenant in sequence order, for transfers "
        "from or to any of locationIds; afterSequence replays first, as for stockChanged.",
    )
    purchase_order_updated = strawberry.subscription(
        resolver=live_r.purchase_order_updated,
        permission_classes=STOCK_READ,
        description="Committed purchase-order changes of the tenant in sequence order, for "
        "orders of any of locationIds; afterSequence replays first, as for stockChanged.",
    )
    job_progress = strawberry.subscription(
        resolver=live_r.job_progress,
        permission_classes=STOCK_READ,
        description="A report's or an import's progress (requestReport, createImport with "
        "background: true) until it finishes: the state now, then each change, then the final "
        "state and the end of the stream. Following a job also needs what its type declares "
        "(ReportJob: costs:read, ImportJob: admin): FORBIDDEN without it.",
    )
