"""Events' public names (`event_names`): shown by `/events`, `/events/stream` and the export,
filtered on by `/events?topic=`; an unknown name is refused naming the known ones."""

from __future__ import annotations

import io

import httpx

from tests.api.conftest import Platform
from verbinders.cli.store_commands import write_ndjson
from verbinders.event_names import event_names, public_name, topic_of
from verbinders.runtime import Runtime


def test_every_registered_event_has_a_stable_dotted_name() -> None:
    names = event_names()
    assert names["organisation.registered"] == (
        "verbinders.domain.organisations:Organisation.Registered"
    )
    assert topic_of("membership.application_withdrawn") is not None
    for name, topic in names.items():
        assert name.count(".") == 1 and name == name.lower(), name
        assert public_name(topic) == name
    assert public_name("gone.module:Thing.Happened") == "gone.module:Thing.Happened"


async def test_the_feed_shows_and_filters_by_public_names(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    auditor = platform.auth("auditor")
    page = (await client.get("/events?limit=1000", headers=auditor)).json()
    topics = {event["topic"] for event in page["events"]}
    assert "organisation.registered" in topics
    assert all(":" not in topic for topic in topics), topics

    only = await client.get("/events?topic=organisation.registered", headers=auditor)
    assert only.status_code == 200
    registered = only.json()["events"]
    assert registered
    assert {event["topic"] for event in registered} == {"organisation.registered"}

    for unknown in ("Organisation.Registered", "organisation.flew_away"):
        refused = await client.get(f"/events?topic={unknown}", headers=auditor)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert (problem["field"], problem["rule"]) == ("topic", "choice")
        assert "docs/api.md" in problem["detail"]
        assert "organisation.registered" in problem["known"]

    sink = io.BytesIO()
    await write_ndjson(runtime, sink, 0, None, None, platform.slug)
    exported = sink.getvalue().decode()
    assert '"topic":"organisation.registered"' in exported
    assert '"topic":"verbinders.' not in exported


def test_docs_list_every_event_name() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    missing = [name for name in event_names() if f"| `{name}` |" not in text]
    assert not missing, missing
