"""Alert messages: one per responsible person, batched, never in quiet hours, never twice."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text

from auth.permissions import Role
from domain.notifications import channels
from domain.replenishment import notify
from domain.replenishment.alerts import HOLIDAY, LOW_STOCK, NewAlert, raise_alerts
from domain.tenancy import service as tenancy

DAY = date(2026, 12, 23)
# 23:00 and 09:00 in Hong Kong (UTC+8)
NIGHT = datetime(2026, 12, 23, 15, 0, tzinfo=UTC)
MORNING = datetime(2026, 12, 24, 1, 0, tzinfo=UTC)


def test_quiet_hours_wrap_past_midnight() -> None:
    assert notify.quiet(23 * 60, 22 * 60, 8 * 60) and notify.quiet(7 * 60, 22 * 60, 8 * 60)
    assert not notify.quiet(9 * 60, 22 * 60, 8 * 60)
    assert notify.quiet(13 * 60, 12 * 60, 14 * 60) and not notify.quiet(14 * 60, 12 * 60, 14 * 60)
    assert not notify.quiet(3 * 60, None, None)


async def _messages(tenant) -> list[tuple[str, str]]:
    async with tenant.db.owner_transaction() as s:
        rows = await s.execute(
            text(
                "SELECT recipient, body FROM notifications WHERE tenant_id = :t "
                "AND template = 'replenishment.alerts' ORDER BY recipient"
            ),
            {"t": tenant.tenant_id},
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_one_batched_message_per_responsible_person(tenant):
    owner = tenant.owner
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        await channels.configure(
            s,
            owner,
            channels.ConfigureChannel(
                "EMAIL",
                email=channels.EmailSettings("smtp.example.com", 587, "alerts@example.com"),
            ),
        )
    async with tenant.db.owner_transaction() as s:
        manager = await tenancy.create_staff(
            s, owner, "M1", "Manager S1", Role.STORE_MANAGER, ["S1"]
        )
        regional = await tenancy.create_staff(
            s, owner, "R1", "Regional", Role.REGIONAL_MANAGER, ["S1", "S2"]
        )
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        await notify.set_contact(
            s, owner, notify.SetAlertContact(manager, "EMAIL", "m1@example.com")
        )
        await notify.set_contact(
            s, owner, notify.SetAlertContact(regional, "EMAIL", "r1@example.com")
        )
        await notify.set_quiet_hours(s, owner, notify.SetQuietHours("22:00", "08:00"))
        await raise_alerts(
            s,
            tenant.tenant_id,
            DAY,
            [
                NewAlert(tenant.locations["S1"], tenant.products["A"], LOW_STOCK, 1, 3.0, 6),
                NewAlert(
                    tenant.locations["S1"],
                    tenant.products["B"],
                    HOLIDAY,
                    0,
                    4.0,
                    6,
                    "Christmas Day",
                ),
                NewAlert(tenant.locations["S2"], tenant.products["A"], LOW_STOCK, 0, 2.0, 6),
            ],
        )
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        night = await notify.notify_alerts(s, tenant.tenant_id, NIGHT)
    assert night == {"messages": 0, "held": 3} and await _messages(tenant) == []
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        morning = await notify.notify_alerts(s, tenant.tenant_id, MORNING)
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        again = await notify.notify_alerts(s, tenant.tenant_id, MORNING)
    assert morning["messages"] == 2 and again["messages"] == 0
    (m1, body1), (r1, body2) = await _messages(tenant)
    assert (m1, r1) == ("m1@example.com", "r1@example.com")
    # the store manager gets S1's two alerts in one message; S2 has none, so its regional does
    assert body1.count("\n") == 1 and "before Christmas Day" in body1 and "S1 A" in body1
    assert body2.startswith("S2 A") and "\n" not in body2
