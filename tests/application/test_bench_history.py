"""The benchmarks' history generator (bench/history.py) writes events the product reads back:
every aggregate loads from them, and the read models are built from them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from verbinders.domain.membership import Membership, membership_id
from verbinders.domain.organisations import Organisation

if TYPE_CHECKING:
    from verbinders.runtime import Runtime

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

from history import generate


async def test_a_small_history_loads_back_and_projects(runtime: Runtime) -> None:
    history = await generate(runtime, 300, platforms=1, calls=False, progress=False)

    assert history.events >= 300
    tenant = history.tenants[0]
    async with runtime.pool.acquire() as conn:
        ids = await conn.fetch(
            "SELECT DISTINCT stream_id FROM events WHERE stream_type = 'Organisation'"
        )
        topics = {r[0] for r in await conn.fetch("SELECT DISTINCT topic FROM events")}
    assert len(ids) == history.organisations > 0
    assert any("AttendanceRecorded" in t for t in topics)
    assert any("Admitted" in t for t in topics)
    members = 0
    for row in ids:
        organisation = await runtime.repository.get(Organisation, row[0], tenant=tenant)
        assert organisation.contacts  # sealed with their keys, and opened again
        membership = await runtime.repository.find(
            Membership, membership_id(tenant, organisation.id), tenant=tenant
        )
        members += membership is not None and membership.is_member
    assert {m for m, _ in history.members[tenant]} and members == len(history.members[tenant])
    await runtime.runner.prepare()
    for name in runtime.runner.projections:
        await runtime.runner.catch_up(name, timeout=30)
    async with runtime.pool.acquire() as conn:
        listed = await conn.fetchval(
            "SELECT count(*) FROM directory.organisations WHERE tenant = $1 AND valid_to IS NULL",
            tenant,
        )
    assert listed == history.organisations
