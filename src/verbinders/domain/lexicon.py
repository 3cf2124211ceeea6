"""The words of Haarlem's activities, so that the same aim in other words is found.

PostgreSQL's `dutch` text search configuration (Snowball) stems single words well but misses
what matters most here: compounds (`taalcafé` against `taal café`, `huiswerkbegeleiding`
against `huiswerk`), irregular plurals (`taalles` → `taalles`, `Taallessen` → `taalless`),
and synonyms across communities (`Suikerfeest`, `Eid al-Fitr`, `Ramazan Bayramı`). The core
PostgreSQL of the embedded server has no `unaccent`, no `pg_trgm` and no dictionaries to add,
so this module normalises text in Python *before* `to_tsvector('dutch', ...)`:

1. accents folded and case folded (`text.fold`), hyphens and punctuation to spaces;
2. each word of seven letters or more that splits completely into known parts (`PARTS`, with
   the linking `s`, `e` or `en` of Dutch compounds) gets its parts appended in their base form
   (`taallessen` → `taal les`, `naaiatelier` → `naai atelier`);
3. every word or phrase listed in `CONCEPTS` appends its concept word (`eid al fitr` →
   `suikerfeest`, `bijles` → `huiswerk`, `senioren` → `ouderen`).

The original words stay, so exact matches still count; the appended words make the other
spellings meet. `overlap_document` is what the read model passes to `to_tsvector('dutch', ...)`
(for the title and for title and description), and `tsvector_to_array` gives the lexemes that
`overlap.score` compares. `GENERIC_LEXEMES` are lexemes (as the `dutch` configuration stems
them) that say little about an activity's aim (weekdays, parts of the day, districts, "samen",
"vrijwilligers", "les") and count for less.

Target groups are read by `target_groups.group_keys`.
"""

from __future__ import annotations

import functools
import re
from types import MappingProxyType

from verbinders.domain import text

__all__ = [
    "CONCEPTS",
    "CONCEPT_LEXEMES",
    "GENERIC_LEXEMES",
    "GENERIC_WORDS",
    "PARTS",
    "normalise",
    "overlap_document",
    "split_compound",
]


def _words(value: str) -> tuple[str, ...]:
    return tuple(value.split())


# -- compounds ----------------------------------------------------------------------------------

_BASE_PARTS = _words(
    "taal les cafe huiswerk begeleiding klas club hulp koffie ochtend middag avond inloop "
    "spreekuur buurt maaltijd fiets naai atelier cursus soos senioren ouderen vrouwen jongeren "
    "kinderen meiden moeder ouder schuld geld zorgen werk huis bezoek voorlees uurtje lees "
    "groep ontmoeting feest maal dag nacht markt vrij kleding bank voedsel pakket kerst diner "
    "moskee kerk open repair reparatie moes tuin zwem sport voetbal toernooi dans muziek koor "
    "zang computer smartphone digi energie stoel gym mantel zorg lotgenoten opvoed opvoeding "
    "gesprek sollicitatie training examen straat plein ramadan iftar vasten suiker offer "
    "nieuwjaar oudejaar conversatie spreek vaardigheid formulieren praat thuis administratie "
    "peuter kinder tieners wereld keuken koken kook workshop werkplaats programmeer informatie "
    "voorlichting herdenking koran moedertaal onderwijs arabische turkse wijk centrum "
    "middelbare school brug klassers bijles steun dialoog tafel schoon opschoon afval zwerf "
    "vrijmarkt kleedjes"
)

PARTS = MappingProxyType(
    {
        **{part: part for part in _BASE_PARTS},
        "lessen": "les",
        "cafes": "cafe",
        "clubs": "club",
        "klassen": "klas",
        "moeders": "moeder",
        "ouders": "ouder",
        "groepen": "groep",
        "maaltijden": "maaltijd",
        "feesten": "feest",
        "cursussen": "cursus",
        "talen": "taal",
        "tuinen": "tuin",
        "naaien": "naai",
        "zwemmen": "zwem",
        "fietsen": "fiets",
        "ochtenden": "ochtend",
        "middagen": "middag",
        "avonden": "avond",
        "spreekuren": "spreekuur",
        "gesprekken": "gesprek",
        "trainingen": "training",
        "pakketten": "pakket",
    }
)
"""Parts of compounds, each with the base form appended when a compound is split."""

_LINKS = ("", "s", "e", "en")
_WORD = re.compile(r"[a-z0-9]+")
_MIN_COMPOUND = 7


