"""The platform: one city's collaboration platform, and the tenant everything belongs to."""

from __future__ import annotations

import re
import uuid
from datetime import date

from eventsourcing.domain import Aggregate, event

from verbinders.errors import InvalidCommand

__all__ = [
    "DEFAULT_DISTRICTS",
    "DEFAULT_THEMES",
    "Platform",
    "platform_id",
    "validate_slug",
]

NAMESPACE = uuid.UUID("6f1d8a52-5b7c-4d39-9a51-0e3c2f4b7a10")
SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")

DEFAULT_DISTRICTS: tuple[str, ...] = ("Centrum", "Noord", "Oost", "Schalkwijk", "Zuid-West")
DEFAULT_THEMES: tuple[str, ...] = (
    "language",
    "care",
    "welfare",
    "health",
    "education",
    "culture",
    "sport",
    "youth",
    "elderly",
    "women",
    "work",
    "poverty",
    "integration",
)


def validate_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise InvalidCommand(
            f"platform slug {slug!r} must be 2-40 lower-case letters, digits or dashes,"
            " starting with a letter",
            field="slug",
            rule="pattern",
        )
    return slug


def platform_id(slug: str) -> uuid.UUID:
    """A platform's id follows from its slug, so that a slug is taken at most once."""
    return uuid.uuid5(NAMESPACE, f"platform/{slug}")


def _vocabulary(values: tuple[str, ...], field: str) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not cleaned:
        raise InvalidCommand(f"{field} must not be empty", field=field, rule="non-empty")
    return cleaned


class Platform(Aggregate):
    """A city's platform: its name, its districts and themes, and its point of contact."""

    STREAM_TYPE = "Platform"

    slug: str
    name: str
    city: str
    started_on: date
    districts: tuple[str, ...]
    themes: tuple[str, ...]
    point_of_contact: uuid.UUID | None

    @classmethod
    def create(
        cls,
        *,
        slug: str,
        name: str,
        city: str,
        started_on: date,
        districts: tuple[str, ...] = DEFAULT_DISTRICTS,
        themes: tuple[str, ...] = DEFAULT_THEMES,
        created_by: str,
    ) -> Platform:
        validate_slug(slug)
        if not name.strip():
            raise InvalidCommand("name must not be empty", field="name", rule="non-empty")
        if not city.strip():
            raise InvalidCommand("city must not be empty", field="city", rule="non-empty")
        return cls._create(
            cls.Created,
            id=platform_id(slug),
            slug=slug,
            name=name.strip(),
            city=city.strip(),
            started_on=started_on,
            districts=_vocabulary(districts, "districts"),
            themes=_vocabulary(themes, "themes"),
            created_by=created_by,
        )

    class Created(Aggregate.Created):
        slug: str
        name: str
        city: str
        started_on: date
        districts: tuple[str, ...]
        themes: tuple[str, ...]
        created_by: str

    def __init__(
        self,
        slug: str,
        name: str,
        city: str,
        started_on: date,
        districts: tuple[str, ...],
        themes: tuple[str, ...],
        created_by: str,
    ) -> None:
        self.slug = slug
        self.name = name
        self.city = city
        self.started_on = started_on
        self.districts = tuple(districts)
        self.themes = tuple(themes)
        self.point_of_contact = None

    def change_vocabularies(
        self,
        *,
        districts: tuple[str, ...] | None,
        themes: tuple[str, ...] | None,
        changed_by: str,
    ) -> None:
        new_districts = self.districts if districts is None else _vocabulary(districts, "districts")
        new_themes = self.themes if themes is None else _vocabulary(themes, "themes")
        if (new_districts, new_themes) != (self.districts, self.themes):
            self._vocabularies_changed(new_districts, new_themes, changed_by)

    @event("VocabulariesChanged")
    def _vocabularies_changed(
        self, districts: tuple[str, ...], themes: tuple[str, ...], changed_by: str
    ) -> None:
        self.districts = tuple(districts)
        self.themes = tuple(themes)

    def assign_point_of_contact(
        self, organisation_id: uuid.UUID | None, *, decided_by: str, reason: str
    ) -> None:
        if not reason.strip():
            raise InvalidCommand("a reason is required", field="reason", rule="non-empty")
        if organisation_id != self.point_of_contact:
            self._point_of_contact_assigned(organisation_id, decided_by, reason.strip())

    @event("PointOfContactAssigned")
    def _point_of_contact_assigned(
        self, organisation_id: uuid.UUID | None, decided_by: str, reason: str
    ) -> None:
        self.point_of_contact = organisation_id
