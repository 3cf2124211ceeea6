"""Text as the platform keeps it: NFC, no control characters, no invisible tricks in names.

Every text a command accepts passes through `clean`:

- it is normalised to Unicode NFC (an "é" typed as e + combining accent is the same "é");
- control characters are refused (NUL, escape, the C1 controls, ...), except line feeds and tabs
  in texts of several lines (a carriage return, alone or before a line feed, becomes a line
  feed); in one-line texts line breaks and tabs become spaces (`rules.single_line`);
- lone surrogates and Unicode noncharacters are refused (no database or encoder can store them);
- in one-line texts (names, titles, labels), the bidirectional embedding, override and isolate
  characters are refused: they let a name display as something else than what it is.

Invisible format characters (zero-width space, joiners, soft hyphen, variation selectors, ...)
are kept where they may carry meaning (Persian needs the zero-width non-joiner), but they do not
count as content (a name of only invisible characters is empty) and `fold`, the form in which
uniqueness compares names, drops them: a zero-width space does not make a name new.
"""

from __future__ import annotations

import re
import unicodedata

from verbinders.errors import InvalidCommand

__all__ = [
    "BIDI_CONTROLS",
    "REFUSED_IN_QUERIES",
    "clean",
    "fold",
    "is_invisible",
    "shown",
    "strip_edges",
    "visible_length",
]

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_ALWAYS_REFUSED = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff" + _NONCHARACTERS
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Embeddings (LRE, RLE, PDF), overrides (LRO, RLO) and isolates (LRI, RLI, FSI, PDI)."""

_REFUSED_MULTI_LINE = re.compile(f"[{_ALWAYS_REFUSED}]")
REFUSED_IN_QUERIES = re.compile(f"[\t\n\r{_ALWAYS_REFUSED}]")
"""What no value in a URL (query string, path) may hold: every control character, surrogates and
noncharacters."""
_REFUSED_SINGLE_LINE = re.compile(f"[{_ALWAYS_REFUSED}{BIDI_CONTROLS}]")

_INVISIBLE_CLASS = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
"""Unicode's Default_Ignorable_Code_Point: characters that render as nothing."""
_INVISIBLE = re.compile(f"[{_INVISIBLE_CLASS}]")
_BLANK = re.compile(rf"[\s{_INVISIBLE_CLASS}]+")
_EDGES = re.compile(rf"^[\s{_INVISIBLE_CLASS}]+|[\s{_INVISIBLE_CLASS}]+$")

_NAMES = {"\x00": "NUL", "\x1b": "ESC", "\x7f": "DEL"}


def _describe(character: str) -> str:
    code = f"U+{ord(character):04X}"
    name = _NAMES.get(character) or unicodedata.name(character, "")
    return f"{code} {name}".strip()


def clean(value: str, *, field: str, multi_line: bool) -> str:
    """`value` in NFC, checked for the characters no text may hold (see the module's notes).

    Multi-line texts get their line ends as `\\n`; nothing is stripped here.
    """
    if not isinstance(value, str):
        raise InvalidCommand(f"{field} must be text", field=field, rule="type")
    text = unicodedata.normalize("NFC", value) if not value.isascii() else value
    if multi_line and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    refused = (_REFUSED_MULTI_LINE if multi_line else _REFUSED_SINGLE_LINE).search(text)
    if refused is not None:
        character = refused.group()
        what = (
            "a bidirectional control character"
            if character in BIDI_CONTROLS
            else "a character that is not allowed"
        )
        raise InvalidCommand(
            f"{field} contains {what} ({_describe(character)}) at position {refused.start()}",
            field=field,
            rule="characters",
        )
    return text


def is_invisible(character: str) -> bool:
    """Whether a character renders as nothing (Unicode's Default_Ignorable_Code_Point)."""
    return _INVISIBLE.fullmatch(character) is not None


def strip_edges(text: str) -> str:
    """`text` without whitespace and invisible characters at either end."""
    return _EDGES.sub("", text)


def visible_length(text: str) -> int:
    """How many characters of `text` show: whitespace and invisible characters do not count."""
    return len(_BLANK.sub("", text))


def fold(text: str) -> str:
    """The form in which names are compared: NFKD without accents or invisible characters,
    casefolded, whitespace collapsed. 'Stichting  Café Ünal' and 'stichting cafe\\u200b unal'
    are the same name."""
    decomposed = unicodedata.normalize("NFKD", _INVISIBLE.sub("", text))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFKD", bare.casefold())
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(bare.split())


def shown(value: object, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters, for echoing a client's input in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
