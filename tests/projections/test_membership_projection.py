"""The membership read model: tables, growth on a hand-made history, replay equality, history.

`History` builds a platform's past through the domain with explicit moments (`at`), as the
demo or an import of the paper register would; the API tests use it too.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from verbinders.domain.membership import Membership, membership_id
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform
from verbinders.domain.vocabulary import (
    DEFAULT_DISTRICTS,
    DEFAULT_THEMES,
    OrganisationKind,
    Vocabulary,
)
from verbinders.projections.engine import ProjectionRunner, replay, wait_for_projection
from verbinders.projections.membership import MembershipProjection
from verbinders.projections.membership_queries import growth, register_page
from verbinders.projections.reading import Reading
from verbinders.store.events import Metadata
from verbinders.store.subscription import FeedSignal

if TYPE_CHECKING:
    from verbinders.store.eventstore import EventStore
    from verbinders.store.repository import Repository

VOCABULARY = Vocabulary(districts=DEFAULT_DISTRICTS, themes=DEFAULT_THEMES)
COORDINATOR = "platform-coordinator"
CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))
REGISTERED = datetime(2019, 11, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@dataclass
class History:
    """Records organisations and memberships with explicit moments, one append each."""

    repository: Repository
    store: EventStore
    tenant: str
    memberships: dict[str, Membership] = field(default_factory=dict)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    last_position: int = 0

    async def save(self, *aggregates: Any, actor: str = COORDINATOR) -> int:
        async with self.store.transaction() as conn:
            positions = await self.repository.save(
                *aggregates,
                metadata=Metadata(tenant=self.tenant, actor=actor, reason="history"),
                connection=conn,
            )
        self.last_position = max([self.last_position, *positions])
        return self.last_position

    async def platform(self, started_on: date = date(2019, 12, 1)) -> None:
        await self.save(
            Platform.create(
                tenant=self.tenant,
                name=f"Platform {self.tenant}",
                city="Haarlem",
                started_on=started_on,
                at=utc(2019, 11, 1),
            )
        )

    async def organisation(
        self,
        key: str,
        kind: OrganisationKind,
        *,
        at: datetime = REGISTERED,
        organisation_id: uuid.UUID | None = None,
        name: str | None = None,
    ) -> uuid.UUID:
        organisation = Organisation.register(
            organisation_id=organisation_id or uuid.uuid4(),
            tenant=self.tenant,
            kind=kind,
            name=name or f"Organisation {key}",
            vocabulary=VOCABULARY,
            at=at,
        )
        await self.save(organisation)
        self.ids[key] = organisation.id
        return organisation.id

    async def apply(self, key: str, at: datetime, motivation: str = "samen sterker") -> int:
        membership = self.memberships.get(key)
        if membership is None:
            membership = Membership.apply_for(
                tenant=self.tenant, organisation_id=self.ids[key], motivation=motivation, at=at
            )
            self.memberships[key] = membership
        else:
            membership.reapply(motivation=motivation, at=at)
        return await self.save(membership, actor=str(self.ids[key]))

    async def decide(
        self, key: str, action: str, at: datetime, reason: str = "besloten in de bijeenkomst"
    ) -> int:
        membership = self.memberships[key]
        getattr(membership, action)(reason=reason, decided_by=COORDINATOR, at=at)
        return await self.save(membership)

    async def leave(self, key: str, at: datetime) -> int:
        self.memberships[key].leave(at=at, reason="we stoppen")
        return await self.save(self.memberships[key], actor=str(self.ids[key]))

    async def withdraw(self, key: str, at: datetime) -> int:
        self.memberships[key].withdraw_application(at=at, reason="later")
        return await self.save(self.memberships[key], actor=str(self.ids[key]))


SELF = OrganisationKind.SELF_ORGANISATION
FORMAL = OrganisationKind.FORMAL_ORGANISATION
MUNICIPALITY = OrganisationKind.MUNICIPALITY
FUND = OrganisationKind.FUND


async def hand_made_history(
    history: History, *, part: int | None = None, platform: bool = True
) -> int:
    """Eight organisations over 2019–2023 (see `test_growth_of_the_hand_made_history` for
    the numbers). `part` 1 or 2 records only the first or the second half; `platform` False
    when the platform (started 1 December 2019) exists already."""
    h = history
    if part in (None, 1):
        if platform:
            await h.platform()
        for key, kind in [
            ("A", SELF),
            ("B", SELF),
            ("C", FORMAL),
            ("D", MUNICIPALITY),
            ("E", FUND),
            ("F", SELF),
            ("G", SELF),
            ("H", SELF),
        ]:
            await h.organisation(key, kind)
        await h.apply("A", utc(2019, 11, 20))
        await h.decide("A", "admit", utc(2019, 12, 2, 19))
        await h.apply("D", utc(2019, 12, 2, 12))
        await h.decide("D", "admit", utc(2019, 12, 2, 20))
        await h.apply("B", utc(2019, 12, 5))
        await h.decide("B", "admit", utc(2020, 1, 15))
        # 23:30 UTC on 31 January is 00:30 on 1 February in Haarlem: a February join.
        await h.apply("F", utc(2020, 1, 20))
        await h.decide("F", "admit", utc(2020, 1, 31, 23, 30))
        await h.apply("C", utc(2020, 3, 1))
        await h.decide("C", "reject", utc(2020, 3, 20), "nog geen zelforganisatie-achterban")
        await h.apply("C", utc(2020, 10, 1))
        await h.decide("C", "admit", utc(2020, 10, 10))
        # Likewise a join in 2021, not in 2020.
        await h.apply("G", utc(2020, 12, 15))
        await h.decide("G", "admit", utc(2020, 12, 31, 23, 30))
    if part in (None, 2):
        await h.apply("E", utc(2021, 1, 5))
        await h.decide("E", "admit", utc(2021, 2, 1))
        await h.decide("A", "suspend", utc(2021, 5, 1), "geen jaarverslag")
        await h.leave("B", utc(2021, 6, 30, 10))
        await h.decide("A", "reinstate", utc(2021, 9, 1), "jaarverslag ontvangen")
        await h.apply("B", utc(2022, 2, 1))
        await h.decide("B", "admit", utc(2022, 3, 1))
        # 22:30 UTC on 31 March 2023 is 00:30 on 1 April in Haarlem (summer time).
        await h.leave("E", utc(2023, 3, 31, 22, 30))
        await h.apply("H", utc(2023, 6, 1))
        await h.withdraw("H", utc(2023, 6, 10))
    return h.last_position


TABLES = MembershipProjection.tables


async def dump(conn: asyncpg.Connection, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    result = {}
    for table in TABLES:
        rows = await conn.fetch(f'SELECT * FROM "{schema}"."{table}"')
        result[table] = sorted((tuple(r.values()) for r in rows), key=repr)
    return result


def month(report: Any, year: int, number: int) -> Any:
    [row] = [m for m in report.months if m.month == date(year, number, 1)]
    return row


def year_of(report: Any, year: int) -> Any:
    [row] = [y for y in report.years if y.year == year]
    return row


@pytest.fixture
async def history(repository: Repository, store: EventStore) -> History:
    return History(repository, store, "haarlem")


async def test_tables_follow_every_transition(
    history: History, store: EventStore, database: str
) -> None:
    await hand_made_history(history)
    conn = await asyncpg.connect(database)
    try:
        await replay(conn, MembershipProjection())
        a = history.ids["A"]
        steps = await conn.fetch(
            "SELECT event, status, effective_from, effective_until, decided_by, reason"
            " FROM membership.transitions WHERE organisation_id = $1 AND valid_to IS NULL"
            " ORDER BY version",
            a,
        )
        assert [(s["event"], s["status"]) for s in steps] == [
            ("Applied", "applied"),
            ("Admitted", "member"),
            ("Suspended", "suspended"),
            ("Reinstated", "member"),
        ]
        # Each status is valid until the next one takes effect: no gaps, no overlaps.
        for before, after in itertools.pairwise(steps):
            assert before["effective_until"] == after["effective_from"]
        assert steps[-1]["effective_until"] is None
        assert steps[0]["decided_by"] == str(a)  # the organisation applied itself
        assert steps[2]["decided_by"] == COORDINATOR
        assert steps[2]["reason"] == "geen jaarverslag"
        b_periods = await conn.fetch(
            "SELECT since, until FROM membership.periods WHERE organisation_id = $1"
            " AND valid_to IS NULL ORDER BY since",
            history.ids["B"],
        )
        assert [(p["since"], p["until"]) for p in b_periods] == [
            (utc(2020, 1, 15), utc(2021, 6, 30, 10)),
            (utc(2022, 3, 1), None),
        ]
        suspensions = await conn.fetch(
            "SELECT since, until FROM membership.suspensions WHERE valid_to IS NULL"
        )
        assert [(s["since"], s["until"]) for s in suspensions] == [
            (utc(2021, 5, 1), utc(2021, 9, 1))
        ]
        b = await conn.fetchrow(
            "SELECT * FROM membership.memberships WHERE organisation_id = $1 AND valid_to IS NULL",
            history.ids["B"],
        )
        assert b["status"] == "member"
        assert b["member_since"] == utc(2022, 3, 1)
        assert b["first_admitted_at"] == utc(2020, 1, 15)
        assert b["version"] == 5
        e = await conn.fetchrow(
            "SELECT * FROM membership.memberships WHERE organisation_id = $1 AND valid_to IS NULL",
            history.ids["E"],
        )
        assert (e["status"], e["member_since"]) == ("left", None)
        assert await conn.fetchval(
            "SELECT started_on FROM membership.platforms WHERE valid_to IS NULL"
        ) == date(2019, 12, 1)
    finally:
        await conn.close()


async def test_growth_of_the_hand_made_history(
    history: History, store: EventStore, database: str
) -> None:
    await hand_made_history(history)
    conn = await asyncpg.connect(database)
    try:
        await replay(conn, MembershipProjection())
        report = await growth(Reading(conn=conn, name="membership"), "haarlem")
        assert report.started_on == date(2019, 12, 1)
        assert report.months[0].month == date(2019, 12, 1)
        assert report.months[-1].month.year == datetime.now(UTC).year
        expected_members = {
            (2019, 12): 2,  # A and D
            (2020, 1): 3,  # + B (F joins on 1 February in Haarlem)
            (2020, 2): 4,  # + F
            (2020, 9): 4,
            (2020, 10): 5,  # + C
            (2020, 12): 5,  # G joins on 1 January 2021 in Haarlem
            (2021, 1): 6,
            (2021, 2): 7,  # + E
            (2021, 5): 7,  # A suspended, still a member
            (2021, 6): 6,  # B left
            (2022, 2): 6,
            (2022, 3): 7,  # B back
            (2023, 3): 7,  # E left at 00:30 on 1 April in Haarlem
            (2023, 4): 6,
            (2024, 1): 6,
        }
        for (y, m), members in expected_members.items():
            assert month(report, y, m).members == members, (y, m)
        assert month(report, 2021, 2).by_kind == {
            "self-organisation": 4,
            "formal-organisation": 1,
            "municipality": 1,
            "fund": 1,
        }
        assert month(report, 2019, 12).by_kind == {
            "self-organisation": 1,
            "formal-organisation": 0,
            "municipality": 1,
            "fund": 0,
        }
        assert [month(report, 2021, m).suspended for m in (4, 5, 8, 9)] == [0, 1, 1, 0]
        assert [(y.year, y.joins, y.leaves) for y in report.years[:5]] == [
            (2019, 2, 0),
            (2020, 3, 0),
            (2021, 2, 1),
            (2022, 1, 0),
            (2023, 0, 1),
        ]
        assert year_of(report, 2020).joins_by_kind == {
            "self-organisation": 2,
            "formal-organisation": 1,
            "municipality": 0,
            "fund": 0,
        }
        assert year_of(report, 2021).joins_by_kind["fund"] == 1
        assert year_of(report, 2023).leaves_by_kind["fund"] == 1

        # As the platform stood on 1 March 2021: months end there, B has not left yet.
        then = await growth(
            Reading(conn=conn, name="membership"), "haarlem", at=datetime(2021, 3, 1, tzinfo=CET)
        )
        assert then.months[-1].month == date(2021, 3, 1)
        assert then.months[-1].members == 7
        assert [(y.year, y.joins, y.leaves) for y in then.years] == [
            (2019, 2, 0),
            (2020, 3, 0),
            (2021, 2, 0),
        ]
        # Mid-month: the running month is counted at the moment asked about.
        mid = await growth(Reading(conn=conn, name="membership"), "haarlem", at=utc(2020, 10, 5))
        assert mid.months[-1].members == 4
        assert mid.years[-1].joins == 3 - 1  # C joins on 10 October
        before = await growth(Reading(conn=conn, name="membership"), "haarlem", at=utc(2019, 6, 1))
        assert before.months == [] and before.years == []
        elsewhere = await growth(Reading(conn=conn, name="membership"), "zaanstad")
        assert elsewhere.started_on is None
        assert all(m.members == 0 for m in elsewhere.months)
    finally:
        await conn.close()


async def test_the_register_now_and_as_it_stood(
    history: History, store: EventStore, database: str
) -> None:
    await hand_made_history(history)
    conn = await asyncpg.connect(database)
    try:
        await replay(conn, MembershipProjection())
        total, now = await register_page(Reading(conn=conn, name="membership"), "haarlem")
        assert total == 8
        status = {e.name[-1]: e.status for e in now}
        assert status == {
            "A": "member",
            "B": "member",
            "C": "member",
            "D": "member",
            "E": "left",
            "F": "member",
            "G": "member",
            "H": "withdrawn",
        }
        total, then = await register_page(
            Reading(conn=conn, name="membership"), "haarlem", at=datetime(2020, 3, 25, tzinfo=CET)
        )
        assert total == 5
        assert {e.name[-1]: e.status for e in then} == {
            "A": "member",
            "B": "member",
            "C": "rejected",
            "D": "member",
            "F": "member",
        }
        [c] = [e for e in then if e.name.endswith("C")]
        assert (c.reason, c.decided_by) == ("nog geen zelforganisatie-achterban", COORDINATOR)
        _, summer = await register_page(
            Reading(conn=conn, name="membership"), "haarlem", at=datetime(2021, 7, 1, tzinfo=CEST)
        )
        b = next(e for e in summer if e.name.endswith("B"))
        assert (b.status, b.member_since, b.first_admitted_at) == ("left", None, utc(2020, 1, 15))
        _, suspended = await register_page(
            Reading(conn=conn, name="membership"),
            "haarlem",
            at=utc(2021, 6, 1),
            statuses=["suspended"],
        )
        assert [(e.name, e.member_since) for e in suspended] == [
            ("Organisation A", utc(2019, 12, 2, 19))
        ]
        total, selves = await register_page(
            Reading(conn=conn, name="membership"),
            "haarlem",
            kinds=["self-organisation"],
            statuses=["member"],
        )
        assert total == 4
        assert {e.kind for e in selves} == {"self-organisation"}
        total, page = await register_page(
            Reading(conn=conn, name="membership"), "haarlem", limit=3, offset=6
        )
        assert total == 8 and [e.name for e in page] == ["Organisation G", "Organisation H"]
    finally:
        await conn.close()


async def test_replay_equals_the_live_read_model_and_history_as_recorded(
    history: History, store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    """Fed live in small batches while history is recorded, or replayed at once from the
    first event, the tables are the same; and a replay up to a position equals the live
    tables as they were at that position."""
    signal = FeedSignal(database, poll_interval=0.1)
    store.local_listeners.append(signal.poke)
    runner = ProjectionRunner(
        store, signal, [MembershipProjection()], lambda: asyncpg.connect(database), batch_size=3
    )
    stop = asyncio.Event()
    conn = await asyncpg.connect(database)
    try:
        async with signal:
            task = asyncio.create_task(runner.run(stop))
            halfway = await hand_made_history(history, part=1)
            assert await wait_for_projection(pool, "membership", halfway, timeout=20)
            live_then = await dump(conn, "membership")
            end = await hand_made_history(history, part=2)
            # Another platform's events in between change nothing here.
            other = History(history.repository, store, "zaanstad")
            await other.platform()
            await other.organisation("Z", SELF)
            await other.apply("Z", utc(2020, 5, 1))
            assert await wait_for_projection(pool, "membership", other.last_position, timeout=20)
            live = await dump(conn, "membership")
            stop.set()
            await task
        assert end < other.last_position
        # One current version per transition (the "valid_to" column is the last).
        assert len([t for t in live["transitions"] if t[-1] is None]) == 25
        past = await replay(conn, MembershipProjection(), until_position=halfway, tenant="haarlem")
        assert past.state == "historical"
        assert await dump(conn, past.schema_name) == live_then
        rebuilt = await replay(conn, MembershipProjection())
        assert rebuilt.state == "active"
        assert await dump(conn, rebuilt.schema_name) == live
        # The report from the history as recorded halfway equals the live one asked then.
        at = utc(2021, 1, 1, 12)
        assert await growth(
            Reading(conn=conn, name=past.schema_name), "haarlem", at=at
        ) == await growth(Reading(conn=conn, name="membership"), "haarlem", at=at)
        # And the live read model as of that position answers the same, with no replay.
        assert await growth(
            Reading(conn=conn, name="membership", position=halfway), "haarlem", at=at
        ) == await growth(Reading(conn=conn, name=past.schema_name), "haarlem", at=at)
    finally:
        await conn.close()


async def test_same_moment_transitions_keep_the_latest(
    history: History, store: EventStore, database: str
) -> None:
    """Transitions at one moment (allowed: time only must not go back) leave the latest
    status valid at that moment, and a zero-length period counts nowhere."""
    await history.platform()
    await history.organisation("Q", SELF)
    moment = utc(2022, 5, 1, 12)
    await history.apply("Q", moment)
    await history.decide("Q", "admit", moment)
    await history.leave("Q", moment)
    conn = await asyncpg.connect(database)
    try:
        await replay(conn, MembershipProjection())
        _, at_moment = await register_page(
            Reading(conn=conn, name="membership"), "haarlem", at=moment
        )
        assert [(e.status, e.member_since) for e in at_moment] == [("left", None)]
        report = await growth(Reading(conn=conn, name="membership"), "haarlem")
        assert month(report, 2022, 5).members == 0
        assert year_of(report, 2022).joins == 1 and year_of(report, 2022).leaves == 1
        assert membership_id("haarlem", history.ids["Q"]) == history.memberships["Q"].id
    finally:
        await conn.close()
