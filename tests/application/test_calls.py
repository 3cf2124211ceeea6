"""Calls through the command pipeline on the real database: whom a call addresses, what it
writes to the outbox with its events, who may do what, and the race for a need."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from tests.calls_support import add_member, issue
from tests.platforms import Platform
from verbinders.api.routes import call_board
from verbinders.application import addressees
from verbinders.application import call_responses as answers
from verbinders.application import calls as service
from verbinders.application import membership as membership_service
from verbinders.application import organisations as org_service
from verbinders.application.context import Actor
from verbinders.application.unit_of_work import CommandRequest
from verbinders.domain.call_responses import Response
from verbinders.domain.calls import Audience, Call, CallChanges
from verbinders.domain.membership import Membership
from verbinders.domain.organisations import Organisation
from verbinders.domain.profile import ProfileChanges
from verbinders.errors import Conflict, Forbidden, InvalidCommand, NotFound, PreconditionFailed
from verbinders.runtime import Runtime
from verbinders.store.events import Metadata, NewEvent


async def outbox(runtime: Runtime, call_id: str, kind: str = "issued") -> set[uuid.UUID]:
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT m.organisation_id FROM mail_messages m JOIN mail_notices n"
            " ON n.id = m.notice_id WHERE n.call_id = $1 AND n.kind = $2",
            uuid.UUID(call_id),
            kind,
        )
    return {row["organisation_id"] for row in rows}


async def test_a_call_addresses_exactly_the_active_members_as_the_feed_stood(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    tenant = platform.slug
    operator = Actor.operator(tenant, "tests")
    a = await add_member(runtime, tenant, "Al Amal")
    b = await add_member(runtime, tenant, "Buurtvrouwen")
    await add_member(runtime, tenant, "Alleen Aangemeld", admit=False)
    suspended = await add_member(runtime, tenant, "Geschorst")
    await runtime.pipeline.run(
        membership_service.suspend, operator, suspended.organisation_id, reason="contributie"
    )
    left = await add_member(runtime, tenant, "Vertrokken")
    await runtime.pipeline.run(membership_service.leave, operator, left.organisation_id)
    dissolved = await add_member(runtime, tenant, "Opgeheven")
    await runtime.pipeline.run(
        org_service.dissolve_organisation, operator, dissolved.organisation_id, reason="gestopt"
    )

    result = await issue(runtime, actors["coordinator"])

    call = await runtime.repository.get(Call, uuid.UUID(result.id), tenant=tenant)
    assert set(call.addressees) == {a.organisation_id, b.organisation_id}
    assert result.data.addressees == 2
    assert 0 < call.members_as_of <= result.position
    assert await outbox(runtime, result.id) == {a.organisation_id, b.organisation_id}


async def test_a_later_member_is_not_added_silently_but_can_be_added_explicitly(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    tenant = platform.slug
    first = await add_member(runtime, tenant, "Eerste")
    result = await issue(runtime, actors["coordinator"])
    late = await add_member(runtime, tenant, "Laatkomer")
    call_id = uuid.UUID(result.id)
    call = await runtime.repository.get(Call, call_id, tenant=tenant)
    assert call.addressees == [first.organisation_id]

    await runtime.pipeline.run(
        service.add_addressee,
        actors["coordinator"],
        call_id,
        late.organisation_id,
        reason="Net toegelaten",
    )
    call = await runtime.repository.get(Call, call_id, tenant=tenant)
    assert call.addressees == [first.organisation_id, late.organisation_id]
    assert await outbox(runtime, result.id, "added") == {late.organisation_id}
    with pytest.raises(Conflict):
        await runtime.pipeline.run(
            service.add_addressee,
            actors["coordinator"],
            call_id,
            late.organisation_id,
            reason="nog eens",
        )


async def test_the_audience_narrows_by_district_language_and_theme(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    tenant = platform.slug
    schalkwijk = await add_member(
        runtime,
        tenant,
        "Schalkwijkers",
        districts=("schalkwijk",),
        languages=("ar",),
        themes=("care",),
    )
    citywide = await add_member(runtime, tenant, "Heel Haarlem", languages=("ar", "tr"))
    await add_member(runtime, tenant, "Noorderlingen", districts=("noord",), languages=("ar",))
    await add_member(
        runtime, tenant, "Zonder Arabisch", districts=("schalkwijk",), languages=("pl",)
    )

    by_district = await issue(
        runtime, actors["coordinator"], audience=Audience(districts=("schalkwijk",))
    )
    both = await issue(
        runtime,
        actors["coordinator"],
        audience=Audience(districts=("schalkwijk",), languages=("ar",)),
    )
    by_theme = await issue(runtime, actors["coordinator"], audience=Audience(themes=("care",)))

    assert by_district.data.addressees == 3  # the city-wide organisation works there too
    assert await outbox(runtime, both.id) == {schalkwijk.organisation_id, citywide.organisation_id}
    assert await outbox(runtime, by_theme.id) == {schalkwijk.organisation_id}
    with pytest.raises(InvalidCommand) as refused:
        await issue(runtime, actors["coordinator"], audience=Audience(districts=("mars",)))
    assert refused.value.field == "audience.districts"


async def test_a_refused_or_conflicting_command_writes_nothing_to_the_outbox(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    await add_member(runtime, platform.slug, "Een")
    result = await issue(runtime, actors["coordinator"])
    call_id = uuid.UUID(result.id)
    stale = CommandRequest(actor=actors["coordinator"], expected_version=frozenset({99}))
    with pytest.raises(PreconditionFailed):
        await runtime.pipeline.execute(
            service.update_call, stale, call_id, CallChanges(title="Nieuw")
        )
    with pytest.raises(InvalidCommand):
        await runtime.pipeline.run(
            service.update_call, actors["coordinator"], call_id, CallChanges(title="")
        )
    assert await outbox(runtime, result.id, "updated") == set()
    await runtime.pipeline.run(
        service.update_call, actors["coordinator"], call_id, CallChanges(title="Nieuw")
    )
    assert len(await outbox(runtime, result.id, "updated")) == 1


async def test_the_municipality_issues_and_manages_its_own_calls_only(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    await add_member(runtime, platform.slug, "Een")
    own = await issue(runtime, actors["municipality"])
    theirs = await issue(runtime, actors["coordinator"])
    await runtime.pipeline.run(
        service.update_call, actors["municipality"], uuid.UUID(own.id), CallChanges(title="Nu")
    )
    with pytest.raises(Forbidden):
        await runtime.pipeline.run(
            service.close_call, actors["municipality"], uuid.UUID(theirs.id), reason="mijn niet"
        )
    for role in ("organisation", "fund", "analyst", "auditor"):
        with pytest.raises(Forbidden):
            await issue(runtime, actors[role])


async def test_answers_come_from_addressees_for_themselves_while_the_call_is_open(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    tenant = platform.slug
    operator = Actor.operator(tenant, "tests")
    await runtime.pipeline.run(
        membership_service.apply, operator, platform.party, motivation="mee doen"
    )
    await runtime.pipeline.run(membership_service.admit, operator, platform.party, reason="ja")
    other = await add_member(runtime, tenant, "Ander")
    result = await issue(runtime, actors["coordinator"])
    call_id = uuid.UUID(result.id)
    org = actors["organisation"]  # acts for platform.party
    run = runtime.pipeline.run

    await run(answers.acknowledge_call, org, call_id, platform.party)
    first = await run(
        answers.respond_to_call,
        org,
        call_id,
        platform.party,
        Response(available=True, volunteers=3),
    )
    revised = await run(
        answers.respond_to_call,
        org,
        call_id,
        platform.party,
        Response(available=True, volunteers=5),
    )
    assert revised.version == first.version + 1
    with pytest.raises(Forbidden):  # not for another organisation
        await run(
            answers.respond_to_call, org, call_id, other.organisation_id, Response(available=False)
        )
    with pytest.raises(Forbidden):  # the fund is not addressed
        await run(answers.acknowledge_call, actors["fund"], call_id, platform.fund)
    with pytest.raises(InvalidCommand) as refused:
        await run(
            answers.respond_to_call,
            org,
            call_id,
            platform.party,
            Response(available=True, contact_person_id=other.persons[0]),
        )
    assert refused.value.field == "contact_person_id"
    await run(service.close_call, actors["coordinator"], call_id, reason="voorbij")
    with pytest.raises(Conflict):
        await run(answers.respond_to_call, org, call_id, platform.party, Response(available=False))


async def test_a_call_of_another_platform_is_not_found(
    runtime: Runtime, platform: Platform, other_platform: Platform, actors: dict[str, Actor]
) -> None:
    await add_member(runtime, platform.slug, "Een")
    result = await issue(runtime, actors["coordinator"])
    stranger = Actor(tenant=other_platform.slug, roles=("coordinator",))
    with pytest.raises(NotFound):
        await runtime.pipeline.run(
            service.close_call, stranger, uuid.UUID(result.id), reason="niet van jou"
        )


async def test_two_racing_claims_on_one_need_one_wins_the_other_is_told_who(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    tenant = platform.slug
    a = await add_member(runtime, tenant, "Kookclub")
    b = await add_member(runtime, tenant, "Keukenvrouwen")
    result = await issue(runtime, actors["coordinator"])
    call_id = uuid.UUID(result.id)
    coordinator = actors["coordinator"]

    winner = a.organisation_id
    for round in range(8):
        if round:  # the winner releases; both race again
            await runtime.pipeline.run(
                answers.release_need,
                coordinator,
                call_id,
                "catering-schalkwijk",
                winner,
                reason="opnieuw",
            )
        outcomes = await asyncio.gather(
            *(
                runtime.pipeline.run(
                    answers.claim_need, coordinator, call_id, "catering-schalkwijk", org
                )
                for org in (a.organisation_id, b.organisation_id)
            ),
            return_exceptions=True,
        )
        won = [o for o in outcomes if not isinstance(o, BaseException)]
        lost = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert isinstance(lost[0], Conflict)
        winner = a.organisation_id if outcomes[0] is won[0] else b.organisation_id
        assert lost[0].details["claimed_by"] == str(winner)
        assert lost[0].details["state"] == "claimed"


async def test_a_claimed_need_cannot_be_removed_from_the_call(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    a = await add_member(runtime, platform.slug, "Kookclub")
    result = await issue(runtime, actors["coordinator"])
    call_id = uuid.UUID(result.id)
    await runtime.pipeline.run(
        answers.claim_need, actors["coordinator"], call_id, "vrijwilligers", a.organisation_id
    )
    call = await runtime.repository.get(Call, call_id, tenant=platform.slug)
    kept = tuple(n for n in call.needs if n.id != "vrijwilligers")
    with pytest.raises(Conflict) as refused:
        await runtime.pipeline.run(
            service.update_call, actors["coordinator"], call_id, CallChanges(needs=kept)
        )
    assert refused.value.details["claimed_by"] == str(a.organisation_id)
    with pytest.raises(NotFound):
        await runtime.pipeline.run(
            answers.claim_need, actors["coordinator"], call_id, "helikopter", a.organisation_id
        )


async def _members_at(runtime: Runtime, tenant: str, position: int) -> list[uuid.UUID]:
    async with runtime.pool.acquire() as conn:
        members = await addressees.active_members(conn, tenant, until_position=position)
    return [member.organisation_id for member in members]


async def _horizon(runtime: Runtime) -> int:
    async with runtime.pool.acquire() as conn:
        return await addressees.feed_horizon(conn)


async def _rows_read(runtime: Runtime, tenant: str, position: int) -> tuple[int, set[str]]:
    """What reading the members at `position` costs: rows its plan's scans returned, and the
    tables it touched."""
    async with runtime.pool.acquire() as conn:
        plan = await conn.fetchval(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {addressees.AUDIENCE_SQL}",
            tenant,
            position,
            addressees._ACTIVE,
            addressees._PROFILE,
            addressees._DISSOLVED,
        )
    if isinstance(plan, str):
        plan = json.loads(plan)
    rows, tables = 0, set()
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", ()))
        if "Relation Name" in node and node.get("Actual Loops", 0):
            tables.add(node["Relation Name"])
            rows += int(node["Actual Rows"] * node["Actual Loops"])
    return rows, tables


async def test_reading_the_members_costs_the_same_whatever_the_history(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    tenant = platform.slug
    operator = Actor.operator(tenant, "tests")
    for n in range(5):
        await add_member(runtime, tenant, f"Lid {n}")
    busy = await add_member(runtime, tenant, "Druk Bezet")
    before = await _rows_read(runtime, tenant, await _horizon(runtime))
    assert before[1] == {"call_audience_memberships", "call_audience_organisations"}

    # Unrelated history: 3,000 events of other streams of the platform, and a long history of
    # one membership (suspended and reinstated 20 times).
    metadata = Metadata(tenant=tenant, actor="tests")
    for _ in range(30):
        streams = [uuid.uuid4() for _ in range(100)]
        await runtime.store.append(
            [
                NewEvent(
                    stream_id=stream,
                    stream_type="Unrelated",
                    version=1,
                    topic="tests:Unrelated.Happened",
                    payload=b'{"n": 1}',
                )
                for stream in streams
            ],
            expected=dict.fromkeys(streams, 0),
            metadata=metadata,
        )
    for _ in range(20):
        await runtime.pipeline.run(
            membership_service.suspend, operator, busy.organisation_id, reason="even niet"
        )
        await runtime.pipeline.run(
            membership_service.reinstate, operator, busy.organisation_id, reason="weer"
        )
    after = await _rows_read(runtime, tenant, await _horizon(runtime))
    assert after == before
    assert len(await _members_at(runtime, tenant, await _horizon(runtime))) == 6


async def test_members_as_of_an_earlier_position_ignore_what_changed_since(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    """Rows changed after the horizon are read from their streams up to it: exactly the
    members as the feed stood there."""
    tenant = platform.slug
    operator = Actor.operator(tenant, "tests")
    stays = await add_member(runtime, tenant, "Blijft", districts=("noord",))
    suspended = await add_member(runtime, tenant, "Wordt Geschorst")
    leaves = await add_member(runtime, tenant, "Vertrekt")
    dissolved = await add_member(runtime, tenant, "Wordt Opgeheven")
    moves = await add_member(runtime, tenant, "Verhuist", districts=("noord",))
    returns = await add_member(runtime, tenant, "Komt Terug")
    await runtime.pipeline.run(
        membership_service.suspend, operator, returns.organisation_id, reason="even"
    )
    horizon = await _horizon(runtime)
    earlier = await _members_at(runtime, tenant, horizon)
    assert set(earlier) == {o.organisation_id for o in (stays, suspended, leaves, dissolved, moves)}

    late = await add_member(runtime, tenant, "Laatkomer", districts=("noord",))
    await runtime.pipeline.run(
        membership_service.suspend, operator, suspended.organisation_id, reason="contributie"
    )
    await runtime.pipeline.run(membership_service.leave, operator, leaves.organisation_id)
    await runtime.pipeline.run(
        org_service.dissolve_organisation, operator, dissolved.organisation_id, reason="gestopt"
    )
    await runtime.pipeline.run(
        org_service.update_organisation,
        operator,
        moves.organisation_id,
        ProfileChanges(districts=("schalkwijk",)),
    )
    await runtime.pipeline.run(
        membership_service.reinstate, operator, returns.organisation_id, reason="betaald"
    )

    assert await _members_at(runtime, tenant, horizon) == earlier
    now = await _horizon(runtime)
    assert set(await _members_at(runtime, tenant, now)) == {
        o.organisation_id for o in (stays, moves, returns, late)
    }
    async with runtime.pool.acquire() as conn:
        at_then = await addressees.active_members(conn, tenant, until_position=horizon)
        at_now = await addressees.active_members(conn, tenant, until_position=now)
    noord = Audience(districts=("noord",))  # the others name no district: city-wide
    assert {m.organisation_id for m in addressees.narrow(at_then, noord)} == set(earlier)
    assert {m.organisation_id for m in addressees.narrow(at_now, noord)} == {
        o.organisation_id for o in (stays, returns, late)
    }


async def test_the_audience_tables_backfill_to_what_the_trigger_keeps(
    runtime: Runtime, platform: Platform
) -> None:
    """The migration fills the tables from the history it finds; the trigger keeps them the
    same way from then on."""
    tenant = platform.slug
    operator = Actor.operator(tenant, "tests")
    await add_member(runtime, tenant, "Een", districts=("noord",))
    other = await add_member(runtime, tenant, "Twee")
    await runtime.pipeline.run(
        membership_service.suspend, operator, other.organisation_id, reason="even"
    )
    await add_member(runtime, tenant, "Drie", admit=False)
    migration = addressees.MIGRATIONS[0][2]
    backfill = migration[migration.index("INSERT INTO call_audience_memberships\nSELECT") :]
    tables = ("call_audience_memberships", "call_audience_organisations")
    query = "SELECT * FROM {} WHERE tenant = $1 ORDER BY 1"
    async with runtime.pool.acquire() as conn:
        kept = [await conn.fetch(query.format(t), tenant) for t in tables]
        with pytest.raises(_Undone):
            async with conn.transaction():  # rolled back: nothing of this stays
                for table in tables:
                    await conn.execute(f"DELETE FROM {table}")
                await conn.execute(backfill)
                filled = [await conn.fetch(query.format(t), tenant) for t in tables]
                raise _Undone
    assert len(kept[0]) == 3
    assert len(kept[1]) >= 3  # and the platform's own organisations
    assert filled == kept


class _Undone(Exception):
    pass


def test_the_trigger_names_the_topics_the_reader_uses() -> None:
    migration = addressees.MIGRATIONS[0][2]
    for topic in (*addressees._ACTIVE, *addressees._PROFILE, addressees._DISSOLVED):
        assert f"'{topic}'" in migration
    assert f"'{Membership.STREAM_TYPE}'" in migration
    assert f"'{Organisation.STREAM_TYPE}'" in migration


async def test_streams_of_one_call_in_a_process_share_one_reader(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    """Two desks watching one call: one reader (one connection, one picture query per
    change) serves both; it stops when the last stream ends."""
    tenant = platform.slug
    member = await add_member(runtime, tenant, "Een")
    call_id = uuid.UUID((await issue(runtime, actors["coordinator"])).id)
    stop = asyncio.Event()
    runner = asyncio.create_task(runtime.runner.run(stop))
    stopping = asyncio.Event()
    first = call_board._live(runtime, tenant, call_id, None, stopping)
    second = call_board._live(runtime, tenant, call_id, None, stopping)
    try:
        one, two = await asyncio.wait_for(asyncio.gather(anext(first), anext(second)), 30)
        assert one.data == two.data
        boards = [b for b in call_board._boards.values() if b.call_id == call_id]
        assert len(boards) == 1
        assert boards[0].viewers == 2
        assert json.loads(str(one.data))["responded"] == 0

        await runtime.pipeline.run(
            answers.respond_to_call,
            Actor.operator(tenant, "tests"),
            call_id,
            member.organisation_id,
            Response(available=True, volunteers=2),
        )
        one, two = await asyncio.wait_for(asyncio.gather(anext(first), anext(second)), 30)
        assert json.loads(str(one.data))["responded"] == 1
        assert one.data == two.data
        assert one.id == two.id
    finally:
        await first.aclose()
        await second.aclose()
        stop.set()
        await runner
    assert not [b for b in call_board._boards.values() if b.call_id == call_id]
