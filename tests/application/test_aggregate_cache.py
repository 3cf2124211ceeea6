"""The aggregate cache of the command path: a command reads only the events after the version
it holds, and never serves state that is not the stream's committed state now (another
runtime's appends, a failed command, a concurrent command, a forgotten person)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest

from tests.platforms import Platform
from verbinders.application.commands import command
from verbinders.application.context import Actor, CommandResult
from verbinders.application.idempotency import Idempotency
from verbinders.application.organisations import (
    add_contact,
    contacts_of,
    forget_contact,
    register_organisation,
    update_organisation,
)
from verbinders.application.unit_of_work import CommandRequest, UnitOfWork
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.domain.organisations import Organisation
from verbinders.domain.profile import ProfileChanges
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import InvalidCommand, StreamConflict
from verbinders.runtime import Runtime, runtime_on
from verbinders.store.aggregate_cache import AggregateCache, Loaded


def operator(platform: Platform) -> Actor:
    return Actor.operator(platform.slug, "tests")


@pytest.fixture
async def other_runtime(database: str, pool: asyncpg.Pool) -> AsyncIterator[Runtime]:
    """A second runtime on the same database, with a cache of its own (another process)."""
    settings = Settings(snapshot_every=0)
    async with runtime_on(settings, Database(pool=pool, dsn=database, embedded=False)) as runtime:
        yield runtime


@command(writes_once=True)
async def describe(uow: UnitOfWork, organisation_id: uuid.UUID, text: str) -> CommandResult:
    """Change the description, answering the one the command found first."""
    organisation = await uow.get(Organisation, organisation_id)
    found = organisation.profile.description
    result = await update_organisation(uow, organisation_id, ProfileChanges(description=text))
    return msgspec.structs.replace(result, data={"found": found})


@command(writes_once=True)
async def read_description(uow: UnitOfWork, organisation_id: uuid.UUID) -> CommandResult:
    organisation = await uow.get(Organisation, organisation_id)
    return CommandResult.of(organisation, data={"found": organisation.profile.description})


def cache_of(runtime: Runtime) -> AggregateCache:
    cache = runtime.repository.cache
    assert cache is not None
    return cache


async def new_organisation(runtime: Runtime, platform: Platform, name: str) -> uuid.UUID:
    registered = await runtime.pipeline.run(
        register_organisation,
        operator(platform),
        kind=OrganisationKind.SELF_ORGANISATION,
        name=name,
    )
    return uuid.UUID(registered.id)


async def test_a_command_takes_the_cached_aggregate_and_reads_only_later_events(
    runtime: Runtime, platform: Platform
) -> None:
    org = await new_organisation(runtime, platform, "Vereniging Geheugen")
    cache = cache_of(runtime)
    assert org in cache  # the new aggregate, at the version its append committed
    hits = cache.hits
    for n in range(3):
        result = await runtime.pipeline.run(describe, operator(platform), org, f"tekst {n}")
        assert result.data == {"found": "" if n == 0 else f"tekst {n - 1}"}
    assert cache.hits >= hits + 3  # the organisation (and the platform) each time
    assert cache._entries[org].aggregate.version == result.version


async def test_two_runtimes_on_one_database_never_serve_a_stale_aggregate(
    runtime: Runtime, other_runtime: Runtime, platform: Platform
) -> None:
    org = await new_organisation(runtime, platform, "Vereniging Twee Processen")
    await runtime.pipeline.run(describe, operator(platform), org, "van A")
    assert org in cache_of(runtime)
    # The other runtime appends twice; the first still holds the organisation at its version.
    await other_runtime.pipeline.run(describe, operator(platform), org, "van B 1")
    await other_runtime.pipeline.run(describe, operator(platform), org, "van B 2")
    held = cache_of(runtime)._entries[org].aggregate.version
    hits = cache_of(runtime).hits
    result = await runtime.pipeline.run(describe, operator(platform), org, "weer van A")
    assert cache_of(runtime).hits >= hits + 1
    assert result.data == {"found": "van B 2"}  # the events after the cached version were read
    assert result.version == held + 3
    # And the other way round.
    found = await other_runtime.pipeline.run(read_description, operator(platform), org)
    assert found.data == {"found": "weer van A"}
    assert found.version == result.version


async def test_commands_on_one_aggregate_at_once_meet_at_the_append(
    runtime: Runtime, platform: Platform
) -> None:
    """The first takes the cached organisation, the second gets a copy of it (the first has
    not changed it yet); both change it; the append lets one in, and the other, which used
    its copy unread, runs again on the winner's state instead of answering a conflict."""
    org = await new_organisation(runtime, platform, "Vereniging Gelijktijdig")
    start = await runtime.pipeline.run(describe, operator(platform), org, "start")
    both_loaded = asyncio.Event()
    loaded = 0
    copies = cache_of(runtime).copies

    @command(writes_once=True)
    async def slow_describe(uow: UnitOfWork, text: str) -> CommandResult:
        nonlocal loaded
        found = (await uow.get(Organisation, org)).profile.description
        loaded += 1
        if loaded == 2:
            both_loaded.set()
        await asyncio.wait_for(both_loaded.wait(), 10)
        result = await update_organisation(uow, org, ProfileChanges(description=text))
        return msgspec.structs.replace(result, data={"found": found})

    outcomes = await asyncio.gather(
        runtime.pipeline.run(slow_describe, operator(platform), "een"),
        runtime.pipeline.run(slow_describe, operator(platform), "twee"),
        return_exceptions=True,
    )
    assert cache_of(runtime).copies >= copies + 1  # the organisation (and the platform)
    assert all(isinstance(o, CommandResult) for o in outcomes), outcomes
    results = sorted((o for o in outcomes if isinstance(o, CommandResult)), key=lambda r: r.version)
    assert [r.version for r in results] == [start.version + 1, start.version + 2]
    assert loaded == 3  # the loser ran twice
    first, second = results
    assert first.data == {"found": "start"}
    assert second.data == {"found": "een" if first is outcomes[0] else "twee"}  # the winner's
    # What the cache holds afterwards is the later version, and commands go on from it.
    after = await runtime.pipeline.run(describe, operator(platform), org, "daarna")
    assert after.version == second.version + 1


