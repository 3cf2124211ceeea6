"""The projection engine's tables and functions (the `projections` component of the
registry's migrations; see `engine.py` for what they do)."""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "projection generations",
        """
CREATE TABLE projection_generations (
    name           text        NOT NULL,
    generation     integer     NOT NULL,
    version        integer     NOT NULL,
    schema_name    text        NOT NULL UNIQUE,
    state          text        NOT NULL
                   CHECK (state IN ('building', 'active', 'retired', 'historical')),
    until_position bigint,
    tenant         text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    activated_at   timestamptz,
    PRIMARY KEY (name, generation)
);
CREATE UNIQUE INDEX projection_generations_one_active
    ON projection_generations (name) WHERE state = 'active';
""",
    ),
    (
        2,
        "a batch's checkpoint, horizon and events in one round trip",
        """
-- The checkpoint of generation p_name, the feed's horizon (at most p_until), and the events
-- after the checkpoint up to that horizon (at most p_limit, of p_topics and p_tenant where
-- given). The events' columns come first, in the order of `row_to_event`; without events,
-- one row with the checkpoint and the horizon only; no row at all if the generation has no
-- checkpoint (it was dropped).
CREATE FUNCTION projection_batch(
    p_name text, p_limit integer, p_topics text[], p_tenant text, p_until bigint,
    p_payload boolean, p_metadata boolean
) RETURNS TABLE (
    ev_position bigint, ev_tenant text, ev_stream_id uuid, ev_stream_type text,
    ev_version integer, ev_topic text, ev_payload jsonb, ev_metadata jsonb,
    ev_recorded_at timestamptz, ev_checkpoint bigint, ev_horizon bigint
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    cp bigint;
    h bigint;
BEGIN
    SELECT c.position INTO cp FROM checkpoints c WHERE c.name = p_name;
    IF cp IS NULL THEN
        RETURN;
    END IF;
    h := feed_horizon();
    IF p_until IS NOT NULL THEN
        h := least(h, p_until);
    END IF;
    IF cp < h THEN
        -- Each RETURN QUERY is a statement of its own in a volatile function: its snapshot is
        -- taken after the horizon was computed, so it sees every event at or below it (see
        -- the engine). One tenant's events are found through the (tenant, position) index.
        IF p_tenant IS NULL THEN
            RETURN QUERY
            SELECT e.position, e.tenant, e.stream_id, e.stream_type, e.version, e.topic,
                   CASE WHEN p_payload THEN e.payload ELSE '{}'::jsonb END,
                   CASE WHEN p_metadata THEN e.metadata ELSE '{}'::jsonb END,
                   e.recorded_at, cp, h
              FROM events e
             WHERE e.position > cp AND e.position <= h
               AND (p_topics IS NULL OR e.topic = any(p_topics))
             ORDER BY e.position
             LIMIT p_limit;
        ELSE
            RETURN QUERY
            SELECT e.position, e.tenant, e.stream_id, e.stream_type, e.version, e.topic,
                   CASE WHEN p_payload THEN e.payload ELSE '{}'::jsonb END,
                   CASE WHEN p_metadata THEN e.metadata ELSE '{}'::jsonb END,
                   e.recorded_at, cp, h
              FROM events e
             WHERE e.tenant = p_tenant AND e.position > cp AND e.position <= h
               AND (p_topics IS NULL OR e.topic = any(p_topics))
             ORDER BY e.tenant, e.position
             LIMIT p_limit;
        END IF;
        IF FOUND THEN  -- set by the RETURN QUERY just run
            RETURN;
        END IF;
    END IF;
    ev_checkpoint := cp;
    ev_horizon := h;
    RETURN NEXT;
END $$;

-- Move generation p_name's checkpoint from p_from (as its leader read it) to p_to, or fail
-- with SQLSTATE VB001 if it is elsewhere (another leader moved it, or it was dropped).
CREATE FUNCTION move_checkpoint(p_name text, p_from bigint, p_to bigint)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE checkpoints SET position = p_to, updated_at = now()
     WHERE name = p_name AND position = p_from;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the checkpoint of % moved elsewhere', p_name USING ERRCODE = 'VB001';
    END IF;
END $$;
""",
    ),
    (
        3,
        "faults and quarantined platforms; indexes after a rebuild's load",
        """
CREATE TABLE projection_faults (
    name        text        NOT NULL,
    schema_name text        NOT NULL,
    tenant      text        NOT NULL,
    position    bigint      NOT NULL,
    topic       text        NOT NULL,
    error       text        NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_name, tenant)
);
ALTER TABLE projection_generations ADD COLUMN indexed boolean NOT NULL DEFAULT true;
""",
    ),
    (
        4,
        "a batch against a horizon read once per process; an idle batch moves its checkpoint",
        """
-- As projection_batch of migration 2 (which stays, for workers not yet upgraded), with two
-- more arguments. p_horizon: a horizon the caller read (feed_horizon()) in an earlier
-- statement, shared by the process's read models and policies, so that each batch does not
-- read pg_locks again; NULL reads it here. p_move: when no event of p_topics lies after the
-- checkpoint up to the horizon, the checkpoint moves to the horizon in this statement (as
-- move_checkpoint would, failing with VB001 if it is not where it was read), and the row
-- returned carries the new checkpoint.
CREATE FUNCTION projection_batch(
    p_name text, p_limit integer, p_topics text[], p_tenant text, p_until bigint,
    p_payload boolean, p_metadata boolean, p_horizon bigint, p_move boolean
) RETURNS TABLE (
    ev_position bigint, ev_tenant text, ev_stream_id uuid, ev_stream_type text,
    ev_version integer, ev_topic text, ev_payload jsonb, ev_metadata jsonb,
    ev_recorded_at timestamptz, ev_checkpoint bigint, ev_horizon bigint
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    cp bigint;
    h bigint;
BEGIN
    SELECT c.position INTO cp FROM checkpoints c WHERE c.name = p_name;
    IF cp IS NULL THEN
        RETURN;
    END IF;
    h := coalesce(p_horizon, feed_horizon());
    IF p_until IS NOT NULL THEN
        h := least(h, p_until);
    END IF;
    IF cp < h THEN
        -- A statement of its own: its snapshot is taken after the horizon was read.
        IF p_tenant IS NULL THEN
            RETURN QUERY
            SELECT e.position, e.tenant, e.stream_id, e.stream_type, e.version, e.topic,
                   CASE WHEN p_payload THEN e.payload ELSE '{}'::jsonb END,
                   CASE WHEN p_metadata THEN e.metadata ELSE '{}'::jsonb END,
                   e.recorded_at, cp, h
              FROM events e
             WHERE e.position > cp AND e.position <= h
               AND (p_topics IS NULL OR e.topic = any(p_topics))
             ORDER BY e.position
             LIMIT p_limit;
        ELSE
            RETURN QUERY
            SELECT e.position, e.tenant, e.stream_id, e.stream_type, e.version, e.topic,
                   CASE WHEN p_payload THEN e.payload ELSE '{}'::jsonb END,
                   CASE WHEN p_metadata THEN e.metadata ELSE '{}'::jsonb END,
                   e.recorded_at, cp, h
              FROM events e
             WHERE e.tenant = p_tenant AND e.position > cp AND e.position <= h
               AND (p_topics IS NULL OR e.topic = any(p_topics))
             ORDER BY e.tenant, e.position
             LIMIT p_limit;
        END IF;
        IF FOUND THEN  -- set by the RETURN QUERY just run
            RETURN;
        END IF;
        IF p_move THEN
            UPDATE checkpoints SET position = h, updated_at = now()
             WHERE name = p_name AND position = cp;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'the checkpoint of % moved elsewhere', p_name
                      USING ERRCODE = 'VB001';
            END IF;
            cp := h;
        END IF;
    END IF;
    ev_checkpoint := cp;
    ev_horizon := h;
    RETURN NEXT;
END $$;
""",
    ),
    (
        5,
        "the events of a topic in feed order (by the topic's hash), for rebuilds",
        """
-- A rebuild (engine.rebuild_generation) reads only its read model's topics: one ordered range
-- of this index per topic, merged by position, instead of walking the whole feed between them
-- (the directory reads a sixth of the feed). On the topic's hash, not the topic: a third of
-- the size (cheaper for appends to maintain), and no other statement's plan can change for it
-- (reading `topic = any(...)` over a wide range, the planner would take every remaining row
-- of the topics from it and sort them, batch after batch). Built in the migration's
-- transaction: on a large store the appends wait for the build (about a second per million
-- events).
CREATE INDEX IF NOT EXISTS events_topic_position ON events (hashtext(topic), position);
""",
    ),
]
"""The engine's tables and functions (the `projections` component; see `registry.py`)."""
