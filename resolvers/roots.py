"""The root types, composed per area: one line per field."""

from __future__ import annotations

import strawberry

from auth.fields import requires
from auth.permissions import Permission
from resolvers import audit as audit_r
from resolvers import catalog as catalog_r
from resolvers import node as node_r
from resolvers import stock as stock_r
from resolvers import viewer as viewer_r
from resolvers import webhooks as webhooks_r
from resolvers._query import coded_errors

STOCK_READ = [requires(Permission.STOCK_READ)]
AUDIT_READ = [requires(Permission.AUDIT_READ)]


@strawberry.type
class Query:
    node = strawberry.field(resolver=node_r.node, description="Any object by its global ID.")
    nodes = strawberry.field(resolver=node_r.nodes, description="Up to 250 objects by global ID.")
    viewer = strawberry.field(resolver=viewer_r.viewer, description="The caller.")
    location = strawberry.field(resolver=catalog_r.location)
    locations = strawberry.field(resolver=coded_errors(catalog_r.locations))
    product = strawberry.field(resolver=catalog_r.product)
    products = strawberry.field(resolver=coded_errors(catalog_r.products))
    stock_level = strawberry.field(resolver=stock_r.stock_level, permission_classes=STOCK_READ)
    stock_levels = strawberry.field(
        resolver=coded_errors(stock_r.stock_levels), permission_classes=STOCK_READ
    )
    stock_movements = strawberry.field(
        resolver=coded_errors(stock_r.stock_movements), permission_classes=STOCK_READ
    )
    audit_events = strawberry.field(
        resolver=coded_errors(audit_r.audit_events), permission_classes=AUDIT_READ
    )
    webhook_subscriptions = strawberry.field(
        resolver=coded_errors(webhooks_r.webhook_subscriptions)
    )
    webhook_deliveries = strawberry.field(resolver=coded_errors(webhooks_r.webhook_deliveries))


@strawberry.type
class Mutation:
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