@functools.cache
def split_compound(word: str) -> tuple[str, ...]:
    """The base forms of the parts `word` splits into completely (at least two), or () (also
    for a word that is a part itself: `huiswerk` stays whole)."""
    best: tuple[str, ...] = ()
    if word in PARTS:
        return best
    for cut in range(3, len(word) - 2):
        head, rest = word[:cut], word[cut:]
        if head not in PARTS:
            continue
        for link in _LINKS:
            if not rest.startswith(link):
                continue
            tail = rest[len(link) :]
            if tail in PARTS:
                candidate: tuple[str, ...] = (PARTS[head], PARTS[tail])
            elif len(tail) >= _MIN_COMPOUND - 2:
                more = split_compound(tail)
                if not more:
                    continue
                candidate = (PARTS[head], *more)
            else:
                continue
            if not best or len(candidate) < len(best):
                best = candidate
    return best


# -- concepts ---------------------------------------------------------------------------------

CONCEPTS = MappingProxyType(
    {
        "taaloefening": (
            "taalcafe|taal cafe|taalles|taal les|conversatie|nederlands oefenen|"
            "nederlands spreken|nederlands leren|nederlandse les|taalcoach|"
            "taalcoaches|taalmaatje|taalmaatjes|de taal|spreken oefenen|"
            "oefenen met spreken"
        ),
        "huiswerk": (
            "huiswerk|bijles|huiswerkhulp|huiswerkklas|huiswerkclub|"
            "leren voor toetsen|begrijpend lezen"
        ),
        "ontmoeting": (
            "soos|ontmoeting|ontmoeten|ontmoetingsmiddag|inloop|inloopochtend|"
            "koffieochtend|praatje|kletsen|gezelligheid|gezellige|gezellig|bingo|"
            "spelletjes|chillen"
        ),
        "maaltijd": (
            "maaltijd|diner|samen eten|eten samen|eten we samen|aan tafel|"
            "samen koken|buurtmaaltijd|wereldkeuken|kerstmaaltijd|kerstdiner"
        ),
        "suikerfeest": (
            "suikerfeest|eid al fitr|id al fitr|ramazan bayrami|seker bayrami|"
            "einde van de ramadan|na de ramadan|afsluiting van de vastenmaand"
        ),
        "offerfeest": "offerfeest|eid al adha|kurban bayrami",
        "iftar": (
            "iftar|vasten breken|breken het vasten|breken we samen het vasten|"
            "vastenmaaltijd|ramadanmaaltijd"
        ),
        "ketikoti": (
            "keti koti|ketikoti|dag der vrijheden|afschaffing van de slavernij|"
            "slavernijverleden|ketenen"
        ),
        "jaarwisseling": "oudejaarsavond|oud en nieuw|jaarwisseling|oudejaarsfeest",
        "nieuwjaar": "nieuwjaar|nieuwjaarsfeest|maannieuwjaar|newroz|nowruz",
        "sinterklaas": "sinterklaas|sint|pieten|pepernoten",
        "koningsdag": "koningsdag",
        "vrijmarkt": "vrijmarkt|kleedjesmarkt",
        "naaien": "naaien|naailes|naaicursus|naaimachine|kleding maken|verstellen",
        "fietsles": "fietsles|fietscursus|leren fietsen",
        "zwemles": "zwemles|leren zwemmen|zwemmen",
        "geldzorgen": (
            "schuld|schulden|schuldhulp|geldzorgen|betalingsachterstanden|"
            "betalingsproblemen|betalingsregeling|rekeningen|budget|toeslagen|"
            "thuisadministratie|papieren en post"
        ),
        "digitaal": (
            "computer|computerles|digid|smartphone|telefoon|tablet|internet|apps|"
            "whatsapp|videobellen|e mail"
        ),
        "diabetes": "diabetes|suikerziekte",
        "opvoeding": (
            "opvoeden|opvoeding|opvoedcursus|opvoedspreekuur|moedergroep|"
            "opvoedingsgesprekken|pubers|puberteit"
        ),
        "sollicitatie": (
            "sollicitatie|solliciteren|sollicitatietraining|cv|motivatiebrief|vacatures|werk zoeken"
        ),
        "mantelzorg": "mantelzorg|mantelzorgers|zorgt voor een|zorgen voor een ziek",
        "repareren": "repair|repaircafe|reparatie|repareren|kapot|kapotte",
        "moestuin": "moestuin|tuinieren|groenten kweken|oogsten",
        "opschonen": "zwerfafval|schoonmaken|opschoondag|schoon",
        "zingen": "koor|zingen|zangers|meezingen|liederen",
        "voetbal": "voetbal|voetballen|voetbaltraining|straatvoetbal|zaalvoetbal",
        "psychisch": "stress|trauma|psychosociale|piekeren|psycholoog",
        "energie": "energie|energiecafe|energietoeslag",
        "voorlezen": "voorlezen|voorleesuurtje|lezen voor",
        "knutselen": "knutselen|knutselmiddag|tekenen|schilderen|creatieve",
        "moskee": "moskee|islam",
        "religie": "interreligieuze|moslims|christenen|hindoes|moskee|kerk",
    }
)
"""Concept word -> the words and phrases (folded, `|` between them) that name it."""

