"""Computed member tags: the pure rules, on a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.members.tags import (
    DEFAULT_RULE,
    CategoryTotal,
    MemberStats,
    TagRule,
    compute_tags,
    favourite_tag,
    frequency_tags,
    is_vip,
    merged,
    recency_tags,
    spend_tags,
)

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, ["recency:30d"]),
        (30, ["recency:30d"]),
        (30.5, ["recency:30d"]),  # whole days count
        (31, ["recency:90d"]),
        (90, ["recency:90d"]),
        (91, ["recency:180d"]),
        (180, ["recency:180d"]),
        (181, ["lapsed", "recency:lapsed"]),
        (-3, ["recency:30d"]),  # a sale stamped ahead of the clock is recent
    ],
)
def test_recency_bands_and_lapsed(days, expected):
    assert recency_tags(ago(days), NOW, lapsed_days=180) == expected


def test_recency_without_purchases_and_with_a_longer_threshold():
    assert recency_tags(None, NOW, 180) == []
    assert recency_tags(ago(200), NOW, 365) == ["recency:365d"]
    assert recency_tags(ago(400), NOW, 500) == ["recency:over365d"]
    assert recency_tags(ago(31), NOW, 30) == ["lapsed", "recency:lapsed"]


@pytest.mark.parametrize(
    ("n90", "n365", "expected"),
    [
        (0, 0, []),
        (0, 1, ["frequency:365d:1"]),
        (1, 1, ["frequency:90d:1", "frequency:365d:1"]),
        (2, 4, ["frequency:90d:2-4", "frequency:365d:2-4"]),
        (4, 5, ["frequency:90d:2-4", "frequency:365d:5-11"]),
        (12, 30, ["frequency:90d:12+", "frequency:365d:12+"]),
    ],
)
def test_frequency_bands(n90, n365, expected):
    assert frequency_tags(n90, n365) == expected


def test_spend_bands_per_currency():
    assert spend_tags({}) == []
    assert spend_tags({"HKD": Decimal("0")}) == []
    assert spend_tags({"HKD": Decimal("-5")}) == []
    assert spend_tags({"HKD": Decimal("499.99")}) == ["spend:HKD:0-499"]
    assert spend_tags({"HKD": Decimal("500")}) == ["spend:HKD:500-1999"]
    assert spend_tags({"MOP": Decimal("2000"), "HKD": Decimal("10000")}) == [
        "spend:HKD:10000+",
        "spend:MOP:2000-9999",
    ]


def test_favourite_category_by_units_then_spend_then_name():
    assert favourite_tag([]) is None
    tea = CategoryTotal("Tea", 5, Decimal("50"))
    snacks = CategoryTotal("Snacks", 7, Decimal("20"))
    assert favourite_tag([tea, snacks]) == "favourite:Snacks"
    rich = CategoryTotal("Wine", 7, Decimal("700"))
    assert favourite_tag([tea, snacks, rich]) == "favourite:Wine"
    assert favourite_tag(
        [CategoryTotal("B", 1, Decimal(1)), CategoryTotal("A", 1, Decimal(1))]
    ) == ("favourite:A")
    assert favourite_tag([CategoryTotal("  ", 9, Decimal(1))]) is None
    assert len(favourite_tag([CategoryTotal("x" * 100, 1, Decimal(1))]) or "") == 64


def test_vip_by_spend_or_frequency_per_tenant_rule():
    big = MemberStats(ago(1), 1, 1, {"HKD": Decimal("10000")})
    often = MemberStats(ago(1), 10, 24, {"HKD": Decimal("100")})
    small = MemberStats(ago(1), 1, 23, {"HKD": Decimal("9999.99"), "MOP": Decimal("50000")})
    assert is_vip(big, DEFAULT_RULE, "HKD")
    assert is_vip(often, DEFAULT_RULE, "HKD")
    assert not is_vip(small, DEFAULT_RULE, "HKD")  # MOP spend does not count for an HKD tenant
    assert is_vip(small, DEFAULT_RULE, "MOP")
    spend_only = TagRule(vip_min_spend=Decimal(500), vip_min_purchases=None, lapsed_days=180)
    assert not is_vip(often, spend_only, "HKD") and is_vip(small, spend_only, "HKD")
    never = TagRule(vip_min_spend=None, vip_min_purchases=None, lapsed_days=180)
    assert not is_vip(big, never, "HKD")


def test_compute_tags_is_sorted_and_complete():
    stats = MemberStats(
        last_purchase_at=ago(10),
        purchases_90d=3,
        purchases_365d=25,
        spend_365d={"HKD": Decimal("1234.50")},
        categories=(CategoryTotal("Tea", 4, Decimal("80")),),
    )
    assert compute_tags(stats, DEFAULT_RULE, "HKD", NOW) == [
        "favourite:Tea",
        "frequency:365d:12+",
        "frequency:90d:2-4",
        "recency:30d",
        "spend:HKD:500-1999",
        "vip",
    ]
    assert compute_tags(MemberStats(), DEFAULT_RULE, "HKD", NOW) == []
    # the same figures a year later: lapsed only (windows are the caller's business)
    later = NOW + timedelta(days=365)
    assert compute_tags(MemberStats(last_purchase_at=ago(10)), DEFAULT_RULE, "HKD", later) == [
        "lapsed",
        "recency:lapsed",
    ]


def test_merged_shows_hand_tags_first_then_computed_sorted():
    assert merged(["zeta", "alpha"], ["vip", "recency:30d", "alpha"]) == [
        "zeta",
        "alpha",
        "recency:30d",
        "vip",
    ]
