"""The store's migration 2: what the feed's correctness rests on, enforced in SQL.

The feed (see `schema.py`) is gapless only on the setup it assumes. This migration makes the
database check that setup and refuse, loudly, where it does not hold, and keeps a stalled
feed bounded and visible.

Reserved lock space
-------------------
The horizon's locks are one-key (bigint) *shared* transaction-level advisory locks at
`FEED_LOCK_BASE` (2^62) + L, where L is the sequence's last value when the append started
(`feed_enter`). `feed_horizon()` counts shared locks in [2^62, 2^63) only: an advisory lock
that anything else in the database takes (`pg_advisory_lock(5)`, a negative key) no longer
pins or hides the feed. The two-key form keeps the product's other locks (migrations,
projections, streams: `LOCK_NAMESPACE_*` in `schema.py`). Nothing else may take one-key locks
at or above 2^62 in this database; positions stay below 2^62 (4.6e18).

Upgrading a running system: processes still running the code from before this migration
append with their own SQL text, which locks the old key L (below 2^62). The new
`feed_horizon()` therefore also counts shared one-key locks below 2^62 held by a backend whose
`application_name` is `verbinders` (every connection the product opens is named so), and only
looks those backends up when such a lock exists at all (so a shared one-key lock that another
application keeps below 2^62 makes each horizon a little slower, never wrong). A rolling deploy
stays correct while old and new processes append side by side; advisory locks of other
applications are ignored.
(A prepared transaction of the old code, which the old code never makes, would not be seen.)
A later migration can drop this once no deployment predates migration 2.

One horizon lock per transaction
--------------------------------
`feed_enter()` takes the lock on the first append of a transaction and notes it in the
transaction-local setting `verbinders.feed_entered`; later appends of the transaction skip it:
every position the transaction takes later is above the first key. The note and the lock go
together: both end with the transaction, and both are undone when a savepoint around the first
append rolls back. (Before, every append took a lock of its own: 10,000 appends in one
transaction made `feed_horizon()` 30 times slower, 15,500 ran out of lock memory.)

Each append also sets, for its transaction only:
- `synchronous_commit = on`: an acknowledged append is on disk whatever the server's, the
  database's or the session's default (a projection's connection runs with `off`). With `off`,
  an immediate stop loses acknowledged appends and can hand out their positions again;
- `transaction_timeout` (PostgreSQL 17 and newer) from the first append on, to the session's
  `verbinders.append_timeout` (set by every connection of the product from
  `VERBINDERS_APPEND_TRANSACTION_TIMEOUT_S`; 10 s on other connections): a transaction that
  appended and stays open is ended, and with it the hold on the feed. Older servers have no
  such setting; the store's watchdog (`store/watchdog.py`) ends such transactions instead.

Guards
------
`feed_horizon()`, and so `read_feed()` and the projection engine's `projection_batch()`,
refuse to answer (`feed_check()`) where the horizon would be wrong:
- `VB010`: the transaction is not READ COMMITTED. A REPEATABLE READ or SERIALIZABLE snapshot
  is taken before the horizon is fixed, misses events that commit below it, and the reader
  moves past them for ever. Every connection of the product pins `read committed`;
- `VB011`: `event_position_seq` is not INCREMENT 1, CACHE 1, NO CYCLE. With a cache, sessions
  hand out positions from private ranges in any order, and the horizon's argument fails;
- `VB012`: the server is a standby, which does not see the primary's advisory locks.
The same check runs when a process opens the database, and `feed_status()` reports it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import asyncpg

from verbinders.errors import FeedRefused

__all__ = ["FEED_LOCK_BASE", "FEED_REFUSALS", "MIGRATION", "feed_refusal"]

FEED_LOCK_BASE = 1 << 62
"""The first key of the horizon's reserved one-key advisory lock space."""

FEED_REFUSALS = {"VB010": "isolation", "VB011": "sequence", "VB012": "standby"}
"""SQLSTATEs of `feed_check()`: the feed cannot be read here, and why."""


@contextlib.contextmanager
def feed_refusal() -> Iterator[None]:
    """`FeedRefused` for the feed's guards (`feed_guards.py`): what is wrong and the fix."""
    try:
        yield
    except asyncpg.PostgresError as error:
        reason = FEED_REFUSALS.get(error.sqlstate or "")
        if reason is None:
            raise
        hint = getattr(error, "hint", None)
        message = str(getattr(error, "message", None) or error)
        raise FeedRefused(f"{message} ({hint})" if hint else message, reason=reason) from error


