"""The candidate index's lexemes: the fold has PostgreSQL stem each new document once per
batch and writes the lexemes with the row; every version holds what `to_tsvector('dutch',
...)` gives for its documents, through changes of the details, reschedules, a start, a
catch-up of several events in one batch and a replay."""

from __future__ import annotations

from datetime import date

from tests.activities.support import plan, taalcafe, tuesdays
from tests.platforms import Platform
from verbinders.application import activities as service
from verbinders.application.context import Actor
from verbinders.domain.activity_details import ActivityChanges
from verbinders.domain.overlap import mass
from verbinders.projections.engine import replay
from verbinders.runtime import Runtime

STEMMED_AS_POSTGRESQL_DOES = (
    "SELECT count(*), count(*) FILTER (WHERE title_lexemes IS DISTINCT FROM"
    " tsvector_to_array(to_tsvector('dutch', title_document)) OR lexemes IS DISTINCT FROM"
    " tsvector_to_array(to_tsvector('dutch', document))),"
    " count(DISTINCT lexemes)"
    " FROM overlap_candidates.candidates"
)


async def test_every_version_holds_the_lexemes_of_its_documents(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    run = runtime.pipeline.run
    org = actors["organisation"]
    first = await plan(runtime, org, platform.party)
    await runtime.runner.catch_up("overlap_candidates")  # the rest in one batch
    second = await plan(runtime, org, platform.party, details=taalcafe("Huiswerkklas"))
    await run(
        service.update_activity,
        org,
        first,
        ActivityChanges(title="Naaiatelier voor moeders", description="Samen kleding maken"),
    )
    await run(
        service.update_activity,
        org,
        first,
        ActivityChanges(schedule=tuesdays(last=date(2026, 5, 26))),
    )
    await run(service.update_activity, org, second, ActivityChanges(expected_participants=30))
    await runtime.runner.catch_up("overlap_candidates")
    async with runtime.connection() as conn:
        versions, differing, distinct = await conn.fetchrow(STEMMED_AS_POSTGRESQL_DOES)
        assert versions >= 4
        assert differing == 0
        assert distinct == 3  # the first's two details and the second's
        # the masses the search's bound reads, and the title's lexemes the document lacks
        for row in await conn.fetch(
            "SELECT title_lexemes, lexemes, title_only, word_mass, title_mass"
            " FROM overlap_candidates.candidates"
        ):
            title, words = set(row["title_lexemes"]), set(row["lexemes"])
            assert set(row["title_only"] or ()) == title - words
            assert (row["title_only"] is None) == (title <= words)
            assert row["word_mass"] == mass(words | title)
            assert row["title_mass"] == mass(title)
        live = await conn.fetch(
            "SELECT id, title_lexemes, lexemes FROM overlap_candidates.candidates"
            " WHERE valid_to IS NULL ORDER BY id"
        )
        planned, now = await conn.fetch(
            "SELECT lexemes FROM overlap_candidates.candidates WHERE id = $1"
            " AND (valid_from = (SELECT min(valid_from) FROM overlap_candidates.candidates"
            " WHERE id = $1) OR valid_to IS NULL) ORDER BY valid_from",
            first,
        )
        assert planned["lexemes"] != now["lexemes"]  # the new title and description's
        await replay(conn, runtime.runner.projections["overlap_candidates"])
        assert (await conn.fetchrow(STEMMED_AS_POSTGRESQL_DOES))[:2] == (versions, 0)
        assert (
            await conn.fetch(
                "SELECT id, title_lexemes, lexemes FROM overlap_candidates.candidates"
                " WHERE valid_to IS NULL ORDER BY id"
            )
            == live
        )
