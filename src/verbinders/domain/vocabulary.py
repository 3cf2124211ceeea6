"""The words the platform speaks: kinds of organisation, districts, themes and languages.

Districts and themes are per-platform vocabularies of `Term`s (a stable code and a Dutch label);
Haarlem's lists are the defaults. Languages are ISO 639 codes from a curated list that covers
the communities of Dutch cities: two-letter ISO 639-1 codes where one exists, three-letter
ISO 639-2/639-3 codes for languages without one (Berber languages, Dari, Papiamento, Sranan
Tongo, Dutch Sign Language, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from types import MappingProxyType

import msgspec

from verbinders.domain import limits, rules, text
from verbinders.errors import InvalidCommand

__all__ = [
    "DEFAULT_DISTRICTS",
    "DEFAULT_THEMES",
    "KIND_LABELS",
    "LANGUAGES",
    "OrganisationKind",
    "Term",
    "Vocabulary",
    "language_codes",
    "terms",
]


class OrganisationKind(StrEnum):
    """The four kinds of participant; all first-class."""

    SELF_ORGANISATION = "self-organisation"
    FORMAL_ORGANISATION = "formal-organisation"
    MUNICIPALITY = "municipality"
    FUND = "fund"


KIND_LABELS = MappingProxyType(
    {
        OrganisationKind.SELF_ORGANISATION: "Zelforganisatie",
        OrganisationKind.FORMAL_ORGANISATION: "Formele organisatie",
        OrganisationKind.MUNICIPALITY: "Gemeente",
        OrganisationKind.FUND: "Fonds",
    }
)


class Term(msgspec.Struct, frozen=True, kw_only=True):
    """An entry of a vocabulary: a stable code (used in data) and a label (shown to people)."""

    code: str
    label: str


class Vocabulary(msgspec.Struct, frozen=True, kw_only=True):
    """A platform's districts and themes, as organisations' profiles are checked against."""

    districts: tuple[Term, ...]
    themes: tuple[Term, ...]

    @property
    def district_codes(self) -> frozenset[str]:
        return frozenset(term.code for term in self.districts)

    @property
    def theme_codes(self) -> frozenset[str]:
        return frozenset(term.code for term in self.themes)


def _defaults(pairs: dict[str, str]) -> tuple[Term, ...]:
    return tuple(Term(code=code, label=label) for code, label in pairs.items())


DEFAULT_DISTRICTS = _defaults(
    {
        "centrum": "Centrum",
        "noord": "Noord",
        "oost": "Oost",
        "schalkwijk": "Schalkwijk",
        "zuid-west": "Zuid-West",
    }
)
"""Haarlem's districts (stadsdelen)."""

DEFAULT_THEMES = _defaults(
    {
        "language": "Taal",
        "care": "Zorg",
        "welfare": "Welzijn",
        "health": "Gezondheid",
        "education": "Onderwijs",
        "culture": "Cultuur",
        "sport": "Sport",
        "youth": "Jeugd",
        "elderly": "Ouderen",
        "women": "Vrouwen",
        "work": "Werk",
        "poverty": "Armoede",
        "integration": "Integratie",
        "participation": "Participatie",
        "parenting": "Opvoeding",
        "debt": "Schulden",
        "housing": "Wonen",
        "safety": "Veiligheid",
        "faith": "Levensbeschouwing",
        "digital-skills": "Digitale vaardigheden",
        "sustainability": "Duurzaamheid",
    }
)

_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def terms(
    values: Iterable[Term], *, field: str, max_items: int = limits.TERMS_MAX
) -> tuple[Term, ...]:
    """A vocabulary checked: at least one term, codes lower-case slugs and unique, labels set."""
    result: list[Term] = []
    seen: set[str] = set()
    for index, term in enumerate(values):
        if index == max_items:
            raise InvalidCommand(
                f"{field} may hold at most {max_items} entries", field=field, rule="max-items"
            )
        code = term.code.strip().lower()
        if not _CODE.fullmatch(code) or len(code) > limits.CODE_MAX:
            raise InvalidCommand(
                f"{field}[{index}].code: {text.shown(term.code)} must be lower-case letters,"
                f" digits and hyphens (at most {limits.CODE_MAX})",
                field=f"{field}[{index}].code",
                rule="code",
            )
        if code in seen:
            raise InvalidCommand(
                f"{field}[{index}].code: {code!r} occurs twice",
                field=f"{field}[{index}].code",
                rule="unique",
            )
        seen.add(code)
        label = rules.single_line(
            term.label, field=f"{field}[{index}].label", max_length=limits.TERM_LABEL_MAX
        )
        result.append(Term(code=code, label=label))
    if not result:
        raise InvalidCommand(f"{field} needs at least one entry", field=field, rule="required")
    return tuple(result)