async def test_a_copy_is_lent_only_while_the_lent_aggregate_is_unchanged() -> None:
    from eventsourcing.domain import Aggregate

    cache = AggregateCache()
    aggregate = Aggregate()
    aggregate.collect_events()
    assert cache.keep(aggregate, Loaded("t", "Aggregate", 0))
    taken = cache.take(aggregate.id, tenant="t", stream_type="Aggregate")
    assert taken is not None and taken.aggregate is aggregate
    copy = cache.take(aggregate.id, tenant="t", stream_type="Aggregate")
    assert copy is not None and copy.aggregate is not aggregate
    assert (copy.aggregate.id, copy.aggregate.version) == (aggregate.id, aggregate.version)
    assert cache.take(aggregate.id, tenant="other", stream_type="Aggregate") is None
    aggregate.trigger_event(Aggregate.Event)  # the holder changes it: no more copies
    assert cache.take(aggregate.id, tenant="t", stream_type="Aggregate") is None
    aggregate.collect_events()  # appended, not yet committed: still none
    assert cache.take(aggregate.id, tenant="t", stream_type="Aggregate") is None
    # The copy's command ends first, the original's later at a newer version: the newer stays.
    assert cache.keep(copy.aggregate, Loaded("t", "Aggregate", 0))
    assert cache.keep(aggregate, Loaded("t", "Aggregate", 0))
    assert not cache.keep(copy.aggregate, Loaded("t", "Aggregate", 0))
    assert cache._entries[aggregate.id].aggregate is aggregate
    # A failed command gives back what it took: nothing stays lent.
    taken = cache.take(aggregate.id, tenant="t", stream_type="Aggregate")
    assert taken is not None
    cache.release(taken.aggregate)
    assert cache.take(aggregate.id, tenant="t", stream_type="Aggregate") is None
    assert not cache._lent