MIGRATION = r"""
CREATE FUNCTION feed_enter() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    low bigint;
BEGIN
    -- Durable commits for appends, whatever the session's default (see store/feed_guards.py).
    PERFORM set_config('synchronous_commit', 'on', true);
    IF current_setting('verbinders.feed_entered', true) IS DISTINCT FROM 'yes' THEN
        SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO low FROM event_position_seq;
        PERFORM pg_advisory_xact_lock_shared(4611686018427387904 + low);
        PERFORM set_config('verbinders.feed_entered', 'yes', true);
        IF current_setting('server_version_num')::integer >= 170000 THEN
            PERFORM set_config(
                'transaction_timeout',
                coalesce(nullif(current_setting('verbinders.append_timeout', true), ''), '10s'),
                true);
        END IF;
    END IF;
    -- The append's clock, read after its snapshot (see recorded_at in store/schema.py).
    RETURN clock_timestamp();
END $$;

CREATE FUNCTION feed_check() RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    isolation text := current_setting('transaction_isolation');
    seq record;
BEGIN
    IF pg_is_in_recovery() THEN
        RAISE EXCEPTION 'the event feed is read on the primary only, and this server is a standby'
            USING ERRCODE = 'VB012',
                  DETAIL = 'A standby does not see the advisory locks of appends in flight on'
                           ' the primary, so it cannot tell which positions are final.',
                  HINT = 'Connect to the primary (VERBINDERS_DATABASE_URL).';
    END IF;
    IF isolation <> 'read committed' THEN
        RAISE EXCEPTION 'the event feed is read in READ COMMITTED only, not in %', upper(isolation)
            USING ERRCODE = 'VB010',
                  DETAIL = 'A snapshot taken before the feed''s horizon was fixed misses events'
                           ' that commit below it.',
                  HINT = 'Read the feed outside REPEATABLE READ and SERIALIZABLE transactions,'
                         ' and check default_transaction_isolation.';
    END IF;
    SELECT seqincrement, seqcache, seqcycle INTO seq
      FROM pg_sequence WHERE seqrelid = 'event_position_seq'::regclass;
    IF seq.seqincrement <> 1 OR seq.seqcache <> 1 OR seq.seqcycle THEN
        RAISE EXCEPTION 'event_position_seq has INCREMENT %, CACHE %, %CYCLE; the event feed'
                        ' needs INCREMENT 1, CACHE 1, NO CYCLE',
                        seq.seqincrement, seq.seqcache,
                        CASE WHEN seq.seqcycle THEN '' ELSE 'NO ' END
            USING ERRCODE = 'VB011',
                  HINT = 'Run ALTER SEQUENCE event_position_seq INCREMENT 1 CACHE 1 NO CYCLE, then'
                         ' restart every process that appends (sessions keep values they cached).';
    END IF;
END $$;

-- The lowest position an append in flight may still commit (NULL: none in flight).
CREATE FUNCTION feed_in_flight() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    reserved bigint;
    legacy bigint;
BEGIN
    SELECT min(k.key) FILTER (WHERE k.key >= 4611686018427387904) - 4611686018427387904,
           min(k.key) FILTER (WHERE k.key < 4611686018427387904)
      INTO reserved, legacy
      FROM (SELECT (l.classid::bigint << 32) | l.objid::bigint AS key
              FROM pg_locks l
             WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.mode = 'ShareLock'
               AND l.classid::bigint < 2147483648  -- no negative keys
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           ) AS k;
    IF legacy IS NOT NULL THEN
        -- Locks below the reserved space count only if taken by the product's own code from
        -- before migration 2 (see store/feed_guards.py).
        SELECT min((l.classid::bigint << 32) | l.objid::bigint) INTO legacy
          FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.mode = 'ShareLock'
           AND l.classid::bigint < 1073741824
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND a.application_name = 'verbinders';
    END IF;
    RETURN least(reserved, legacy);
END $$;

CREATE OR REPLACE FUNCTION feed_horizon() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    allocated bigint;
    safe boolean;
BEGIN
    -- Order matters: the sequence first, then the locks (see store/schema.py).
    SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END,
           p.seqincrement = 1 AND p.seqcache = 1 AND NOT p.seqcycle
             AND current_setting('transaction_isolation') = 'read committed'
             AND NOT pg_is_in_recovery()
      INTO allocated, safe
      FROM event_position_seq s, pg_sequence p
     WHERE p.seqrelid = 'event_position_seq'::regclass;
    IF NOT safe THEN
        PERFORM feed_check();  -- raises, naming what is wrong and how to fix it
    END IF;
    RETURN least(allocated, coalesce(feed_in_flight(), allocated));
END $$;

-- Every transaction holding the feed back, lowest position first: a backend (pid), or a
-- prepared transaction (pid NULL, its gid named).
CREATE FUNCTION feed_holders() RETURNS TABLE (
    low_position bigint, pid integer, prepared_gid text, since timestamptz,
    application text, client text, state text, xact text
) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY
    WITH locks AS MATERIALIZED (
        SELECT (l.classid::bigint << 32) | l.objid::bigint AS key, l.pid AS lpid,
               l.virtualtransaction AS vxid
          FROM pg_locks l
         WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.mode = 'ShareLock'
           AND l.classid::bigint < 2147483648
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    )
    SELECT CASE WHEN k.key >= 4611686018427387904 THEN k.key - 4611686018427387904
                ELSE k.key END,
           k.lpid, px.gid, coalesce(a.xact_start, px.prepared), a.application_name::text,
           CASE WHEN a.pid IS NULL THEN NULL
                ELSE coalesce(host(a.client_addr), 'local socket') END,
           a.state, k.vxid
      FROM locks k
      LEFT JOIN pg_stat_activity a ON a.pid = k.lpid
      LEFT JOIN LATERAL (
          SELECT p.gid, p.prepared
            FROM pg_locks x JOIN pg_prepared_xacts p ON p.transaction = x.transactionid
           WHERE k.lpid IS NULL AND x.locktype = 'transactionid' AND x.virtualtransaction = k.vxid
           LIMIT 1) px ON true
     WHERE k.key >= 4611686018427387904 OR a.application_name = 'verbinders'
     ORDER BY 1, 4;
END $$;

DROP FUNCTION feed_status();
CREATE FUNCTION feed_status(
    OUT horizon bigint,
    OUT allocated bigint,
    OUT held_by_pid integer,
    OUT held_since timestamptz,
    OUT held_by_gid text,
    OUT held_by_application text,
    OUT held_by_client text,
    OUT held_by_state text,
    OUT held_for_s double precision,
    OUT holders integer,
    OUT unsafe text
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    hint text;
BEGIN
    BEGIN
        PERFORM feed_check();
    EXCEPTION WHEN SQLSTATE 'VB010' OR SQLSTATE 'VB011' OR SQLSTATE 'VB012' THEN
        GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
        unsafe := SQLERRM || coalesce(' (' || nullif(hint, '') || ')', '');
    END;
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO allocated FROM event_position_seq;
    horizon := least(allocated, coalesce(feed_in_flight(), allocated));
    SELECT h.pid, h.since, h.prepared_gid, h.application, h.client, h.state,
           extract(epoch FROM clock_timestamp() - h.since), count(*) OVER ()
      INTO held_by_pid, held_since, held_by_gid, held_by_application, held_by_client,
           held_by_state, held_for_s, holders
      FROM feed_holders() h
     ORDER BY h.low_position, h.since
     LIMIT 1;
    holders := coalesce(holders, 0);
END $$;

CREATE OR REPLACE FUNCTION append_events(
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
    stream_key integer;
    recorded   timestamptz;
BEGIN
    -- Appends to the same stream take turns; several streams are locked in one global order,
    -- so that appends naming them in different orders cannot deadlock (see store/schema.py).
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
    -- The horizon's lock (once per transaction), durable commit, the transaction's bound, and
    -- the clock after the check, so that every stream's recorded times follow its versions.
    recorded := feed_enter();

    RETURN QUERY
    INSERT INTO events (position, tenant, stream_id, stream_type, version, topic, payload,
                        metadata, recorded_at)
    SELECT nextval('event_position_seq'), p_tenant, e.stream_id, e.stream_type, e.version,
           e.topic, e.payload, p_metadata, recorded
      FROM unnest(p_ev_streams, p_ev_types, p_ev_versions, p_ev_topics, p_ev_payloads)
           AS e(stream_id, stream_type, version, topic, payload)
    RETURNING position;
END $$;
"""
