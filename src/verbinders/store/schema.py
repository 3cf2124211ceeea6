"""The store's schema, created and upgraded automatically and idempotently at start.

Each migration runs once, in order, in its own transaction, under an advisory lock so that
several processes starting together do not race. The applied versions are kept in
`schema_migrations`.

How the global feed stays gapless without serialising writers
-------------------------------------------------------------
Positions come from a sequence, so concurrent appends run in parallel, but a sequence hands
out numbers in allocation order while transactions commit in any order: a reader that simply
follows `position > checkpoint` could pass position 11 (committed) while 10 is still in flight,
and skip 10 for ever.

An append therefore, before it allocates positions, reads the sequence's last value L and
takes a *shared* transaction-level advisory lock keyed on L, in a key space reserved for it
(2^62 + L; `feed_enter`, see `feed_guards.py`, once per transaction: every position the
transaction takes later is above the first L). Every position it then allocates is above L,
and the lock is released only when its transaction ends. `feed_horizon()` reads first the
sequence's last value S, then the smallest such key among the locks held in this database;
every position up to min(S, smallest key) belongs to a finished transaction, so a reader that
stays at or below the horizon never sees a later commit appear behind its checkpoint.
Shared locks never wait for each other, so writers are not serialised; long-running readers
(reports, backups) do not hold the horizon back, only an append still in flight does, and
`feed_status()` names it. Each stream's versions are checked inside the same statement or
function, after earlier appends to the stream committed, so the feed keeps every stream's
version order.

The argument needs READ COMMITTED readers (a statement's snapshot taken after the horizon),
a sequence without cache on the primary, and durable commits of appends: `feed_guards.py`
enforces each.

What a position means
---------------------
Positions increase along the feed in the order in which appends become visible to readers:
a reader that has seen position p never later sees an event below p. They are not
contiguous: two appends running at once take interleaved positions (one append's events are
in its order, but others' may lie between them), and positions are skipped where an append
rolled back, met a conflict or a lock timeout after allocating, and after a crash (PostgreSQL
logs the sequence ahead of use, so it resumes up to 32 values further on). A position is never
handed out twice. Consumers follow the feed by "the last position seen", never by counting.

Single-stream appends: one statement, no stream lock
---------------------------------------------------
Most appends name one stream (a command on one aggregate). They are one plain statement,
`APPEND_ONE` (or `APPEND_MANY` for several events of the stream), not a function call:

- a materialised CTE takes the horizon's shared lock (above) before the row's `nextval()`
  (`HORIZON_CTE` for an append that is a transaction of its own, `feed_enter()` inside a
  caller's transaction);
- the version check is "version `expected` is visible (or `expected` is 0)": the new rows
  are versions expected + 1, ..., and the unique index on (stream_id, version) refuses a
  stale expected version, waiting first for an uncommitted rival (the winner's commit makes
  it a unique violation, its rollback lets this append through). An expected version ahead
  of the stream inserts nothing; the store then reads the actual version for the error;
- because a version is inserted only once its predecessor is visible, its position is
  allocated after the predecessor's, so the feed keeps each stream's version order.

Such an append inserts rows of one stream only and waits for nothing after them, so it takes
no stream lock and cannot deadlock with another single-stream append.

Multi-stream appends take turns per stream
------------------------------------------
`append_events`, before its version check, takes an exclusive transaction-level advisory lock
per stream (two-key form, namespace `LOCK_NAMESPACE_STREAMS`, so the horizon ignores it), in one
global order. Without it, two atomic appends naming streams (a, b) and (b, a) could each insert
one row and wait for the other on the unique index: a deadlock, broken by PostgreSQL after a
second as an error instead of a `StreamConflict`. Now the later append waits, then fails the
version check. A single-stream append slipping in between the check and the insert meets it
on the unique index instead. Appends to different streams still run in parallel.

`recorded_at` is the clock when the append passed its version check (one value for the whole
append; in the single-stream statements, the clock read during execution, after the statement's
snapshot was taken), not the transaction's start: an append to a stream can begin its
transaction before the stream's previous append and still pass the check after it, and with the
transaction's start its event would look older than its predecessor (a stream read "as of" a
moment would show version n without version n - 1). Taken after the check, a stream's times
follow its versions.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import asyncpg

from verbinders.store import chain, feed_guards, moments

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.database import Connection

__all__ = [
    "APPEND_MANY",
    "APPEND_MANY_IN_TRANSACTION",
    "APPEND_ONE",
    "APPEND_ONE_IN_TRANSACTION",
    "APPEND_ONE_UNCHANGED",
    "APPEND_ONE_UNCHANGED_IN_TRANSACTION",
    "APPEND_STREAMS",
    "CALL_APPEND_EVENTS",
    "HORIZON_CTE",
    "HORIZON_CTE_IN_TRANSACTION",
    "INSERT_MANY",
    "INSERT_ONE",
    "MIGRATIONS",
    "MOMENT_INDEX",
    "MOVED_STREAMS",
    "STREAM_VERSION",
    "ensure_moment_index",
    "install_schema",
]

# Namespace (first key) of the two-key advisory locks the product takes; one-key (bigint) locks
# at and above 2^62 are the feed horizon's (`feed_guards.FEED_LOCK_BASE`).
LOCK_NAMESPACE_MIGRATIONS = 7_100
LOCK_NAMESPACE_PROJECTIONS = 7_101
LOCK_NAMESPACE_STREAMS = 7_102  # written into append_events

# The horizon's shared lock in its reserved key space (see the notes above and
# `feed_guards.py`), a durable commit, and the append's clock, as a CTE: for an append that is
# a transaction of its own (an autocommit statement on the store's lane or pool, whose
# statement_timeout bounds it), in plain SQL.
HORIZON_CTE = """horizon AS MATERIALIZED (
    SELECT pg_advisory_xact_lock_shared(
               4611686018427387904 + CASE WHEN is_called THEN last_value ELSE 0 END),
           set_config('synchronous_commit', 'on', true),
           clock_timestamp() AS recorded_at
      FROM event_position_seq
)"""

# The same for an append inside a caller's transaction: `feed_enter()` takes the lock once per
# transaction and bounds the transaction from then on (PostgreSQL 17+).
HORIZON_CTE_IN_TRANSACTION = """horizon AS MATERIALIZED (SELECT feed_enter() AS recorded_at)"""

# One event appended to one stream ($4 = the stream's expected version); see the notes above.
# The predecessor's row gives both the version check and the hash the new one chains to
# (store/chain.py); OFFSET 0 keeps the subquery whole, so nextval() runs once per row and the
# hash covers the position the row gets.
INSERT_ONE = """INSERT INTO events (position, tenant, stream_id, stream_type, version, topic,
                    payload, metadata, recorded_at, hash)
