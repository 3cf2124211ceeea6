"""The store's migration 4: recorded times that never go back along the feed.

Why
---
`as_of` maps a moment to a position: the last position recorded at or before it
(`EventStore.position_at`). Up to migration 3 an append read the clock, then took its
positions from the sequence, unserialised. Two appends running at once could therefore take
their positions in the other order than their clocks (A reads t1, B reads t2 > t1, B takes
position 10, A position 11), and a big batch took its 5,000 positions well after its clock:
`recorded_at` was out of order with `position` by up to a statement's duration. The last
position recorded by a moment was then not the position of the last event by time, and the
lookup read every event recorded in the two seconds before the moment (a heuristic bound on
that disorder, never enforced, and thousands of index entries at a high write rate).

How
---
`feed_allocate(n)` takes an append's positions and its time together, under an exclusive
two-key advisory lock (`schema.LOCK_NAMESPACE_FEED_CLOCK`, 7103; the horizon counts one-key
locks only): n calls of `nextval`, then the clock, raised to the previous append's time if
the clock is behind it (a clock stepped back), kept in `feed_clock_seq` (microseconds since
1970; a sequence, so that it is not rolled back with an append and costs no row lock). So along the
positions the times never decrease: the last entry of the index on (recorded_at, position)
at or before a moment is the answer, one probe of the index whatever the write rate.

Only the allocation is serialised, for microseconds, never a transaction: the lock is a
transaction-level lock taken in a subtransaction that the function ends by raising (and
catching) its own error, which releases the lock there and then; whatever the caller's
transaction does next, waits for, or how it ends, the lock is already free, and no error or
cancel inside can leave it held. Sequence values and `setval` are not rolled back with it.
Nothing waits while the lock is held (no row, no other lock), so it takes part in no deadlock.

Each append calls it once, after its version check and after the horizon's lock (so its
positions are above the key it announced, `schema.py`): `INSERT_ONE` and `INSERT_MANY`
(schema.py) in the row that passed the check, `append_events` (below) after its stream locks
and check. A stream's times still follow its versions (a version is allocated after its
predecessor committed), and `recorded_at` is still the time the append passed its check, up
to the microseconds of waiting for the lock.

Stores from before
------------------
Events appended before this migration keep their times (the hash chain covers them, and the
table is append-only). `feed_clock` notes where the serialised times start: `legacy_until`,
the sequence's last value when the migration ran (every event at or below it took its
position before the migration read the clock), and `since`, that clock; `feed_clock_seq`
starts there. So every event above `legacy_until` appended by this code has a time at or
after `since`, and every event at or below it one before `since`:
- a moment at or after `since`: the last index entry by then, or the highest position at or
  below `legacy_until`, whichever is higher (both index probes);
- a moment before `since`: the old lookup, the highest position among the events recorded in
  the two seconds up to the last time recorded by then, as before this migration.
A store created with this migration has `legacy_until` 0 and `since` -infinity: every moment
takes the first way.

During a rolling upgrade, processes still running the code from before this migration take
their positions and times as before (their own statements): their appends may be out of order
with the others' by up to a statement's duration, as every append was before; such a
process's multi-stream appends run the new `append_events` (the migration replaced it).
"""

from __future__ import annotations

__all__ = ["MIGRATION", "POSITION_AT_SQL"]

POSITION_AT_SQL = (
    "(SELECT CASE WHEN {moment} >= fc.since THEN coalesce(greatest("
    "(SELECT pa.position FROM events pa WHERE pa.recorded_at <= {moment}"
    " ORDER BY pa.recorded_at DESC, pa.position DESC LIMIT 1),"
    " (SELECT max(pl.position) FROM events pl WHERE pl.position <= fc.legacy_until)), 0)"
    " ELSE (SELECT coalesce(max(pa.position + 0), 0) FROM events pa"
    " WHERE pa.recorded_at <= {moment} AND pa.recorded_at >= (SELECT max(pb.recorded_at)"
    " FROM events pb WHERE pb.recorded_at <= {moment}) - interval '2 seconds') END"
    " FROM feed_clock fc)"
)
"""SQL: the last position recorded by the moment `{moment}` (see the module's notes and
`EventStore.position_at`). At or after `feed_clock.since`, one probe of the btree on
(recorded_at, position) (`schema.MOMENT_INDEX`) and one of the primary key; before it (events
of a store from before migration 4), two short ranges of the same btree (`position + 0` keeps
the planner from walking the primary key backwards instead)."""

