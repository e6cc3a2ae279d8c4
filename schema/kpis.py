"""KPI types: plain figures; each formula is in the field's description and docs/kpis.md."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.kpis.inventory import InventoryKpis as DomainInventory
from domain.kpis.members import MemberKpis as DomainMembers
from schema.catalog import CURRENCIES, CurrencyCode


@strawberry.type(description="Losses of one reason.")
class ShrinkageByReason:
    reason: str = strawberry.field(description="An adjustment reason, DAMAGE, or STOCKTAKE.")
    units: int = strawberry.field(description="Units lost.")
    value: Decimal = strawberry.field(description="At cost, in the tenant's currency.")


@strawberry.type(description="Inventory KPIs for a period (days in the tenant's time zone).")
class InventoryKpis:
    currency: CurrencyCode = strawberry.field(
        description="The currency of the money figures (the tenant's)."
    )
    days: int = strawberry.field(description="Days in the period.")
    units_sold: int = strawberry.field(
        description="Units sold in the period (SALE movements; returns are not netted)."
    )
    units_oversold: int = strawberry.field(description="Units sold from no stock.")
    cost_of_goods_sold: Decimal = strawberry.field(
        description="The cost of the units sold, at moving average cost."
    )
    opening_value: Decimal = strawberry.field(
        description="Stock value at cost at the start of the first day."
    )
    closing_value: Decimal = strawberry.field(
        description="Stock value at cost at the end of the last day."
    )
    stock_out_sku_days: int = strawberry.field(
        description="SKU-location days that ended at or below zero on hand."
    )
    sku_days: int = strawberry.field(
        description="SKU-location days counted: those that sold in the period, times its days."
    )
    stock_out_rate: Decimal | None = strawberry.field(
        description="stockOutSkuDays ÷ skuDays: days ending at or below zero on hand, over "
        "the SKU × locations that sold in the period."
    )
    fill_rate: Decimal | None = strawberry.field(
        description="(unitsSold − unitsOversold) ÷ unitsSold."
    )
    inventory_turnover: Decimal | None = strawberry.field(
        description="costOfGoodsSold ÷ ((openingValue + closingValue) ÷ 2)."
    )
    days_of_cover: Decimal | None = strawberry.field(
        description="closingValue ÷ (costOfGoodsSold ÷ days)."
    )
    sell_through: Decimal | None = strawberry.field(
        description="unitsSold ÷ (opening units + units received, transferred in or opened)."
    )
    shrinkage: list[ShrinkageByReason] = strawberry.field(
        description="Units and value lost through adjustments, damage and stocktakes, by reason."
    )
    transfer_lead_time_hours: Decimal | None = strawberry.field(
        description="Mean hours from a transfer's creation to its last receipt."
    )
    transfers_received: int = strawberry.field(
        description="Transfers into the location(s) whose last receipt fell in the period "
        "(for transferLeadTimeHours)."
    )
    forecast_accuracy: Decimal | None = strawberry.field(
        description="1 − WAPE of forecasts against sales; null until forecasts exist."
    )

    @classmethod
    def from_domain(cls, k: DomainInventory, currency: str) -> InventoryKpis:
        return cls(
            currency=CURRENCIES[currency],
            days=k.days,
            units_sold=k.units_sold,
            units_oversold=k.units_oversold,
            cost_of_goods_sold=k.cost_of_goods_sold,
            opening_value=k.opening_value,
            closing_value=k.closing_value,
            stock_out_sku_days=k.stock_out_sku_days,
            sku_days=k.sku_days,
            stock_out_rate=k.stock_out_rate,
            fill_rate=k.fill_rate,
            inventory_turnover=k.inventory_turnover,
            days_of_cover=k.days_of_cover,
            sell_through=k.sell_through,
            shrinkage=[
                ShrinkageByReason(reason=s.reason, units=s.units, value=s.value)
                for s in k.shrinkage
            ],
            transfer_lead_time_hours=k.transfer_lead_time_hours,
            transfers_received=k.transfers_received,
            forecast_accuracy=k.forecast_accuracy,
        )


@strawberry.type(description="The lifetime value of one member tier.")
class SegmentLifetimeValue:
    segment: str = strawberry.field(description="The member tier.")
    members: int = strawberry.field(description="Members in the tier.")
    lifetime_value: Decimal = strawberry.field(description="Mean total spend per member, all time.")


@strawberry.type(description="Member KPIs for a period (days in the tenant's time zone).")
class MemberKpis:
    currency: CurrencyCode = strawberry.field(
        description="The currency of the money figures (the tenant's)."
    )
    buyers: int = strawberry.field(description="Members with at least one sale in the period.")
    repeat_buyers: int = strawberry.field(
        description="Members with two or more sales in the period."
    )
    repurchase_rate: Decimal | None = strawberry.field(description="repeatBuyers ÷ buyers.")
    lifetime_value: list[SegmentLifetimeValue] = strawberry.field(
        description="Mean all-time spend per member, per tier."
    )
    offers_sent: int = strawberry.field(
        description="Offer messages sent in the period (offer firings)."
    )
    offers_redeemed: int = strawberry.field(
        description="Coupons of offers fired in the period that were redeemed."
    )
    offer_conversion: Decimal | None = strawberry.field(description="offersRedeemed ÷ offersSent.")

    @classmethod
    def from_domain(cls, k: DomainMembers, currency: str) -> MemberKpis:
        return cls(
            currency=CURRENCIES[currency],
            buyers=k.buyers,
            repeat_buyers=k.repeat_buyers,
            repurchase_rate=k.repurchase_rate,
            lifetime_value=[
                SegmentLifetimeValue(
                    segment=s.segment, members=s.members, lifetime_value=s.lifetime_value
                )
                for s in k.lifetime_value
            ],
            offers_sent=k.offers_sent,
            offers_redeemed=k.offers_redeemed,
            offer_conversion=k.offer_conversion,
        )