SELECT n.position, $1, $2, $3, $4::integer + 1, $5, $6, $7, n.recorded_at,
       sha256(n.previous || event_body($1, $2, $3, $4::integer + 1, n.position, $5,
                                       n.recorded_at, $7, $6))
  FROM (SELECT nextval('event_position_seq') AS position, h.recorded_at,
               coalesce(p.hash, decode(repeat('00', 32), 'hex'))
                   AS previous
          FROM horizon h LEFT JOIN events p ON p.stream_id = $2 AND p.version = $4::integer
         WHERE $4::integer = 0 OR p.hash IS NOT NULL
        OFFSET 0) n
RETURNING position"""

# Several events of one stream: $5 topics and $6 payloads, versions $4 + 1, $4 + 2, ..., each
# chained to the one before it (the `event_chain` aggregate as a running window).
INSERT_MANY = """INSERT INTO events (position, tenant, stream_id, stream_type, version, topic,
                    payload, metadata, recorded_at, hash)
SELECT n.position, $1, $2, $3, n.version, n.topic, n.payload, $7, n.recorded_at,
       event_chain(n.previous, event_body($1, $2, $3, n.version, n.position, n.topic,
                                          n.recorded_at, $7, n.payload))
           OVER (ORDER BY n.n ROWS UNBOUNDED PRECEDING)
  FROM (SELECT nextval('event_position_seq') AS position, $4::integer + e.n::integer AS version,
               e.topic, e.payload, e.n, h.recorded_at,
               coalesce(p.hash, decode(repeat('00', 32), 'hex'))
                   AS previous
          FROM horizon h LEFT JOIN events p ON p.stream_id = $2 AND p.version = $4::integer
               CROSS JOIN unnest($5::text[], $6::jsonb[]) WITH ORDINALITY AS e(topic, payload, n)
         WHERE $4::integer = 0 OR p.hash IS NOT NULL
         ORDER BY e.n
        OFFSET 0) n