async def test_a_conflict_with_another_runtime_refuses_the_append_and_the_next_load_is_fresh(
    runtime: Runtime, other_runtime: Runtime, platform: Platform
) -> None:
    org = await new_organisation(runtime, platform, "Vereniging Inhaalslag")
    await runtime.pipeline.run(describe, operator(platform), org, "A")
    runs = 0

    @command(writes_once=True)
    async def describe_after_b(uow: UnitOfWork) -> CommandResult:
        nonlocal runs
        runs += 1
        await uow.get(Organisation, org)  # from the cache the first time, then read
        await other_runtime.pipeline.run(describe, operator(platform), org, f"B, tussendoor {runs}")
        return await update_organisation(uow, org, ProfileChanges(description="A2"))

    with pytest.raises(StreamConflict):
        await runtime.pipeline.run(describe_after_b, operator(platform))
    # The first run used the cached organisation unread: its conflict ran the command again,
    # reading it; the second run's conflict is the command's answer.
    assert runs == 2
    assert org not in cache_of(runtime)  # the loser's changed aggregate is gone
    result = await runtime.pipeline.run(describe, operator(platform), org, "A3")
    assert result.data == {"found": "B, tussendoor 2"}


async def test_a_failed_command_leaves_no_changed_aggregate_behind(
    runtime: Runtime, platform: Platform
) -> None:
    org = await new_organisation(runtime, platform, "Vereniging Bedenktijd")
    await runtime.pipeline.run(describe, operator(platform), org, "bewaard")

    @command()  # in a transaction: the change is thrown away with it
    async def change_then_fail(uow: UnitOfWork) -> None:
        await update_organisation(uow, org, ProfileChanges(description="nooit"))
        raise InvalidCommand("bedacht", field="description", rule="test")

    with pytest.raises(InvalidCommand):
        await runtime.pipeline.run(change_then_fail, operator(platform))
    assert org not in cache_of(runtime)
    found = await runtime.pipeline.run(read_description, operator(platform), org)
    assert found.data == {"found": "bewaard"}


async def test_a_keyed_command_fills_the_cache_only_once_committed(
    runtime: Runtime, platform: Platform
) -> None:
    org = await new_organisation(runtime, platform, "Vereniging Sleutel")
    request = CommandRequest(
        actor=operator(platform), idempotency=Idempotency(key="k-1", fingerprint="f")
    )
    first = await runtime.pipeline.run(describe, request, org, "met sleutel")
    assert cache_of(runtime)._entries[org].aggregate.version == first.version
    again = await runtime.pipeline.run(describe, request, org, "met sleutel")  # a replay
    assert again.version == first.version
    found = await runtime.pipeline.run(read_description, operator(platform), org)
    assert found.data == {"found": "met sleutel"} and found.version == first.version


async def test_an_aggregate_with_personal_data_is_never_kept_and_forgetting_reads_redacted(
    runtime: Runtime, other_runtime: Runtime, platform: Platform
) -> None:
    org = await new_organisation(runtime, platform, "Vereniging Privé")
    assert org in cache_of(runtime)
    added = await runtime.pipeline.run(
        add_contact, operator(platform), org, name="Fatima El Amrani", email="f@example.nl"
    )
    person = uuid.UUID(str(added.id))
    # Its state holds a decrypted name now: it stays out of the cache.
    assert org not in cache_of(runtime)
    await runtime.pipeline.run(describe, operator(platform), org, "met contact")
    assert org not in cache_of(runtime)
    # Forgotten through the other runtime: this one reads no name any more.
    await other_runtime.pipeline.run(forget_contact, operator(platform), org, person)
    views, _ = await contacts_of(runtime, operator(platform), org)
    assert views == []
    found = await runtime.pipeline.run(read_description, operator(platform), org)
    organisation = await runtime.repository.get(Organisation, org, tenant=platform.slug)
    assert found.version == organisation.version
    assert all(c.is_redacted for c in organisation.contacts.values())
    assert "Fatima" not in repr(cache_of(runtime)._entries)


