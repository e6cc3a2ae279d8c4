"""The root types, composed per area: one line per field."""

from __future__ import annotations

import strawberry

from auth.fields import requires
from auth.permissions import Permission
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
from resolvers import reports as reports_r
from resolvers import segments as segments_r
from resolvers import stock as stock_r
from resolvers import stocktakes as stocktakes_r
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
    send_test_notification = strawberry.mutation(
        resolver=notifications_r.send_test_notification,
        description="Queues a test message through a configured channel (admin).",
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