RETURNING position"""

# INSERT_ONE that also requires streams it does not write to be still at the versions a
# command used them at ($8 streams, $9 versions: aggregates it took from the aggregate cache
# without reading them, see store/aggregate_cache.py): each stream's latest visible version
# must be exactly that one (one backward probe of the (stream_id, version) index each), else
# nothing is inserted.
UNCHANGED_CONDITION = """
           AND NOT EXISTS (
               SELECT FROM unnest($8::uuid[], $9::integer[]) AS u(stream_id, version)
                WHERE (SELECT max(x.version) FROM events x WHERE x.stream_id = u.stream_id)
                      IS DISTINCT FROM u.version)"""
INSERT_ONE_UNCHANGED = INSERT_ONE.replace(
    "WHERE $4::integer = 0 OR p.hash IS NOT NULL\n",
    f"WHERE ($4::integer = 0 OR p.hash IS NOT NULL){UNCHANGED_CONDITION}\n",
    1,
)
assert INSERT_ONE_UNCHANGED != INSERT_ONE

# The streams of $1 whose latest version is not the one in $2 (same order), with it.
MOVED_STREAMS = """SELECT u.stream_id, u.version, v.actual
  FROM unnest($1::uuid[], $2::integer[]) AS u(stream_id, version),
       LATERAL (SELECT coalesce(max(e.version), 0) AS actual
                  FROM events e WHERE e.stream_id = u.stream_id) AS v
 WHERE v.actual <> u.version"""

APPEND_ONE = f"WITH {HORIZON_CTE}\n{INSERT_ONE}"
APPEND_MANY = f"WITH {HORIZON_CTE}\n{INSERT_MANY}"
APPEND_ONE_IN_TRANSACTION = f"WITH {HORIZON_CTE_IN_TRANSACTION}\n{INSERT_ONE}"
APPEND_ONE_UNCHANGED = f"WITH {HORIZON_CTE}\n{INSERT_ONE_UNCHANGED}"
APPEND_ONE_UNCHANGED_IN_TRANSACTION = f"WITH {HORIZON_CTE_IN_TRANSACTION}\n{INSERT_ONE_UNCHANGED}"
APPEND_MANY_IN_TRANSACTION = f"WITH {HORIZON_CTE_IN_TRANSACTION}\n{INSERT_MANY}"

# Streams of several aggregates at once ($2 streams, $3 their expected versions).
CALL_APPEND_EVENTS = "append_events($1, $2, $3, $4, $5, $6, $7, $8, $9)"
APPEND_STREAMS = f"SELECT * FROM {CALL_APPEND_EVENTS}"

STREAM_VERSION = "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1"

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "event store",
        r"""
CREATE SEQUENCE event_position_seq AS bigint CACHE 1;

CREATE TABLE events (
    position     bigint      PRIMARY KEY,
    tenant       text        NOT NULL,
    stream_id    uuid        NOT NULL,
    stream_type  text        NOT NULL,
    version      integer     NOT NULL CHECK (version > 0),
    topic        text        NOT NULL,
    payload      jsonb       NOT NULL,
    metadata     jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX events_stream_version ON events (stream_id, version);
CREATE INDEX events_tenant_position ON events (tenant, position);
CREATE INDEX events_recorded_at ON events USING brin (recorded_at);

-- The store is append-only: rows are never changed or removed.
CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the events table is append-only (% refused)', TG_OP
        USING ERRCODE = 'VB403';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

CREATE TABLE snapshots (
    stream_id    uuid        NOT NULL,
    version      integer     NOT NULL,
    tenant       text        NOT NULL,
    stream_type  text        NOT NULL,
    topic        text        NOT NULL,
    state        jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, version)
);