LANGUAGES = MappingProxyType(
    {
        # Dutch and the languages of the Kingdom
        "nl": "Nederlands",
        "fy": "Fries",
        "pap": "Papiaments",
        "srn": "Sranantongo",
        "dse": "Nederlandse Gebarentaal",
        "en": "Engels",
        # Maghreb, Middle East, Horn of Africa
        "ar": "Arabisch",
        "ary": "Marokkaans Arabisch",
        "ber": "Berbertalen (Tamazight)",
        "zgh": "Standaard Marokkaans Tamazight",
        "rif": "Tarifit (Riffijns)",
        "shi": "Tashelhit",
        "kab": "Kabylisch",
        "tr": "Turks",
        "ku": "Koerdisch",
        "kmr": "Kurmanji",
        "ckb": "Sorani",
        "fa": "Perzisch (Farsi)",
        "prs": "Dari",
        "ps": "Pasjtoe",
        "he": "Hebreeuws",
        "hy": "Armeens",
        "ka": "Georgisch",
        "az": "Azerbeidzjaans",
        "so": "Somalisch",
        "ti": "Tigrinya",
        "am": "Amhaars",
        "om": "Oromo",
        # South and East Asia
        "ur": "Urdu",
        "hi": "Hindi",
        "pa": "Punjabi",
        "bn": "Bengaals",
        "ta": "Tamil",
        "ne": "Nepalees",
        "si": "Singalees",
        "zh": "Chinees",
        "yue": "Kantonees",
        "ja": "Japans",
        "ko": "Koreaans",
        "vi": "Vietnamees",
        "th": "Thai",
        "id": "Indonesisch",
        "ms": "Maleis",
        "jv": "Javaans",
        "tl": "Tagalog",
        "fil": "Filipijns",
        "uz": "Oezbeeks",
        # Sub-Saharan Africa
        "sw": "Swahili",
        "ak": "Akan (Twi)",
        "ee": "Ewe",
        "yo": "Yoruba",
        "ig": "Igbo",
        "ha": "Hausa",
        "ff": "Fula",
        "wo": "Wolof",
        "ln": "Lingala",
        "rw": "Kinyarwanda",
        "kri": "Krio",
        "pcm": "Nigeriaans Pidgin",
        # Europe
        "de": "Duits",
        "fr": "Frans",
        "es": "Spaans",
        "pt": "Portugees",
        "it": "Italiaans",
        "el": "Grieks",
        "pl": "Pools",
        "bg": "Bulgaars",
        "ro": "Roemeens",
        "hu": "Hongaars",
        "cs": "Tsjechisch",
        "sk": "Slowaaks",
        "sl": "Sloveens",
        "hr": "Kroatisch",
        "bs": "Bosnisch",
        "sr": "Servisch",
        "mk": "Macedonisch",
        "sq": "Albanees",
        "lt": "Litouws",
        "lv": "Lets",
        "et": "Ests",
        "uk": "Oekraïens",
        "ru": "Russisch",
        "be": "Wit-Russisch",
        "rom": "Romani",
        "yi": "Jiddisch",
    }
)
"""Accepted ISO 639 codes and their Dutch names."""


def language_codes(
    values: Iterable[str], *, field: str = "languages", max_items: int = limits.LANGUAGES_MAX
) -> tuple[str, ...]:
    """ISO 639 codes from `LANGUAGES`, lower-cased, order kept, duplicates dropped."""
    result = tuple(dict.fromkeys(value.strip().lower() for value in values))
    unknown = [code for code in result if code not in LANGUAGES]
    if unknown:
        shown = ", ".join(text.shown(code, 40) for code in unknown[:5])
        raise InvalidCommand(
            f"{field}: {shown} is not a known ISO 639 language code"
            " (use two-letter ISO 639-1 codes such as 'nl', 'ar', 'tr', or three-letter codes"
            " such as 'ber', 'prs', 'pap' for languages without one)",
            field=field,
            rule="iso-639",
        )
    if len(result) > max_items:
        raise InvalidCommand(
            f"{field} may hold at most {max_items} entries", field=field, rule="max-items"
        )
    return result