MIGRATION = r"""
-- The time of the last append's allocation, in microseconds since 1970 (never decreases).
CREATE SEQUENCE feed_clock_seq AS bigint MINVALUE 0 NO CYCLE CACHE 1;

-- Where serialised times start (see store/feed_clock.py): one row.
CREATE TABLE feed_clock (
    one           boolean     PRIMARY KEY DEFAULT true CHECK (one),
    legacy_until  bigint      NOT NULL CHECK (legacy_until >= 0),
    since         timestamptz NOT NULL
);
INSERT INTO feed_clock (legacy_until, since)
SELECT s.last, CASE WHEN s.last = 0 THEN '-infinity'::timestamptz ELSE clock_timestamp() END
  FROM (SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS last
          FROM event_position_seq) s;
SELECT setval('feed_clock_seq',
              (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);

-- An append's positions (n of them, increasing) and its time, taken together under an
-- exclusive lock held only for this (see store/feed_clock.py).
CREATE FUNCTION feed_allocate(n integer, OUT positions bigint[], OUT recorded_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    now_us bigint;
BEGIN
    BEGIN
        PERFORM pg_advisory_xact_lock(7103, 0);
        IF n = 1 THEN
            positions := ARRAY[nextval('event_position_seq')];
        ELSE
            positions := ARRAY(SELECT nextval('event_position_seq') FROM generate_series(1, n));
        END IF;
        now_us := setval('feed_clock_seq',
                         greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
                                  (SELECT last_value FROM feed_clock_seq)));
        -- Ends the subtransaction, and with it the lock; the values above are kept.
        RAISE SQLSTATE 'VB100';
    EXCEPTION WHEN SQLSTATE 'VB100' THEN
        NULL;
    END;
    recorded_at := 'epoch'::timestamptz + now_us * interval '1 microsecond';
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
    allocated  record;
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
    -- The horizon's lock (once per transaction), durable commit, the transaction's bound; then
    -- the positions and the time together, after the check, so that every stream's recorded
    -- times follow its versions and the feed's never go back (store/feed_clock.py).
    PERFORM feed_enter();
    SELECT * INTO allocated FROM feed_allocate(cardinality(p_ev_streams));

    -- Each stream's chain in version order from its previous hash (store/chain.py).
    RETURN QUERY
    INSERT INTO events (position, tenant, stream_id, stream_type, version, topic, payload,
                        metadata, recorded_at, hash)
    SELECT n.position, p_tenant, n.stream_id, n.stream_type, n.version, n.topic, n.payload,
           p_metadata, allocated.recorded_at,
           event_chain(n.previous,
                       event_body(p_tenant, n.stream_id, n.stream_type, n.version, n.position,
                                  n.topic, allocated.recorded_at, p_metadata, n.payload))
               OVER (PARTITION BY n.stream_id ORDER BY n.version)
      FROM (SELECT e.*,
                   coalesce((SELECT x.hash FROM events x
                              WHERE x.stream_id = e.stream_id AND x.version = e.version - 1),
                            decode(repeat('00', 32), 'hex'))
                       AS previous
              FROM unnest(allocated.positions, p_ev_streams, p_ev_types, p_ev_versions,
                          p_ev_topics, p_ev_payloads)
                   WITH ORDINALITY AS e(position, stream_id, stream_type, version, topic,
                                        payload, n)
            OFFSET 0) n
     ORDER BY n.n
    RETURNING position;
END $$;
"""
