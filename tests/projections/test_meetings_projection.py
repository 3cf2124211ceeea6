"""The meetings read model: fed event by event it equals a rebuild from scratch, per tenant too."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from verbinders.application import meetings as service
from verbinders.application.commands import Command
from verbinders.application.context import Actor
from verbinders.application.organisations import register_organisation, update_organisation
from verbinders.application.pipeline import Pipeline
from verbinders.application.unit_of_work import UnitOfWork
from verbinders.database import init_connection
from verbinders.domain.meetings import AgendaItem, AttendanceStatus, MeetingMode, Votes
from verbinders.domain.membership import Membership, membership_id
from verbinders.domain.platform import Platform
from verbinders.domain.profile import ProfileChanges
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.projections.engine import (
    Generation,
    build_generation,
    create_generation,
    replay,
    try_lead,
)
from verbinders.projections.meetings import MeetingsProjection
from verbinders.store.eventstore import EventStore
from verbinders.store.repository import Repository

NOW = datetime.now(UTC).replace(microsecond=0)
Step = Callable[[UnitOfWork], Awaitable[Any]]


class Feed:
    """Commands through the pipeline, one unit of work each; after each, the live generation
    takes what is new."""

    def __init__(
        self,
        store: EventStore,
        repository: Repository,
        conn: asyncpg.Connection,
        live: Generation,
    ) -> None:
        self.store, self.repository, self.conn, self.live = store, repository, conn, live

    async def __call__(self, tenant: str, step: Step) -> Any:
        async def body(uow: UnitOfWork) -> Any:
            return await step(uow)

        result = await Pipeline(self.repository).run(
            Command(body, writes_once=False), Actor.operator(tenant, "tests")
        )
        await build_generation(self.conn, MeetingsProjection(), self.live, batch_size=2)
        return result


async def rows(conn: asyncpg.Connection, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in await conn.fetch(
            f'SELECT row_to_json(t)::text FROM "{schema}"."{table}" t ORDER BY 1'
        )
    ]


async def snapshot(conn: asyncpg.Connection, schema: str) -> dict[str, list[str]]:
    return {table: await rows(conn, schema, table) for table in MeetingsProjection.tables}


async def history(feed: Feed, tenant: str) -> dict[str, uuid.UUID]:
    """A platform's worth of meetings, organisations and memberships, with every kind of event."""
    ids: dict[str, uuid.UUID] = {}

    async def platform(ctx: UnitOfWork) -> None:
        ctx.save(
            Platform.create(
                tenant=tenant,
                name=f"Verbinders {tenant}",
                city=tenant.title(),
                started_on=date(2019, 12, 1),
                at=NOW - timedelta(days=800),
            )
        )

    await feed(tenant, platform)
    for key, name in (("a", "Stichting Amal"), ("b", "Buurtvaders"), ("c", "Cultuurhuis")):
        result = await feed(
            tenant,
            lambda ctx, name=name: register_organisation(
                ctx, kind=OrganisationKind.SELF_ORGANISATION, name=name
            ),
        )
        ids[key] = uuid.UUID(result.id)

    async def memberships(ctx: UnitOfWork) -> None:
        start = NOW - timedelta(days=700)
        for key in ("a", "b"):
            membership = Membership.apply_for(
                tenant=tenant, organisation_id=ids[key], motivation="meedoen", at=start
            )
            membership.admit(reason="welkom", decided_by="platform", at=start + timedelta(days=1))
            ctx.save(membership)

    await feed(tenant, memberships)

    async def b_leaves_and_returns(ctx: UnitOfWork) -> None:
        membership = await ctx.get(Membership, membership_id(tenant, ids["b"]))
        membership.leave(at=NOW - timedelta(days=300), reason="te druk")
        membership.reapply(motivation="weer tijd", at=NOW - timedelta(days=200))
        membership.admit(reason="welkom terug", decided_by="platform", at=NOW - timedelta(days=199))
        ctx.save(membership)

    await feed(tenant, b_leaves_and_returns)
    await feed(
        tenant,
        lambda ctx: update_organisation(ctx, ids["c"], ProfileChanges(name="Cultuurhuis Noord")),
    )

    held = await feed(
        tenant,
        lambda ctx: service.schedule_meeting(
            ctx,
            title="Bijeenkomst over armoede",
            starts_at=NOW - timedelta(days=30),
            ends_at=NOW - timedelta(days=30, hours=-2),
            mode=MeetingMode.HYBRID,
            venue="Bibliotheek Schalkwijk",
            online_link="https://meet.example.nl/armoede",
            agenda=[AgendaItem(title="Voedselbank"), AgendaItem(title="Rondvraag")],
        ),
    )
    ids["held"] = uuid.UUID(held.id)
    upcoming = await feed(
        tenant,
        lambda ctx: service.schedule_meeting(
            ctx,
            title="Nieuwjaarsbijeenkomst",
            starts_at=NOW + timedelta(days=30),
            ends_at=NOW + timedelta(days=30, hours=3),
            mode=MeetingMode.IN_PERSON,
            venue="Philharmonie",
        ),
    )
    ids["upcoming"] = uuid.UUID(upcoming.id)
    meeting = ids["held"]
    for org, status, people in (
        ("a", AttendanceStatus.ABSENT_WITHOUT_NOTICE, None),
        ("b", AttendanceStatus.PRESENT, 2),
        ("a", AttendanceStatus.PRESENT, 4),  # a correction
        ("c", AttendanceStatus.ABSENT_WITH_NOTICE, None),
    ):
        await feed(
            tenant,
            lambda ctx, org=org, status=status, people=people: service.record_attendance(
                ctx, meeting, ids[org], status, people=people
            ),
        )
    await feed(
        tenant,
        lambda ctx: service.record_decision(
            ctx,
            meeting,
            text="Eén inzamelpunt voor de voedselbank",
            reason="Drie inzamelingen overlapten",
            votes=Votes(in_favour=7, abstained=1),
        ),
    )
    await feed(
        tenant,
        lambda ctx: service.record_decision(
            ctx, meeting, text="Volgende keer online", reason="Minder reistijd"
        ),
    )
    await feed(tenant, lambda ctx: service.publish_minutes(ctx, meeting, "Verslag ..."))
    soon = ids["upcoming"]
    await feed(
        tenant,
        lambda ctx: service.record_attendance(
            ctx, soon, ids["c"], AttendanceStatus.ABSENT_WITH_NOTICE
        ),
    )
    await feed(
        tenant,
        lambda ctx: service.change_agenda(ctx, soon, [AgendaItem(title="Toost", description="")]),
    )
    await feed(
        tenant,
        lambda ctx: service.reschedule_meeting(
            ctx,
            soon,
            starts_at=NOW + timedelta(days=31),
            ends_at=NOW + timedelta(days=31, hours=3),
            reason="Zaal bezet",
        ),
    )
    await feed(tenant, lambda ctx: service.cancel_meeting(ctx, soon, reason="Griepgolf"))
    return ids


