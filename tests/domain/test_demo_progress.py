"""The demo load reports its progress, so `make run` can show a bar instead of silence."""

from __future__ import annotations

import uuid

from domain import demo_data
from domain.demo import FIXED_STEPS, load_demo


async def test_the_demo_load_reports_every_step_up_to_the_total(db, monkeypatch):
    monkeypatch.setattr(demo_data, "TENANT_CODE", "demo-" + uuid.uuid4().hex[:8])
    seen: list[tuple[str, int, int]] = []
    async with db.owner_sessions() as session:
        await session.begin()
        try:
            result = await load_demo(
                session, days=3, product_count=12, progress=lambda *step: seen.append(step)
            )
        finally:
            await session.rollback()  # a small chain, kept nowhere
    total = 3 + FIXED_STEPS
    assert result.products == 12 and result.sales > 0
    assert seen[0] == ("catalog", 0, total)
    assert seen[-1] == ("done", total, total)
    assert [done for _, done, _ in seen] == list(range(total + 1))
    assert {t for _, _, t in seen} == {total}
    labels = [label for label, _, _ in seen]
    assert labels[1:4] == ["staff, partner apps and members", "opening stock", "3 days of sales"]
    assert labels[4].startswith("sales up to ")
    assert labels[-2] == "suppliers and purchase history"
