"""The platform of one city (one tenant): its vocabularies and its single point of contact."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from msgspec import UNSET, UnsetType

from verbinders.domain import limits, rules, text
from verbinders.domain.ids import stable_id
from verbinders.domain.vocabulary import DEFAULT_DISTRICTS, DEFAULT_THEMES, Term, Vocabulary, terms
from verbinders.errors import Conflict, InvalidCommand

__all__ = ["Platform", "platform_id", "tenant_slug"]

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def tenant_slug(value: str) -> str:
    """A tenant's slug: lower-case letters, digits and hyphens, at most 63 characters."""
    if len(value) > 63 or not _SLUG.fullmatch(value):
        raise InvalidCommand(
            f"tenant {text.shown(value)} must be lower-case letters, digits and hyphens"
            " (at most 63)",
            field="tenant",
            rule="slug",
        )
    return value


def _name(value: str) -> str:
    return rules.single_line(value, field="name", max_length=limits.PLATFORM_NAME_MAX)


def _city(value: str) -> str:
    return rules.single_line(value, field="city", max_length=limits.CITY_MAX)


def _started_on(value: date, at: datetime) -> date:
    """From 1900 to a year after the platform is created."""
    latest = min((at + limits.PLATFORM_STARTS_WITHIN).date(), limits.DATE_LATEST)
    return rules.day(value, field="started_on", latest=latest)


def platform_id(tenant: str) -> UUID:
    """A tenant has exactly one platform, at this id."""
    return stable_id(tenant, "platform", "")


class Platform(Aggregate):
    STREAM_TYPE = "Platform"

    tenant: str
    name: str
    city: str
    started_on: date
    districts: tuple[Term, ...]
    themes: tuple[Term, ...]
    point_of_contact: UUID | None
    """The organisation that is the platform's single point of contact (aanspreekpunt)."""

    @classmethod
    def create(
        cls,
        *,
        tenant: str,
        name: str,
        city: str,
        started_on: date,
        at: datetime,
        districts: Sequence[Term] = DEFAULT_DISTRICTS,
        themes: Sequence[Term] = DEFAULT_THEMES,
        point_of_contact: UUID | None = None,
    ) -> Platform:
        """A new platform at `platform_id(tenant)`; districts and themes default to Haarlem's."""
        rules.aware(at)
        return cls(
            id=platform_id(tenant_slug(tenant)),
            tenant=tenant,
            name=_name(name),
            city=_city(city),
            started_on=_started_on(started_on, at),
            districts=terms(districts, field="districts"),
            themes=terms(themes, field="themes"),
            point_of_contact=point_of_contact,
            at=at,
        )

    @event("Created")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        name: str,
        city: str,
        started_on: date,
        districts: tuple[Term, ...],
        themes: tuple[Term, ...],
        point_of_contact: UUID | None,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.name = name
        self.city = city
        self.started_on = started_on
        self.districts = districts
        self.themes = themes
        self.point_of_contact = point_of_contact

    @property
    def vocabulary(self) -> Vocabulary:
        """What organisations' themes and districts are checked against."""
        return Vocabulary(districts=self.districts, themes=self.themes)

    def change_details(
        self, *, at: datetime, name: str | UnsetType = UNSET, city: str | UnsetType = UNSET
    ) -> None:
        """Rename the platform or move it to another city; unchanged values record nothing."""
        rules.aware(at)
        new_name = self.name if name is UNSET else _name(name)
        new_city = self.city if city is UNSET else _city(city)
        if (new_name, new_city) != (self.name, self.city):
            self._details_changed(name=new_name, city=new_city, at=at)

    @event("DetailsChanged")
    def _details_changed(self, name: str, city: str, at: datetime) -> None:
        self.name = name
        self.city = city

    def change_districts(self, districts: Sequence[Term], *, at: datetime) -> None:
        """Replace the list of districts. Organisations keep the codes they chose; a code that
        left the list is only refused when an organisation sets its districts again."""
        rules.aware(at)
        checked = terms(districts, field="districts")
        if checked != self.districts:
            self._districts_changed(districts=checked, at=at)

    @event("DistrictsChanged")
    def _districts_changed(self, districts: tuple[Term, ...], at: datetime) -> None:
        self.districts = districts

    def change_themes(self, themes: Sequence[Term], *, at: datetime) -> None:
        """Replace the list of themes (same rules as districts)."""
        rules.aware(at)
        checked = terms(themes, field="themes")
        if checked != self.themes:
            self._themes_changed(themes=checked, at=at)

    @event("ThemesChanged")
    def _themes_changed(self, themes: tuple[Term, ...], at: datetime) -> None:
        self.themes = themes

    def reassign_point_of_contact(
        self, organisation_id: UUID | None, *, reason: str, decided_by: str, at: datetime
    ) -> None:
        """Make another organisation (or, with None, nobody) the point of contact.

        The application layer checks that the organisation exists on this platform and is not
        dissolved; the platform only knows ids.
        """
        rules.aware(at)
        if organisation_id == self.point_of_contact:
            raise Conflict(
                f"{organisation_id or 'nobody'} is already the point of contact",
                state=str(self.point_of_contact) if self.point_of_contact else "none",
            )
        self._point_of_contact_reassigned(
            organisation_id=organisation_id,
            previous=self.point_of_contact,
            reason=rules.reason(reason),
            decided_by=rules.party(decided_by),
            at=at,
        )

    @event("PointOfContactReassigned")
    def _point_of_contact_reassigned(
        self,
        organisation_id: UUID | None,
        previous: UUID | None,
        reason: str,
        decided_by: str,
        at: datetime,
    ) -> None:
        self.point_of_contact = organisation_id