def test_the_cache_is_bounded_and_forgets_the_least_recently_kept() -> None:
    from eventsourcing.domain import Aggregate

    cache = AggregateCache(max_entries=2)
    made = []
    for _ in range(3):
        aggregate = Aggregate()
        aggregate.collect_events()
        made.append(aggregate)
        assert cache.keep(aggregate, Loaded("t", "Aggregate", 0))
    assert len(cache) == 2
    assert made[0].id not in cache
    assert cache.take(made[1].id, tenant="other", stream_type="Aggregate") is None
    assert cache.take(made[1].id, tenant="t", stream_type="Other") is None
    taken = cache.take(made[1].id, tenant="t", stream_type="Aggregate")
    assert taken is not None and taken.aggregate is made[1]
    assert made[1].id not in cache  # taken, not shared
    with pytest.raises(ValueError, match="at least one"):
        AggregateCache(max_entries=0)


async def test_snapshots_are_still_taken_when_the_cache_serves_the_loads(
    database: str, pool: asyncpg.Pool, platform: Platform
) -> None:
    settings = Settings(snapshot_every=3)
    async with runtime_on(settings, Database(pool=pool, dsn=database, embedded=False)) as rt:
        org = await new_organisation(rt, platform, "Vereniging Momentopname")
        for n in range(8):
            await rt.pipeline.run(describe, operator(platform), org, f"versie {n}")
        assert cache_of(rt).hits >= 8
    async with pool.acquire() as conn:
        versions = await conn.fetch(
            "SELECT version FROM snapshots WHERE stream_id = $1 ORDER BY version", org
        )
    assert [r["version"] for r in versions], "no snapshot was taken"


# -- commands on cached aggregates read nothing; their append checks them ------------------


async def test_a_command_on_cached_aggregates_sends_its_append_alone(
    database: str, platform: Platform
) -> None:
    """No read: the organisation and the platform come from the cache, the append checks them."""
    from verbinders.database import init_connection, reset_connection, server_settings

    settings = Settings(snapshot_every=0)
    sent: list[str] = []

    async def logged(conn: asyncpg.Connection) -> None:
        await init_connection(conn)
        conn.add_query_logger(lambda record: sent.append(record.query))

    pool = await asyncpg.create_pool(  # as `open_pool`, and every statement logged
        database,
        min_size=1,
        max_size=2,
        init=logged,
        reset=reset_connection,
        server_settings=server_settings(settings),
    )
    try:
        async with runtime_on(settings, Database(pool=pool, dsn=database, embedded=False)) as rt:
            org = await new_organisation(rt, platform, "Vereniging Eén Statement")
            await rt.pipeline.run(describe, operator(platform), org, "eerst")  # reads the platform
            sent.clear()
            result = await rt.pipeline.run(describe, operator(platform), org, "daarna")
            assert result.data == {"found": "eerst"}
    finally:
        await pool.close()
    # asyncpg's one-off look-up of a type on a connection that has not met it yet (the pool's
    # other connection, when the command gets that one) is not the command's, nor is the
    # append watchdog's periodic look at the backends, which may fall in between.
    others = (
        "current_setting('jit')",
        "typeinfo_tree",
        "set_config('jit'",
        "SELECT pid, xact, prepared_gid",
    )
    commands = [q for q in sent if "pg_notify" not in q and not any(o in q for o in others)]
    assert len(commands) == 1, commands
    assert "INSERT INTO events" in commands[0] and "unnest($8::uuid[]" in commands[0]


