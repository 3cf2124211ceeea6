"""Tamper evidence: every event carries a hash chained to the previous event of its stream.

The hash is computed inside the append's own statement (`INSERT_ONE`, `INSERT_MANY` in
schema.py, `append_events` below), so the single-statement append stays one statement and no
writer can leave a row without it. Canonical bytes (format 1), UTF-8, fields joined by a line
feed:

    verbinders-event-1 \n tenant \n stream_id \n stream_type \n version \n position \n topic
      \n recorded_us \n metadata \n payload

- `stream_id`: the UUID in its canonical lower-case hyphenated text;
- `version`, `position`: decimal integers; the position is covered, so moving an event along
  the feed breaks its hash (it is allocated in the same statement, before the hash);
- `recorded_us`: `recorded_at` as whole microseconds since 1970-01-01 UTC, a decimal integer
  (independent of the session's time zone and date style);
- `metadata`, `payload`: PostgreSQL's text output of the stored `jsonb` values (keys in jsonb's
  order, `", "` and `": "` separators, strings escaped). Personal values are stored sealed with
  their subject's key (`store/personal.py`): the payload holds the ciphertext, which is what
  the hash covers, so forgetting a person (destroying the key) changes no stored byte and
  verification keeps passing;
- tenant, stream type and topic never contain a line feed (a check constraint), and the JSON
  texts cannot (jsonb escapes it), so the ten fields are read back unambiguously.

    hash(event) = SHA-256(previous || canonical bytes)

where `previous` is the hash of the stream's previous version, or 32 zero bytes for version 1.
Two appends racing for the same version read the same predecessor; the unique index on
(stream_id, version) lets exactly one of them in, so a chain never forks. A predecessor that is
not yet visible (an uncommitted rival) inserts nothing: a conflict, as before.

Events recorded before this migration are chained by the migration itself, in version order,
with the same function (their hashes attest only to the state the migration found).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

__all__ = [
    "CHAIN_FORMAT",
    "GENESIS",
    "MIGRATION",
    "canonical_bytes",
    "event_hash",
    "microseconds",
]

CHAIN_FORMAT = "verbinders-event-1"
GENESIS = bytes(32)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def microseconds(moment: datetime) -> int:
    """Whole microseconds since the epoch, exactly (no float on the way)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def canonical_bytes(
    *,
    tenant: str,
    stream_id: str,
    stream_type: str,
    version: int,
    position: int,
    topic: str,
    recorded_us: int,
    metadata: str,
    payload: str,
) -> bytes:
    """The bytes an event's hash covers (see the module's notes); JSON as PostgreSQL's text."""
    fields = (
        CHAIN_FORMAT,
        tenant,
        stream_id,
        stream_type,
        str(version),
        str(position),
        topic,
        str(recorded_us),
        metadata,
        payload,
    )
    return "\n".join(fields).encode("utf-8")


def event_hash(previous: bytes, body: bytes) -> bytes:
    return hashlib.sha256(previous + body).digest()


MIGRATION = r"""
ALTER TABLE events ADD COLUMN hash bytea;
ALTER TABLE events ADD CONSTRAINT events_single_line_names
    CHECK (strpos(tenant, E'\n') = 0 AND strpos(stream_type, E'\n') = 0
           AND strpos(topic, E'\n') = 0);

-- The canonical bytes of an event (format 1, see store/chain.py).
CREATE FUNCTION event_body(
    p_tenant text, p_stream uuid, p_type text, p_version integer, p_position bigint,
    p_topic text, p_recorded timestamptz, p_metadata jsonb, p_payload jsonb
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE
RETURN convert_to(
    'verbinders-event-1' || E'\n' || p_tenant || E'\n' || p_stream::text || E'\n' || p_type
    || E'\n' || p_version::text || E'\n' || p_position::text || E'\n' || p_topic || E'\n'
    || ((extract(epoch FROM p_recorded) * 1000000)::bigint)::text || E'\n'
    || p_metadata::text || E'\n' || p_payload::text,
    'UTF8');

-- A running chain over rows in version order: the first row starts from `prev` (the stream's
-- previous hash, or 32 zero bytes), each next one from the row before it.
CREATE FUNCTION event_chain_step(state bytea, prev bytea, body bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN sha256(coalesce(state, prev) || body);
CREATE AGGREGATE event_chain(bytea, bytea) (SFUNC = event_chain_step, STYPE = bytea);

-- Chain what was recorded before (the append-only trigger is set aside for this one update).
ALTER TABLE events DISABLE TRIGGER events_append_only;
UPDATE events e SET hash = c.hash
  FROM (SELECT position,
               event_chain(decode(repeat('00', 32), 'hex'),
                           event_body(tenant, stream_id, stream_type, version, position, topic,
                                      recorded_at, metadata, payload))
                   OVER (PARTITION BY stream_id ORDER BY version) AS hash
          FROM events) c
 WHERE e.position = c.position;
ALTER TABLE events ENABLE TRIGGER events_append_only;
ALTER TABLE events ALTER COLUMN hash SET NOT NULL;

-- Seals: a Merkle root over the events' hashes in each range of positions, chained.
CREATE TABLE seals (
    number          bigint      PRIMARY KEY CHECK (number > 0),
    after_position  bigint      NOT NULL CHECK (after_position >= 0),
    up_to_position  bigint      NOT NULL,
    events          bigint      NOT NULL CHECK (events > 0),
    root            bytea       NOT NULL,
    previous        bytea       NOT NULL,
    hash            bytea       NOT NULL,
    sealed_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (up_to_position > after_position)
);
CREATE TRIGGER seals_append_only BEFORE UPDATE OR DELETE ON seals
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

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

    -- Positions first (OFFSET 0 keeps nextval() to one call per row), then each stream's
    -- chain in version order from its previous hash (store/chain.py).
    RETURN QUERY
    INSERT INTO events (position, tenant, stream_id, stream_type, version, topic, payload,
                        metadata, recorded_at, hash)
    SELECT n.position, p_tenant, n.stream_id, n.stream_type, n.version, n.topic, n.payload,
           p_metadata, recorded,
           event_chain(n.previous,
                       event_body(p_tenant, n.stream_id, n.stream_type, n.version, n.position,
                                  n.topic, recorded, p_metadata, n.payload))
               OVER (PARTITION BY n.stream_id ORDER BY n.version)
      FROM (SELECT nextval('event_position_seq') AS position, e.*,
                   coalesce((SELECT x.hash FROM events x
                              WHERE x.stream_id = e.stream_id AND x.version = e.version - 1),
                            decode(repeat('00', 32), 'hex'))
                       AS previous
              FROM unnest(p_ev_streams, p_ev_types, p_ev_versions, p_ev_topics, p_ev_payloads)
                   WITH ORDINALITY AS e(stream_id, stream_type, version, topic, payload, n)
             ORDER BY e.n
            OFFSET 0) n
     ORDER BY n.n
    RETURNING position;
END $$;
"""
