"""Text for PostgreSQL's Dutch full-text search, accents folded in Python.

The embedded PostgreSQL ships no `unaccent`, so names and descriptions are folded here before
they are indexed, and queries are folded the same way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = ["fold", "search_text"]


def fold(text: str) -> str:
    """Lower case without accents: 'Çelik Vrouwen' -> 'celik vrouwen'."""
    if text.isascii():
        # Nothing to decompose or strip (most names and descriptions): the same result.
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("\u0131", "i").casefold()  # Turkish dotless i


def search_text(*parts: str | Iterable[str] | None) -> str:
    """One folded document from strings and lists of strings (None skipped)."""
    words: list[str] = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, str):
            words.append(part)
        else:
            words.extend(part)
    return fold(" ".join(words))
