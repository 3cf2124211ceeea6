"""The directory read model: fed command by command it equals a rebuild from scratch, per tenant
too, and its rows say what the aggregates say."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from verbinders.application import membership as membership_service
from verbinders.application import organisations as service
from verbinders.application.commands import Command
from verbinders.application.context import Actor, CommandResult
from verbinders.application.pipeline import Pipeline
from verbinders.application.unit_of_work import UnitOfWork
from verbinders.database import init_connection
from verbinders.domain.membership import Membership, membership_id
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform
from verbinders.domain.profile import Profile, ProfileChanges
from verbinders.domain.strengths import Strength, StrengthChanges, StrengthKind
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.projections.directory import ORGANISATIONS, DirectoryProjection
from verbinders.projections.engine import (
    Generation,
    build_generation,
    create_generation,
    replay,
    try_lead,
)
from verbinders.projections.temporal import Table
from verbinders.store.eventstore import EventStore
from verbinders.store.repository import Repository

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
        await build_generation(self.conn, DirectoryProjection(), self.live, batch_size=3)
        return result


async def rows(conn: asyncpg.Connection, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in await conn.fetch(
            f'SELECT row_to_json(t)::text FROM "{schema}"."{table}" t ORDER BY 1'
        )
    ]


async def snapshot(conn: asyncpg.Connection, schema: str, *extra: str) -> dict[str, list[str]]:
    """The readers' tables; `extra` the generation's own (membership_streams has no view)."""
    tables = (*DirectoryProjection.tables, *extra)
    return {table: await rows(conn, schema, table) for table in tables}


INTERNAL = "membership_streams"


async def history(feed: Feed, tenant: str) -> dict[str, uuid.UUID]:
    """Organisations with every kind of directory event: renames, profile and KvK changes,
    strengths added, changed and withdrawn, every membership transition, a dissolution."""
    ids: dict[str, uuid.UUID] = {}

    async def platform(ctx: UnitOfWork) -> None:
        ctx.save(
            Platform.create(
                tenant=tenant,
                name=f"Verbinders {tenant}",
                city=tenant.title(),
                started_on=date(2019, 12, 1),
                at=datetime.now(UTC) - timedelta(days=800),
            )
        )

    await feed(tenant, platform)
    registrations: list[tuple[str, OrganisationKind, str, Profile]] = [
        (
            "a",
            OrganisationKind.SELF_ORGANISATION,
            "Stichting Amal",
            Profile(languages=("ar", "nl"), themes=("women",), districts=("schalkwijk",)),
        ),
        (
            "b",
            OrganisationKind.FORMAL_ORGANISATION,
            "Welzijn Noord",
            Profile(description="Ouderenwerk", themes=("elderly",)),
        ),
        ("c", OrganisationKind.FUND, "Fonds Cultuur", Profile()),
    ]
    for key, kind, name, profile in registrations:

        def register(
            ctx: UnitOfWork,
            kind: OrganisationKind = kind,
            name: str = name,
            p: Profile = profile,
        ) -> Awaitable[CommandResult]:
            return service.register_organisation(ctx, kind=kind, name=name, profile=p)

        result = await feed(tenant, register)
        ids[key] = uuid.UUID(result.id)
    a, b, c = ids["a"], ids["b"], ids["c"]
    await feed(
        tenant,
        lambda ctx: service.update_organisation(
            ctx,
            a,
            ProfileChanges(
                name="Amal Vrouwen Schalkwijk",
                kvk_number="41224567",
                description="Taallessen en ontmoeting",
                communities=("Marokkaans-Nederlands",),
            ),
        ),
    )
    await feed(tenant, lambda ctx: service.update_organisation(ctx, a, ProfileChanges(name="Amal")))
    tolken = await feed(
        tenant,
        lambda ctx: service.add_strength(
            ctx, a, Strength(kind=StrengthKind.INTERPRETERS, title="Tolken", languages=("ar",))
        ),
    )
    ids["tolken"] = uuid.UUID(tolken.id)
    await feed(
        tenant,
        lambda ctx: service.change_strength(
            ctx, a, ids["tolken"], StrengthChanges(title="Tolken Arabisch", capacity=3)
        ),
    )
    zaal = await feed(
        tenant,
        lambda ctx: service.add_strength(
            ctx, b, Strength(kind=StrengthKind.VENUE, title="Zaal", districts=("noord",))
        ),
    )
    ids["zaal"] = uuid.UUID(zaal.id)
    await feed(
        tenant,
        lambda ctx: service.withdraw_strength(ctx, b, ids["zaal"], reason="verbouwing"),
    )
    m = membership_service
    for step in (
        lambda ctx: m.apply(ctx, a, motivation="meedoen"),
        lambda ctx: m.admit(ctx, a, reason="welkom"),
        lambda ctx: m.suspend(ctx, a, reason="contributie"),
        lambda ctx: m.reinstate(ctx, a, reason="betaald"),
        lambda ctx: m.apply(ctx, b, motivation="samenwerken"),
        lambda ctx: m.reject(ctx, b, reason="nog niet"),
        lambda ctx: m.apply(ctx, b, motivation="opnieuw"),
        lambda ctx: m.admit(ctx, b, reason="welkom"),
        lambda ctx: m.leave(ctx, b, reason="te druk"),
        lambda ctx: m.apply(ctx, b, motivation="weer tijd"),
        lambda ctx: m.admit(ctx, b, reason="welkom terug"),
        lambda ctx: m.apply(ctx, c, motivation="meedoen"),
        lambda ctx: m.withdraw(ctx, c, reason="toch niet"),
    ):
        await feed(tenant, step)
    await feed(tenant, lambda ctx: service.dissolve_organisation(ctx, c, reason="opgeheven"))
    return ids


@pytest.fixture
async def conn(database: str) -> Any:
    connection = await asyncpg.connect(database)
    await init_connection(connection)
    try:
        yield connection
    finally:
        await connection.close()


async def test_the_live_directory_equals_a_rebuild_from_scratch(
    store: EventStore, repository: Repository, conn: asyncpg.Connection
) -> None:
    projection = DirectoryProjection()
    live = await create_generation(conn, projection, state="active")
    assert await try_lead(conn, live)
    feed = Feed(store, repository, conn, live)
    haarlem = await history(feed, "haarlem")
    await history(feed, "zaanstad")
    assert await snapshot(conn, "directory") == await snapshot(conn, live.schema_name)
    live_rows = await snapshot(conn, live.schema_name, INTERNAL)
    assert all(live_rows.values())

    until = await store.last_position()
    for batch_size in (5000, 1):
        rebuilt = await replay(conn, projection, until_position=until, batch_size=batch_size)
        assert rebuilt.state == "historical"
        assert await snapshot(conn, rebuilt.schema_name, INTERNAL) == live_rows

    # What the rows say, for one platform, against the aggregates themselves.
    organisations = {
        r["id"]: r
        for r in await conn.fetch(
            "SELECT o.*, coalesce(m.membership_status, 'none') AS membership_status,"
            " m.member_since FROM directory.organisations o LEFT JOIN directory.memberships m"
            " ON m.tenant = o.tenant AND m.organisation_id = o.id AND m.valid_to IS NULL"
            " WHERE o.tenant = 'haarlem' AND o.valid_to IS NULL"
        )
    }
    assert set(organisations) == {haarlem["a"], haarlem["b"], haarlem["c"]}
    for key in ("a", "b", "c"):
        row = organisations[haarlem[key]]
        aggregate = await repository.get(Organisation, haarlem[key], tenant="haarlem")
        membership = await repository.get(
            Membership, membership_id("haarlem", haarlem[key]), tenant="haarlem"
        )
        assert row["name"] == aggregate.name
        assert row["former_names"] == aggregate.former_names
        assert row["kvk_number"] == aggregate.kvk_number
        assert row["description"] == aggregate.profile.description
        assert tuple(row["languages"]) == aggregate.profile.languages
        assert tuple(row["communities"]) == aggregate.profile.communities
        assert row["registered_at"] == aggregate.registered_at
        assert row["dissolved_at"] == aggregate.dissolved_at
        assert row["membership_status"] == str(membership.status), key
        assert row["member_since"] == membership.member_since, key
    a, b, c = (organisations[haarlem[k]] for k in ("a", "b", "c"))
    assert (a["name"], a["former_names"]) == ("Amal", ["Stichting Amal", "Amal Vrouwen Schalkwijk"])
    assert (a["membership_status"], b["membership_status"]) == ("member", "member")
    assert (c["membership_status"], c["member_since"]) == ("withdrawn", None)
    assert c["dissolved_at"] is not None
    # A suspension keeps the member's first admission; a return after leaving starts anew.
    assert a["member_since"] is not None and b["member_since"] > a["member_since"]

    strengths = {
        r["id"]: r
        for r in await conn.fetch(
            "SELECT * FROM directory.strengths WHERE tenant = 'haarlem' AND valid_to IS NULL"
        )
    }
    tolken, zaal = strengths[haarlem["tolken"]], strengths[haarlem["zaal"]]
    assert (tolken["title"], tolken["capacity"], tolken["withdrawn_at"]) == (
        "Tolken Arabisch",
        3,
        None,
    )
    assert tolken["organisation_id"] == haarlem["a"]
    assert zaal["withdrawn_at"] is not None
    # Searchable by a former name and the description.
    found = await conn.fetch(
        "SELECT id FROM directory.organisations WHERE tenant = 'haarlem' AND valid_to IS NULL"
        " AND search @@ websearch_to_tsquery('dutch', $1)",
        "stichting amal ontmoeting",
    )
    assert [r["id"] for r in found] == [haarlem["a"]]


async def test_a_tenants_rebuild_holds_only_that_tenants_rows(
    store: EventStore, repository: Repository, conn: asyncpg.Connection
) -> None:
    projection = DirectoryProjection()
    live = await create_generation(conn, projection, state="active")
    assert await try_lead(conn, live)
    feed = Feed(store, repository, conn, live)
    await history(feed, "haarlem")
    halfway = await store.last_position()
    await history(feed, "zaanstad")
    before = await replay(conn, projection, until_position=halfway, tenant="zaanstad")
    assert await conn.fetchval(f'SELECT count(*) FROM "{before.schema_name}".organisations') == 0
    theirs = await replay(conn, projection, tenant="zaanstad")
    rebuilt = await snapshot(conn, theirs.schema_name, INTERNAL)
    assert rebuilt == {
        table: [row for row in live_rows if '"tenant":"zaanstad"' in row]
        for table, live_rows in (await snapshot(conn, live.schema_name, INTERNAL)).items()
    }
    assert all(rebuilt.values())


def test_columns_no_query_uses_get_no_planner_statistics() -> None:
    sql = ORGANISATIONS.create_sql()
    assert "ALTER TABLE organisations ALTER COLUMN profile_text SET STATISTICS 0;" in sql
    assert "ALTER COLUMN themes SET STATISTICS" not in sql  # filtered on: analysed
    with pytest.raises(ValueError, match="unanalysed"):
        Table("t", keys=(("tenant", "text"),), values=(("a", "text"),), unanalysed=("b",))
