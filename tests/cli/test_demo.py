"""The demo platform: believable, deterministic, and safe to load twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from verbinders.application.authentication import Authenticator
from verbinders.application.tokens import list_tokens
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.demo import DEMO_TENANT, _evening, load_demo
from verbinders.demo_activities import DEMO_ACTIVITIES
from verbinders.demo_data import MEETINGS
from verbinders.errors import Unauthorized
from verbinders.runtime import runtime_on

pytestmark = pytest.mark.server


async def counts(pool: asyncpg.Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT stream_type, count(DISTINCT stream_id) AS n FROM events"
            " WHERE tenant = $1 GROUP BY 1",
            DEMO_TENANT,
        )
    return {r["stream_type"]: r["n"] for r in rows}


CUTOFF = date(2021, 7, 1)


async def test_the_demo_is_complete_and_loads_once(database: str, pool: asyncpg.Pool) -> None:
    settings = Settings(snapshot_every=0)
    now = datetime.now(UTC)
    async with runtime_on(settings, Database(pool=pool, dsn=database, embedded=False)) as runtime:
        first = await load_demo(runtime)
        assert first.token.startswith("vb_")
        assert first.created == {
            "organisations": 30,
            "memberships": 29,
            "meetings": 20,
            "calls": 3,
            "funding rounds": 18,
            "activities": len(DEMO_ACTIVITIES),
        }
        after_first = await counts(pool)
        second = await load_demo(runtime)
        assert second.created == {
            "organisations": 0,
            "memberships": 0,
            "meetings": 0,
            "calls": 0,
            "funding rounds": 0,
            "activities": 0,
        }
        after_second = await counts(pool)
        await runtime.runner.catch_up("tokens")
        tokens = await list_tokens(pool, DEMO_TENANT)
        authenticator = Authenticator(runtime.pipeline)
        assert (await authenticator.authenticate(second.token)).roles == ("coordinator",)
        with pytest.raises(Unauthorized):
            await authenticator.authenticate(first.token)
    assert after_first["Organisation"] == after_second["Organisation"] == 30
    assert after_second["Meeting"] == 20
    assert after_second["Membership"] == 29
    # Three calls, answered and claimed, once (a second run adds no response or claim).
    assert after_first["Call"] == after_second["Call"] == 3
    assert after_first["CallResponse"] == after_second["CallResponse"] > 10
    assert after_first["NeedClaim"] == after_second["NeedClaim"] == 8
    # Funding: three funds, a round a year, applications solo and joint, the whole story, once.
    assert after_first["Fund"] == after_second["Fund"] == 3
    assert after_first["FundingRound"] == 18
    assert after_first["FundingApplication"] == after_second["FundingApplication"] == 90
    async with pool.acquire() as conn:
        told = {
            r["name"]: r["n"]
            for r in await conn.fetch(
                "SELECT substring(topic from '[^.]+$') AS name, count(*) AS n FROM events"
                " WHERE tenant = $1 AND stream_type LIKE 'Funding%' GROUP BY 1",
                DEMO_TENANT,
            )
        }
        late = await conn.fetchval(
            "SELECT count(*) FROM events s JOIN events d ON d.stream_id = s.stream_id"
            " AND d.topic LIKE '%ReportDue' WHERE s.tenant = $1"
            " AND s.topic LIKE '%ReportSubmitted' AND (s.payload->>'at')::timestamptz"
            " > ((d.payload->>'due')::date + 1)",
            DEMO_TENANT,
        )
    for name in ("CoApplicantConfirmed", "ConflictDeclared", "Reviewed", "Decided", "Objected"):
        assert told.get(name, 0) > 0, name
    for name in ("Paid", "ReportSubmitted", "Settled"):
        assert told.get(name, 0) > 0, name
    assert told["Decided"] > told["Objected"]  # reconsidered decisions among them
    assert late > 0  # a late report
    # Activities 2020-2026 with hours and overlap cases opened by the policy, some answered:
    # joined forces, coordinated, one lapsed when its activity was cancelled, one still open.
    for kind in ("Activity", "HoursEntry", "OverlapCase"):
        assert after_first[kind] == after_second[kind] > 0, kind
    async with pool.acquire() as conn:
        ended = await conn.fetch(
            "SELECT split_part(topic, '.', -1) AS kind, payload->>'outcome' AS outcome"
            " FROM events WHERE tenant = $1 AND stream_type = 'OverlapCase'"
            " AND topic SIMILAR TO '%(Resolved|Closed)'",
            DEMO_TENANT,
        )
        opened = await conn.fetchval(
            "SELECT count(*) FROM events WHERE tenant = $1 AND topic LIKE '%OverlapCase.Opened'",
            DEMO_TENANT,
        )
    outcomes = sorted(r["outcome"] or r["kind"] for r in ended)
    assert {"joined-forces", "coordinated", "Closed"} <= set(outcomes), outcomes
    assert opened > len(ended)  # one at least still open
    # Only a new demo coordinator token (the old one revoked) is added by a second run.
    assert after_second["AccessToken"] == after_first["AccessToken"] + 1
    async with pool.acquire() as conn:
        kinds = await conn.fetch(
            "SELECT payload->>'kind' AS kind, count(*) FROM events WHERE tenant = $1"
            " AND topic LIKE '%Organisation.Registered' GROUP BY 1",
            DEMO_TENANT,
        )
        online = await conn.fetchval(
            "SELECT count(*) FROM events WHERE tenant = $1 AND topic LIKE '%Meeting.Scheduled'"
            " AND payload->>'mode' = 'online' AND payload->>'starts_at' < '2021-07-01'",
            DEMO_TENANT,
        )
        with_strengths = await conn.fetchval(
            "SELECT count(DISTINCT stream_id) FROM events WHERE tenant = $1"
            " AND topic LIKE '%Organisation.StrengthAdded'",
            DEMO_TENANT,
        )
        attended = await conn.fetchval(
            "SELECT count(DISTINCT stream_id) FROM events WHERE tenant = $1"
            " AND topic LIKE '%Meeting.AttendanceRecorded'",
            DEMO_TENANT,
        )
        first_admitted = await conn.fetchval(
            "SELECT min(payload->>'at') FROM events WHERE tenant = $1"
            " AND topic LIKE '%Membership.Admitted'",
            DEMO_TENANT,
        )
        people = await conn.fetch(
            "SELECT subject FROM personal_keys WHERE tenant = $1", DEMO_TENANT
        )
    assert {r["kind"] for r in kinds} == {
        "self-organisation",
        "formal-organisation",
        "municipality",
        "fund",
    }
    assert online == sum(1 for day, _, mode in MEETINGS if mode == "online" and day < CUTOFF)
    assert with_strengths == 30  # every organisation offers something
    held = sum(1 for day, _, _ in MEETINGS if _evening(day) + timedelta(hours=2) < now)
    assert attended == held  # every meeting held so far has its attendance
    assert first_admitted.startswith("2019-12")
    # Fixed ids everywhere, also for the contact persons: a second machine loads the same demo.
    assert len(people) == 5
    assert all(row["subject"].version == 5 for row in people)  # uuid5: from the demo's names
    active = [t for t in tokens if t.revoked_at is None and t.label == "demo coordinator"]
    assert len(active) == 1