CREATE TABLE checkpoints (
    name        text        PRIMARY KEY,
    position    bigint      NOT NULL CHECK (position >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Keys for personal data, one per person; forgetting a person deletes the key.
CREATE TABLE personal_keys (
    subject     uuid        PRIMARY KEY,
    tenant      text        NOT NULL,
    key         bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE forgotten_subjects (
    subject      uuid        PRIMARY KEY,
    tenant       text        NOT NULL,
    forgotten_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION append_events(
    p_tenant      text,
    p_streams     uuid[],
    p_expected    integer[],
    p_ev_streams  uuid[],
    p_ev_types    text[],
    p_ev_versions integer[],
    p_ev_topics   text[],
    p_ev_payloads jsonb[],
    p_metadata    jsonb
) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
    conflict   record;
    low        bigint;
    stream_key integer;
    recorded   timestamptz;
BEGIN
    -- Appends to the same stream take turns; several streams are locked in one global order,
    -- so that appends naming them in different orders cannot deadlock (see the module's notes).
    FOR stream_key IN SELECT DISTINCT uuid_hash(s) FROM unnest(p_streams) AS s ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(7102, stream_key);
    END LOOP;

    SELECT s.stream_id, s.expected, v.actual
      INTO conflict
      FROM unnest(p_streams, p_expected) AS s(stream_id, expected),
           LATERAL (SELECT coalesce(max(e.version), 0) AS actual
                      FROM events e WHERE e.stream_id = s.stream_id) AS v
     WHERE v.actual <> s.expected
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'stream % is at version %, not at the expected version %',
            conflict.stream_id, conflict.actual, conflict.expected
            USING ERRCODE = 'VB409',
                  DETAIL = json_build_object(
                      'stream_id', conflict.stream_id,
                      'expected', conflict.expected,
                      'actual', conflict.actual)::text;
    END IF;
    -- After the check, so that every stream's recorded times follow its versions.
    recorded := clock_timestamp();

    -- Announce the lowest position this transaction may take (see feed_horizon).
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO low FROM event_position_seq;
    PERFORM pg_advisory_xact_lock_shared(low);

    RETURN QUERY
    INSERT INTO events (position, tenant, stream_id, stream_type, version, topic, payload,
                        metadata, recorded_at)
    SELECT nextval('event_position_seq'), p_tenant, e.stream_id, e.stream_type, e.version,
           e.topic, e.payload, p_metadata, recorded
      FROM unnest(p_ev_streams, p_ev_types, p_ev_versions, p_ev_topics, p_ev_payloads)
           AS e(stream_id, stream_type, version, topic, payload)
    RETURNING position;
END $$;

CREATE FUNCTION feed_horizon() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    allocated bigint;
    in_flight bigint;
BEGIN
    -- Order matters: the sequence first, then the locks (see the module's notes).
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO allocated FROM event_position_seq;
    SELECT min((l.classid::bigint << 32) | l.objid::bigint) INTO in_flight
      FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());
    RETURN least(allocated, coalesce(in_flight, allocated));
END $$;

CREATE FUNCTION read_feed(
    p_after  bigint,
    p_limit  integer,
    p_tenant text,
    p_topics text[],
    p_until  bigint
) RETURNS SETOF events LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    horizon bigint := least(feed_horizon(), coalesce(p_until, 9223372036854775807));
BEGIN
    -- A fresh snapshot per statement: rows are read after the horizon was fixed.
    IF p_tenant IS NULL AND p_topics IS NULL THEN
        RETURN QUERY SELECT * FROM events
            WHERE position > p_after AND position <= horizon
            ORDER BY position LIMIT p_limit;
    ELSIF p_tenant IS NULL THEN
        RETURN QUERY SELECT * FROM events
            WHERE position > p_after AND position <= horizon AND topic = ANY (p_topics)
            ORDER BY position LIMIT p_limit;
    ELSIF p_topics IS NULL THEN
        RETURN QUERY SELECT * FROM events
            WHERE tenant = p_tenant AND position > p_after AND position <= horizon
            ORDER BY position LIMIT p_limit;
    ELSE
        RETURN QUERY SELECT * FROM events
            WHERE tenant = p_tenant AND position > p_after AND position <= horizon
              AND topic = ANY (p_topics)
            ORDER BY position LIMIT p_limit;
    END IF;
END $$;

CREATE FUNCTION feed_status(
    OUT horizon bigint,
    OUT allocated bigint,
    OUT held_by_pid integer,
    OUT held_since timestamptz
) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO allocated FROM event_position_seq;
    horizon := feed_horizon();
    SELECT l.pid, a.xact_start INTO held_by_pid, held_since
      FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY (l.classid::bigint << 32) | l.objid::bigint, a.xact_start
     LIMIT 1;
END $$;
""",
    ),
    (
        2,
        "the feed's guards, reserved lock space and one lock per transaction",
        feed_guards.MIGRATION,
    ),
    (3, "each event's hash chained to its stream's previous one; seals", chain.MIGRATION),
    (4, "moment marks for as_of reads", moments.MIGRATION),
]


async def install_schema(
    connection: Connection,
    components: Sequence[tuple[str, Sequence[tuple[int, str, str]]]] | None = None,
) -> dict[str, int]:
    """Apply the migrations not yet applied; returns each component's version now in place.

    `components`: (name, migrations) in the order to apply them; by default every part's,
    as `verbinders.registry.migrations` collects them (this module owns the store's,
    `MIGRATIONS`).
    """
    if components is None:
        from verbinders.registry import migrations

        components = migrations()
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1, 0)", LOCK_NAMESPACE_MIGRATIONS)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " component text NOT NULL, version integer NOT NULL, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))"
        )
        rows = await connection.fetch("SELECT component, version FROM schema_migrations")
        applied = {(row["component"], row["version"]) for row in rows}
        versions: dict[str, int] = {}
        for component, steps in components:
            for version, name, sql in steps:
                if (component, version) not in applied:
                    await connection.execute(sql)
                    await connection.execute(
                        "INSERT INTO schema_migrations (component, version, name)"
                        " VALUES ($1, $2, $3)",
                        component,
                        version,
                        name,
                    )
                versions[component] = version
    return versions


MOMENT_INDEX = "events_recorded_position"
"""The btree on (recorded_at, position) that maps a moment to a position (`position_at`)."""


async def ensure_moment_index(
    connection: Connection, *, concurrently: bool = False, small: int = 100_000
) -> bool:
    """Build `MOMENT_INDEX` if it is missing; True if it is there afterwards.

    At startup (`open_database`) only on a store of fewer than `small` events, in a
    transaction that waits at most 100 ms for the table's lock (an append left open, a
    rival building it): the build then takes no time, and nothing waits on it for long.
    On a bigger store, `concurrently=True` (`verbinders index-moments`) builds it with CREATE INDEX
    CONCURRENTLY, outside any transaction, so that appends go on meanwhile (a migration's
    transaction would lock them out for the whole build); it waits for every transaction
    open when it starts. Without the index `position_at` works from the BRIN index on
    recorded_at, only slower."""
    valid = await connection.fetchval(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace",
        MOMENT_INDEX,
    )
    if valid:
        return True
    if not concurrently:
        if valid is not None:
            return False  # being built concurrently, or an interrupted build: not here
        events = await connection.fetchval(
            "SELECT count(*) FROM (SELECT FROM events LIMIT $1) AS found", small
        )
        if events >= small:
            return False
        try:
            async with connection.transaction():
                await connection.execute("SET LOCAL lock_timeout = '100ms'")
                await connection.execute(
                    f"CREATE INDEX IF NOT EXISTS {MOMENT_INDEX} ON events (recorded_at, position)"
                )
        except (
            asyncpg.LockNotAvailableError,
            asyncpg.UniqueViolationError,
            asyncpg.DuplicateTableError,
        ):
            return False  # busy, or a rival process built it meanwhile: a later start
        return True
    if valid is not None:  # invalid: being built elsewhere, or an interrupted build
        building = await connection.fetchval(
            "SELECT EXISTS (SELECT FROM pg_stat_progress_create_index"
            " WHERE relid = 'events'::regclass)"
        )
        if building:
            return False
        await connection.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {MOMENT_INDEX}")
    with contextlib.suppress(asyncpg.DuplicateTableError):  # another process built it meanwhile
        await connection.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {MOMENT_INDEX}"
            " ON events (recorded_at, position)"
        )
    return True