@pytest.fixture
async def conn(database: str) -> Any:
    connection = await asyncpg.connect(database)
    await init_connection(connection)
    try:
        yield connection
    finally:
        await connection.close()


async def test_the_live_model_equals_a_rebuild_from_scratch(
    store: EventStore, repository: Repository, conn: asyncpg.Connection
) -> None:
    projection = MeetingsProjection()
    live = await create_generation(conn, projection, state="active")
    assert await try_lead(conn, live)
    feed = Feed(store, repository, conn, live)
    haarlem = await history(feed, "haarlem")
    await history(feed, "zaanstad")
    live_rows = await snapshot(conn, "meetings")  # the readers' views
    assert live_rows == await snapshot(conn, live.schema_name)

    until = await store.last_position()
    for batch_size in (5000, 1):
        rebuilt = await replay(conn, projection, until_position=until, batch_size=batch_size)
        assert rebuilt.state == "historical"
        assert await snapshot(conn, rebuilt.schema_name) == live_rows

    # What the rows say, for one platform.
    held = await conn.fetchrow(
        "SELECT * FROM meetings.meetings WHERE tenant = 'haarlem' AND id = $1 AND valid_to IS NULL",
        haarlem["held"],
    )
    assert held is not None
    assert held["minutes"] == "Verslag ..." and held["mode"] == "hybrid"
    assert held["agenda"] == [
        {"title": "Voedselbank", "description": ""},
        {"title": "Rondvraag", "description": ""},
    ]
    attendance = {
        r["organisation_id"]: (r["status"], r["people"])
        for r in await conn.fetch(
            "SELECT * FROM meetings.attendance WHERE tenant = 'haarlem' AND meeting_id = $1"
            " AND valid_to IS NULL",
            haarlem["held"],
        )
    }
    assert attendance == {
        haarlem["a"]: ("present", 4),
        haarlem["b"]: ("present", 2),
        haarlem["c"]: ("absent-with-notice", None),
    }
    decisions = await conn.fetch(
        "SELECT * FROM meetings.decisions WHERE tenant = 'haarlem' AND valid_to IS NULL"
        " ORDER BY meeting_version"
    )
    assert [(d["text"], d["grounds"], d["votes_in_favour"]) for d in decisions] == [
        ("Eén inzamelpunt voor de voedselbank", "Drie inzamelingen overlapten", 7),
        ("Volgende keer online", "Minder reistijd", None),
    ]
    assert {d["recorded_by"] for d in decisions} == {"operator:tests"}
    soon = await conn.fetchrow(
        "SELECT * FROM meetings.meetings WHERE tenant = 'haarlem' AND id = $1 AND valid_to IS NULL",
        haarlem["upcoming"],
    )
    assert soon is not None
    assert (soon["reschedules"], soon["last_reschedule"]) == (1, "Zaal bezet")
    assert (soon["cancel_reason"], soon["cancelled_by"]) == ("Griepgolf", "operator:tests")
    assert soon["starts_at"] == NOW + timedelta(days=31)
    assert soon["meeting_version"] == 5
    # The notice of absence was dropped when the meeting moved.
    assert not await conn.fetchval(
        "SELECT count(*) FROM meetings.attendance WHERE meeting_id = $1 AND valid_to IS NULL",
        haarlem["upcoming"],
    )
    periods = await conn.fetch(
        "SELECT p.since, p.until FROM meetings.membership_periods p"
        " JOIN meetings.memberships m ON m.tenant = p.tenant AND m.id = p.membership_id"
        " WHERE m.tenant = 'haarlem' AND m.organisation_id = $1"
        " AND m.valid_to IS NULL AND p.valid_to IS NULL ORDER BY p.since",
        haarlem["b"],
    )
    assert [(p["since"], p["until"]) for p in periods] == [
        (NOW - timedelta(days=699), NOW - timedelta(days=300)),
        (NOW - timedelta(days=199), None),
    ]
    assert (
        await conn.fetchval(
            "SELECT name FROM meetings.organisations WHERE tenant = 'haarlem' AND id = $1"
            " AND valid_to IS NULL",
            haarlem["c"],
        )
        == "Cultuurhuis Noord"
    )


async def test_a_tenants_history_holds_only_that_tenants_rows(
    store: EventStore, repository: Repository, conn: asyncpg.Connection
) -> None:
    projection = MeetingsProjection()
    live = await create_generation(conn, projection, state="active")
    assert await try_lead(conn, live)
    feed = Feed(store, repository, conn, live)
    await history(feed, "haarlem")
    halfway = await store.last_position()
    await history(feed, "zaanstad")
    mine = await replay(conn, projection, until_position=halfway, tenant="zaanstad")
    assert await conn.fetchval(f'SELECT count(*) FROM "{mine.schema_name}".meetings') == 0
    theirs = await replay(conn, projection, tenant="zaanstad")
    rebuilt = await snapshot(conn, theirs.schema_name)
    assert rebuilt == {
        table: [row for row in live_rows if '"tenant":"zaanstad"' in row]
        for table, live_rows in (await snapshot(conn, "meetings")).items()
    }
    assert all(rebuilt.values())