CONCEPT_LEXEMES = frozenset(
    _words(
        "diabetes digital energie fietsles geldzorg huiswerk iftar jaarwissel ketikoti knutsel "
        "koningsdag maaltijd mantelzorg moestuin moskee naai nieuwjar offerfeest ontmoet opschon "
        "opvoed psychisch religie reparer sinterklas sollicitatie suikerfeest taaloefen voetbal "
        "voorlez vrijmarkt zing zwemles"
    )
)
"""The concept words as PostgreSQL's `dutch` configuration stems them (a test checks this):
they name an activity's aim and count for more."""

_PHRASES = tuple(
    (re.compile(rf"\b{re.escape(phrase)}\b"), concept)
    for concept, phrases in CONCEPTS.items()
    for phrase in phrases.split("|")
)
# The phrases as word sequences: a phrase of words `[a-z0-9]+` matches a text of such words
# joined by spaces exactly where its words occur in a row, so one pass over the text's word
# sequences finds them all (the regular expressions took 4 ms a document, one by one).
_SEQUENCES: dict[tuple[str, ...], list[int]] = {}
for _index, (_pattern, _concept) in enumerate(_PHRASES):
    _words_of = tuple(_pattern.pattern[2:-2].replace("\\ ", " ").split(" "))
    _SEQUENCES.setdefault(_words_of, []).append(_index)
_LENGTHS = tuple(sorted({len(words) for words in _SEQUENCES}))
_FIRST_WORDS = frozenset(words[0] for words in _SEQUENCES)
if not all(_WORD.fullmatch(word) for words in _SEQUENCES for word in words):
    raise ValueError("every phrase of CONCEPTS must be lower-case words of a-z and 0-9")


def _phrases_in(words: list[str], found: set[int]) -> None:
    for start, word in enumerate(words):
        if word not in _FIRST_WORDS:
            continue
        for length in _LENGTHS:
            found.update(_SEQUENCES.get(tuple(words[start : start + length]), ()))


GENERIC_WORDS = (
    "samen wekelijks wekelijkse elke iedere week maandag dinsdag woensdag donderdag vrijdag"
    " zaterdag zondag ochtend middag avond welkom iedereen gratis kop thee buurt wijk haarlem"
    " schalkwijk noord oost centrum zuid west molenwijk delftwijk parkwijk buurthuis"
    " vrijwilligers vrijwilliger hulp helpen les lessen cursus groep club activiteit"
    " activiteiten kinderen vrouwen ouderen jongeren ouders volwassenen leren maken eigen"
    " kleine alle niveaus nieuwe jaar uur"
)
"""Words that say little about an activity's aim (the places, times and people have their
own dimensions in the score)."""

GENERIC_LEXEMES = frozenset(
    _words(
        "activiteit all avond buurt buurthuis centrum club cursus delftwijk dinsdag donderdag eig "
        "elk gratis groep haarlem help hulp ieder iederen jar jonger kinder klein kop ler les less "
        "maandag mak middag molenwijk nieuw niveaus noord ochtend oost ouder parkwijk sam "
        "schalkwijk thee uur volwassen vrijdag vrijwilliger vrouw wek wekelijk welkom west wijk "
        "woensdag zaterdag zondag zuid"
    )
)
"""`GENERIC_WORDS` as PostgreSQL's `dutch` configuration stems them (a test checks this)."""


def normalise(value: str) -> str:
    """Folded words of `value`, each compound followed by its parts, then the concepts named."""
    folded = text.fold(value).replace("\u0131", "i")
    words = _WORD.findall(folded)
    out: list[str] = []
    for word in words:
        out.append(word)
        if len(word) >= _MIN_COMPOUND:
            out.extend(part for part in split_compound(word) if part != word)
    found: set[int] = set()
    _phrases_in(words, found)
    _phrases_in(out, found)
    concepts = [_PHRASES[index][1] for index in sorted(found)]
    return " ".join([*out, *dict.fromkeys(concepts)])


def overlap_document(*parts: str | None) -> str:
    """The text the read model gives `to_tsvector('dutch', ...)`: `parts` (title, description)
    normalised (see the module's notes)."""
    return normalise(" ".join(part for part in parts if part))