async def test_a_stream_used_unread_that_moved_on_runs_the_command_again(
    runtime: Runtime, other_runtime: Runtime, platform: Platform
) -> None:
    source = await new_organisation(runtime, platform, "Vereniging Bron")
    target = await new_organisation(runtime, platform, "Vereniging Doel")
    runs = 0

    @command(writes_once=True)
    async def copy_description(uow: UnitOfWork) -> CommandResult:
        """Reads `source` (never writes it) and writes its description into `target`."""
        nonlocal runs
        runs += 1
        found = (await uow.get(Organisation, source)).profile.description
        return await update_organisation(uow, target, ProfileChanges(description=f"van {found}"))

    await runtime.pipeline.run(describe, operator(platform), source, "oud")
    first = await runtime.pipeline.run(copy_description, operator(platform))
    assert runs == 1
    # Another runtime changes the source; this one still holds it at its old version.
    await other_runtime.pipeline.run(describe, operator(platform), source, "nieuw")
    assert source in cache_of(runtime)
    again = await runtime.pipeline.run(copy_description, operator(platform))
    assert runs == 3  # refused by the append (nothing written), then run with a read
    assert again.version == first.version + 1  # one event, not two
    organisation = await runtime.repository.get(Organisation, target, tenant=platform.slug)
    assert organisation.profile.description == "van nieuw"
    assert organisation.version == again.version


async def test_a_command_that_appends_nothing_answers_from_the_current_state(
    runtime: Runtime, other_runtime: Runtime, platform: Platform
) -> None:
    org = await new_organisation(runtime, platform, "Vereniging Alleen Lezen")
    await runtime.pipeline.run(describe, operator(platform), org, "oud")
    await other_runtime.pipeline.run(describe, operator(platform), org, "nieuw")
    assert org in cache_of(runtime)
    found = await runtime.pipeline.run(read_description, operator(platform), org)
    assert found.data == {"found": "nieuw"}


async def test_a_refusal_on_a_stale_cached_aggregate_is_checked_and_run_again(
    runtime: Runtime, other_runtime: Runtime, platform: Platform
) -> None:
    org = await new_organisation(runtime, platform, "Vereniging Weigering")
    await runtime.pipeline.run(describe, operator(platform), org, "dicht")

    @command(writes_once=True)
    async def open_up(uow: UnitOfWork) -> CommandResult:
        organisation = await uow.get(Organisation, org)
        if organisation.profile.description != "dicht":
            raise InvalidCommand("is al open", field="description", rule="test")
        return await update_organisation(uow, org, ProfileChanges(description="open"))

    await other_runtime.pipeline.run(describe, operator(platform), org, "al open")
    with pytest.raises(InvalidCommand, match="is al open"):
        await runtime.pipeline.run(open_up, operator(platform))
    # And a refusal on current state is the command's own answer, without a second run.
    await runtime.pipeline.run(describe, operator(platform), org, "nog steeds open")
    with pytest.raises(InvalidCommand, match="is al open"):
        await runtime.pipeline.run(open_up, operator(platform))


async def test_a_keyed_command_on_a_stale_cached_aggregate_runs_once_under_its_key(
    runtime: Runtime, other_runtime: Runtime, platform: Platform
) -> None:
    org = await new_organisation(runtime, platform, "Vereniging Sleutel Twee")
    await runtime.pipeline.run(describe, operator(platform), org, "A")
    await other_runtime.pipeline.run(describe, operator(platform), org, "B")
    request = CommandRequest(
        actor=operator(platform), idempotency=Idempotency(key="k-stale", fingerprint="f")
    )
    first = await runtime.pipeline.run(describe, request, org, "C")
    assert first.data == {"found": "B"}
    again = await runtime.pipeline.run(describe, request, org, "C")  # a replay
    assert again.version == first.version and again.data == first.data
    organisation = await runtime.repository.get(Organisation, org, tenant=platform.slug)
    assert organisation.version == first.version
