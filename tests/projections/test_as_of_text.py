"""As of a moment, a query's text is the same at every position: the position is bound."""

from __future__ import annotations

from typing import Any

import pytest

from verbinders.projections.calls_queries import calls_page, year_tables
from verbinders.projections.directory_queries import organisations_page, strengths_page
from verbinders.projections.reading import Reading
from verbinders.projections.temporal import POSITION, bind_position


class Spy:
    """A connection that records what it is sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.sent.append((sql, args))
        return []

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.sent.append((sql, args))
        return 0

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        self.sent.append((sql, args))
        return None


async def sent(query: Any, position: int | None) -> list[tuple[str, tuple[Any, ...]]]:
    spy = Spy()
    await query(Reading(conn=spy, name="m", position=position))  # type: ignore[arg-type]
    return spy.sent


QUERIES = {
    "organisations q": lambda r: organisations_page(r, "t", q="taalles", strength="x", limit=5),
    "strengths q": lambda r: strengths_page(r, "t", q="tolken", kind="k"),
    "calls": lambda r: calls_page(
        r, "t", state=None, kind=None, everything=True, party=None, limit=5, offset=0
    ),
    "calls of a year": lambda r: year_tables(r, "t", None, None),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("name", QUERIES)
async def test_as_of_text_is_stable_and_binds_the_position(name: str) -> None:
    early, late, live = [await sent(QUERIES[name], p) for p in (1234567, 7654321, None)]
    assert [sql for sql, _ in early] == [sql for sql, _ in late]
    for (sql, args), (_, live_args) in zip(late, live, strict=True):
        assert "7654321" not in sql and POSITION not in sql
        assert args == (*live_args, 7654321)
        assert f"${len(args)}::bigint" in sql
    assert all("valid_from" not in sql for sql, _ in live)


def test_bind_position() -> None:
    assert bind_position("SELECT 1 WHERE $1", ["a"], None) == ("SELECT 1 WHERE $1", ["a"])
    assert bind_position(f"x <= {POSITION} AND y > {POSITION}", ["a", "b"], 9) == (
        "x <= $3::bigint AND y > $3::bigint",
        ["a", "b", 9],
    )
    with pytest.raises(ValueError, match="live"):
        bind_position(f"x <= {POSITION}", [], None)
