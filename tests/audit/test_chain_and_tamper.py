"""The hash chain written by every kind of append, seals, and tampering of every kind caught.

The tampering is done as an intruder with database access would: plain SQL with the tables'
triggers disabled.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests.store.personal_data_support import Association, Contact
from tests.store.support import META, Rollback, new_event
from verbinders.audit.seals import seal
from verbinders.audit.trail import export_trail
from verbinders.audit.verify import verify
from verbinders.store.chain import GENESIS, canonical_bytes, event_hash, microseconds
from verbinders.store.eventstore import EventStore
from verbinders.store.personal import Keyring
from verbinders.store.repository import Repository
from verbinders.store.schema import MIGRATIONS, install_schema

pytestmark = pytest.mark.server

VERIFIER = Path(__file__).parents[2] / "tools" / "verify_trail.py"


async def filled(store: EventStore) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """Three streams through every kind of append: one, many, several streams, a transaction."""
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await store.append([new_event(a, 1)], expected={a: 0}, metadata=META)
    await store.append([new_event(a, 2), new_event(a, 3)], expected={a: 1}, metadata=META)
    await store.append(
        [new_event(b, 1), new_event(c, 1), new_event(b, 2)],
        expected={b: 0, c: 0},
        metadata=META,
    )
    async with store.transaction() as conn:
        await store.append([new_event(c, 2)], expected={c: 1}, metadata=META, connection=conn)
        await store.append(
            [new_event(c, 3), new_event(c, 4)], expected={c: 2}, metadata=META, connection=conn
        )
        await store.append(
            [new_event(a, 4), new_event(b, 3)],
            expected={a: 3, b: 2},
            metadata=META,
            connection=conn,
        )
    return a, b, c


async def tamper(pool: asyncpg.Pool, sql: str, *args: object) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER USER")
        await conn.execute("ALTER TABLE seals DISABLE TRIGGER USER")
        await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE events ENABLE TRIGGER USER")
        await conn.execute("ALTER TABLE seals ENABLE TRIGGER USER")


async def check(pool: asyncpg.Pool):  # type: ignore[no-untyped-def]
    async with pool.acquire() as conn:
        return await verify(conn)


async def test_every_append_chains_its_events_as_the_python_definition_says(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool)
    await filled(store)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT position, tenant, stream_id, stream_type, version, topic, recorded_at,"
            " metadata::text, payload::text, hash FROM events ORDER BY position"
        )
    last: dict[uuid.UUID, bytes] = {}
    for row in rows:
        body = canonical_bytes(
            tenant=row[1],
            stream_id=str(row[2]),
            stream_type=row[3],
            version=row[4],
            position=row[0],
            topic=row[5],
            recorded_us=microseconds(row[6]),
            metadata=row[7],
            payload=row[8],
        )
        assert bytes(row[9]) == event_hash(last.get(row[2], GENESIS), body), row[0]
        last[row[2]] = bytes(row[9])
    assert len(rows) == 11
    result = await check(pool)
    assert result.intact and result.events == 11 and result.streams == 3


async def test_the_migration_chains_what_was_recorded_before_it(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        await install_schema(conn, [("store", MIGRATIONS[:2])])
        stream = uuid.uuid4()
        for version in (1, 2, 3):
            await conn.execute(
                "INSERT INTO events (position, tenant, stream_id, stream_type, version, topic,"
                " payload, metadata) VALUES (nextval('event_position_seq'), 'haarlem', $1,"
                " 'Thing', $2, 't', $3::jsonb, '{}')",
                stream,
                version,
                json.dumps({"n": version, "naam": "Stichting Ça Va"}),
            )
        await install_schema(conn, [("store", MIGRATIONS)])
        result = await verify(conn)
        assert result.intact and result.events == 3
        assert await conn.fetchval("SELECT count(*) FROM events WHERE hash IS NULL") == 0
    finally:
        await conn.close()


async def test_seals_chain_ranges_and_only_new_events_get_sealed(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    a, _, _ = await filled(store)
    async with pool.acquire() as conn:
        first = await seal(conn)
        assert first is not None and first.number == 1 and first.events == 11
        assert await seal(conn) is None  # nothing new
        await store.append([new_event(a, 5)], expected={a: 4}, metadata=META)
        second = await seal(conn)
        assert second is not None and second.events == 1
        assert second.after_position == first.up_to_position and second.previous == first.hash
    result = await check(pool)
    assert result.intact and result.seals == 2


RECHAIN = """UPDATE events e SET hash = c.hash
  FROM (SELECT position,
               event_chain(decode(repeat('00', 32), 'hex'),
                           event_body(tenant, stream_id, stream_type, version, position, topic,
                                      recorded_at, metadata, payload))
                   OVER (PARTITION BY stream_id ORDER BY version) AS hash
          FROM events WHERE stream_id = $1) c
 WHERE e.position = c.position"""


async def test_a_changed_payload_is_named_at_its_event(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    _, b, _ = await filled(store)
    await tamper(
        pool,
        "UPDATE events SET payload = '{\"n\": 200}' WHERE stream_id = $1 AND version = 2",
        b,
    )
    result = await check(pool)
    first = result.first
    assert first is not None and first.kind == "hash"
    assert (first.stream_id, first.version) == (str(b), 2)
    assert len(result.findings) == 1  # not every later event of the stream


async def test_a_changed_payload_rechained_by_the_intruder_is_caught_by_its_seal(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool)
    _, b, _ = await filled(store)
    async with pool.acquire() as conn:
        await seal(conn)
    await tamper(
        pool,
        "UPDATE events SET payload = '{\"n\": 200}' WHERE stream_id = $1 AND version = 2",
        b,
    )
    await tamper(pool, RECHAIN, b)
    findings = (await check(pool)).findings
    assert [(f.kind, f.seal) for f in findings] == [("seal", 1)]
    assert "Merkle root" in findings[0].detail


async def test_a_deleted_event_is_named_by_the_gap_it_leaves_and_by_its_seal(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool)
    a, _, c = await filled(store)
    async with pool.acquire() as conn:
        await seal(conn)
    await tamper(pool, "DELETE FROM events WHERE stream_id = $1 AND version = 2", c)
    result = await check(pool)
    first = result.first
    assert first is not None
    gap = next(f for f in result.findings if f.kind == "gap")
    assert (gap.stream_id, gap.version) == (str(c), 3) and "version 2 missing" in gap.detail
    seal_finding = next(f for f in result.findings if f.kind == "seal")
    assert "11 when sealed" in seal_finding.detail
    # The last event of a stream deleted: only its seal can tell.
    await tamper(pool, "DELETE FROM events WHERE stream_id = $1 AND version = 4", a)
    assert any("9 events in its range now" in f.detail for f in (await check(pool)).findings)


async def test_an_inserted_event_is_caught_even_when_the_intruder_chains_it(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool)
    a, b, _ = await filled(store)
    with pytest.raises(Rollback):  # burns position 12: a free place inside the next seal
        async with store.transaction() as conn:
            await store.append([new_event(a, 5)], expected={a: 4}, metadata=META, connection=conn)
            raise Rollback
    await store.append([new_event(a, 5)], expected={a: 4}, metadata=META)
    async with pool.acquire() as conn:
        sealed = await seal(conn)
        assert sealed is not None and sealed.events == 12 and sealed.up_to_position == 13
        before = await conn.fetchrow(
            "SELECT hash, recorded_at FROM events WHERE stream_id = $1 AND version = 3", b
        )
    # A forged event at the free position, correctly chained to its stream.
    body = canonical_bytes(
        tenant="haarlem",
        stream_id=str(b),
        stream_type="Thing",
        version=4,
        position=12,
        topic="tests:Thing.Happened",
        recorded_us=microseconds(before["recorded_at"]),
        metadata="{}",
        payload='{"n": 4}',
    )
    await tamper(
        pool,
        "INSERT INTO events (position, tenant, stream_id, stream_type, version, topic, payload,"
        " metadata, recorded_at, hash) VALUES (12, 'haarlem', $1, 'Thing', 4,"
        " 'tests:Thing.Happened', '{\"n\": 4}', '{}', $2, $3)",
        b,
        before["recorded_at"],
        event_hash(bytes(before["hash"]), body),
    )
    findings = (await check(pool)).findings
    assert [(f.kind, f.seal) for f in findings] == [("seal", 1)]
    assert "13 events in its range now, 12 when sealed" in findings[0].detail
    # A row below the feed's first position is named, whatever its hash.
    await tamper(
        pool,
        "INSERT INTO events (position, tenant, stream_id, stream_type, version, topic, payload,"
        " metadata, recorded_at, hash) VALUES (-5, 'haarlem', $1, 'Thing', 9,"
        " 'tests:Thing.Happened', '{}', '{}', now(), $2)",
        uuid.uuid4(),
        bytes(32),
    )
    first = (await check(pool)).first
    assert first is not None and first.position == -5 and first.kind == "place"
    # And a clumsy intruder's row after the seal is named by its hash.
    await tamper(
        pool,
        "INSERT INTO events (position, tenant, stream_id, stream_type, version, topic, payload,"
        " metadata, recorded_at, hash) VALUES (1000, 'haarlem', $1, 'Thing', 6,"
        " 'tests:Thing.Happened', '{\"n\": 6}', '{}', now(), $2)",
        a,
        b"\x01" * 32,
    )
    hashes = [f for f in (await check(pool)).findings if f.kind == "hash"]
    assert [(f.stream_id, f.version, f.position) for f in hashes] == [(str(a), 6, 1000)]


async def test_reordered_events_are_named(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    a, b, _ = await filled(store)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT position FROM events WHERE stream_id = any($1::uuid[]) AND version = 1"
            " ORDER BY position",
            [a, b],
        )
    pa, pb = rows[0][0], rows[1][0]
    await tamper(
        pool,
        "UPDATE events SET position = CASE position WHEN $1 THEN -$2 ELSE -$1 END"
        " WHERE position IN ($1, $2)",
        pa,
        pb,
    )
    await tamper(pool, "UPDATE events SET position = -position WHERE position < 0")
    result = await check(pool)
    first = result.first
    assert first is not None and first.position == pa
    assert {(f.stream_id, f.kind) for f in result.findings if f.position in (pa, pb)} >= {
        (str(b), "hash")
    }


async def test_an_altered_seal_is_named(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    a, _, _ = await filled(store)
    async with pool.acquire() as conn:
        await seal(conn)
        await store.append([new_event(a, 5)], expected={a: 4}, metadata=META)
        await seal(conn)
    await tamper(pool, "UPDATE seals SET events = 12 WHERE number = 1")
    result = await check(pool)
    assert result.first is not None and result.first.seal == 1
    assert "own hash differs" in result.first.detail
    await tamper(
        pool,
        "UPDATE seals SET events = 11, root = decode(repeat('00', 32), 'hex') WHERE number = 1",
    )
    findings = (await check(pool)).findings
    assert [f.seal for f in findings] == [1]  # the root, and so its hash; seal 2 links to it
    assert "Merkle root" in findings[0].detail


async def test_forgetting_a_person_keeps_verification_passing(
    pool: asyncpg.Pool, keyring: Keyring
) -> None:
    repository = Repository(EventStore(pool), keyring, snapshot_every=0)
    fatima = uuid.uuid4()
    association = Association(name="Stichting Samen Schalkwijk")
    association.add_contact(Contact(subject=fatima, name="Fatima", email="f@example.nl"))
    await repository.save(association, metadata=META)
    async with pool.acquire() as conn:
        await seal(conn)
    assert await keyring.forget(fatima, tenant="haarlem")
    result = await check(pool)
    assert result.intact and result.events == 2 and result.seals == 1


async def test_an_exported_trail_verifies_offline_and_tampering_fails_it(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    store = EventStore(pool)
    a, _, c = await filled(store)
    async with pool.acquire() as conn:
        await seal(conn)
        await store.append([new_event(a, 5)], expected={a: 4}, metadata=META)  # unsealed
        trail = await export_trail(conn, [a, c], tenant="haarlem", subject={"kind": "test"})
    path = tmp_path / "trail.json"
    path.write_text(json.dumps(trail))

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-I", str(VERIFIER), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )

    ok = run()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "9 events chained, 8 proven in seals, 1 not yet sealed" in ok.stdout
    for change in ("payload", "recorded_at", "metadata"):
        altered = json.loads(json.dumps(trail))
        event = altered["events"][2]
        event[change] = (
            '{"n": 99}'
            if change == "payload"
            else "2020-01-01T00:00:00+00:00"
            if change == "recorded_at"
            else "{}"
        )
        path.write_text(json.dumps(altered))
        bad = run()
        assert bad.returncode == 1 and f"position {event['position']}" in bad.stdout
    dropped = json.loads(json.dumps(trail))
    del dropped["events"][1]
    path.write_text(json.dumps(dropped))
    assert run().returncode == 1
    forged = json.loads(json.dumps(trail))
    forged["seals"][0]["root"] = "00" * 32
    path.write_text(json.dumps(forged))
    assert "seal 1" in run().stdout
