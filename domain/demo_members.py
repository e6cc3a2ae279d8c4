"""The demo chain's members: made through the members domain, so sealed like real ones."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from domain.members import service as members
from domain.members.consent import Channel
from domain.members.tags import recompute_tenant

SURNAMES = ("陳", "李", "張", "黃", "何", "林", "梁", "吳", "劉", "鄭", "蔡", "馮")
GIVEN = (
    "嘉欣",
    "志明",
    "美玲",
    "家豪",
    "詠琪",
    "俊傑",
    "慧敏",
    "子軒",
    "曉彤",
    "偉強",
    "雅婷",
    "浩然",
    "凱琳",
    "振華",
    "淑儀",
    "文傑",
)
COUNT = 150


async def create_members(
    session: AsyncSession,
    tenant_id: int,
    master: bytes,
    stores: dict[str, int],
    rng: random.Random,
) -> list[int]:
    """Members across the stores, with consent to some channels; returns their ids."""
    system = Caller.system(tenant_id)
    created = []
    codes = sorted(stores)
    for i in range(COUNT):
        home = codes[i % len(codes)]
        macau = home.startswith("MO-")
        phone = (
            f"+853 6{rng.randrange(1_000_000, 9_999_999)}"
            if macau
            else (f"+852 9{rng.randrange(1_000_000, 9_999_999)}")
        )
        consents = tuple(
            members.ConsentChoice(channel, rng.random() < share, "2026-01")
            for channel, share in ((Channel.SMS, 0.6), (Channel.EMAIL, 0.4), (Channel.CHAT, 0.2))
        )
        change = await members.create_member(
            session,
            system,
            master,
            members.CreateMember(
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                phone=phone,
                email=f"member{i + 1:03d}@example.com" if rng.random() < 0.7 else None,
                birthday=f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                home_location_id=stores[home],
                tier="GOLD" if i % 10 == 0 else None,
                consents=consents,
            ),
        )
        created.append(int(change.row.id))
    return created


async def tag_members(session: AsyncSession, tenant_id: int, now: datetime) -> int:
    return await recompute_tenant(session, tenant_id, now=now)
