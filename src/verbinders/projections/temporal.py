"""Read models that keep their history: every row a version valid over a range of positions.

A versioned table holds, per key, one row per version: `valid_from` (the feed position of the
event that made this version true) and `valid_to` (NULL while it is current, else the position
of the event that ended it). So

- the live read model is the query plus `valid_to IS NULL` (`live`), served by partial indexes
  `WHERE valid_to IS NULL`, as fast as a table of current rows;
- the read model as it stood at position P is the same query plus
  `valid_from <= P AND (valid_to IS NULL OR valid_to > P)` (`as_of`): no replay, no DDL.
  Queries take P as a parameter (`as_of_bound`, `bind_position`), so that their text, and
  the prepared statement, is the same at every position.

A version exists for every position at which its row changed: a batch is folded event by event
in memory (`Rows`), each event's changes making a version that starts at its position and ends
where the next change of the same row starts. Then, per table, the batch is written set-based:
one `UPDATE ... FROM unnest(...)` closes the current rows the batch superseded, one `COPY`
inserts every new version. An answer as of P therefore equals what a rebuild up to P answers.

Writing a read model (see "How to write a read model" in docs/architecture.md):

    ORGS = Table("organisations", keys=(("tenant", "text"), ("id", "uuid")),
                 values=(("name", "text"), ("kind", "text")),
                 indexes=("(tenant, lower(name))",))

    class Names(TemporalProjection):
        name = "names"
        version = 1
        versioned = (ORGS,)
        events = events_of(Organisation, Registered="registered", Renamed="renamed")

        def touches(self, event):            # the rows an event reads, loaded per batch
            return [(ORGS, (event.tenant, event.stream_id))]

        def registered(self, rows, event):
            rows.put(ORGS, (event.tenant, event.stream_id),
                     {"name": event.payload["name"], "kind": event.payload["kind"]}, event)

        def renamed(self, rows, event):
            key = (event.tenant, event.stream_id)
            row = rows.get(ORGS, key)
            if row is not None:
                rows.put(ORGS, key, {**row, "name": event.payload["name"]}, event)
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from verbinders.projections.engine import CURRENT_SCHEMA, Projection

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = [
    "CURRENT_SCHEMA",
    "POSITION",
    "Rows",
    "Table",
    "TemporalProjection",
    "as_of",
    "as_of_bound",
    "as_of_ranged",
    "as_uuid",
    "bind_position",
    "events_of",
    "live",
    "valid",
]

Key = tuple[Any, ...]
Values = dict[str, Any]


def live(alias: str) -> str:
    """The condition for the current versions of table `alias`."""
    return f"{alias}.valid_to IS NULL"


def as_of(alias: str, position: int) -> str:
    """The condition for the versions of table `alias` that were true at `position`."""
    p = int(position)
    return f"({alias}.valid_from <= {p} AND ({alias}.valid_to IS NULL OR {alias}.valid_to > {p}))"


def valid(alias: str, position: int | None) -> str:
    """`live` without a position, `as_of` with one."""
    return live(alias) if position is None else as_of(alias, position)


POSITION = "$position"
"""Where `as_of_bound` puts the position: `bind_position` makes it the statement's last
parameter, so that one query's text is the same at every position (its prepared statement
is reused, not planned anew per moment)."""


def as_of_bound(alias: str) -> str:
    """`as_of` with the position as a parameter (`POSITION`, see `bind_position`)."""
    return (
        f"({alias}.valid_from <= {POSITION}"
        f" AND ({alias}.valid_to IS NULL OR {alias}.valid_to > {POSITION}))"
    )


def as_of_ranged(alias: str) -> str:
    """`as_of_bound` in the form the GiST index of a `Table(ranged=True)` serves: the version's
    range of positions, [valid_from, valid_to), contains the position (the same rows)."""
    return f"int8range({alias}.valid_from, {alias}.valid_to) @> {POSITION}"


def bind_position(sql: str, args: Sequence[Any], position: int | None) -> tuple[str, list[Any]]:
    """(sql, args) with `POSITION` made parameter `$len(args)+1`, bound to `position`
    (unchanged if the text has no `POSITION`)."""
    if POSITION not in sql:
        return sql, list(args)
    if position is None:
        raise ValueError("a live query has no position to bind")
    return sql.replace(POSITION, f"${len(args) + 1}::bigint"), [*args, int(position)]


@dataclass(frozen=True, eq=False)
class Table:
    """A versioned table: its key columns and value columns (name, SQL type) and its indexes.

    The key identifies the row across its versions; `valid_from`/`valid_to` are added. Every
    table gets a unique index on its key over the current versions (the batches close and load
    through it) and one on (key, valid_from) for history. `indexes` are the table's secondary
    indexes, e.g. `"USING gin (search)"` or `"(tenant, lower(name))"`: each is created twice,
    partial over the current versions (live queries) and over every version (`as_of`), after a
    rebuild's bulk load. `generated` columns (name, definition) are computed by PostgreSQL,
    e.g. a tsvector from text columns. `unanalysed` names value columns that no query
    filters, joins or sorts on (long texts shown as they are, the text a search vector is
    made of): ANALYZE gathers no statistics for them (`SET STATISTICS 0`), which the planner
    would never use and which cost most of the ANALYZE after a rebuild.
    """

    name: str
    keys: tuple[tuple[str, str], ...]
    values: tuple[tuple[str, str], ...]
    indexes: tuple[str, ...] = ()
    live_indexes: tuple[str, ...] = ()
    """Indexes needed by live queries only (partial over the current versions)."""
    generated: tuple[tuple[str, str], ...] = ()
    checks: tuple[str, ...] = ()
    ranged: bool = False
    """A GiST index over every version on their range of positions, `int8range(valid_from,
    valid_to)`, for queries that read the versions true at a position with
    `Reading.valid(alias, ranged=True)` (`as_of_ranged`): those few rows from the index, where
    the other indexes give every version from before the position (for a table with many
    versions per key, e.g. a call's row that changes with every response)."""
    unanalysed: tuple[str, ...] = ()
    key_names: tuple[str, ...] = field(init=False)
    value_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_names", tuple(n for n, _ in self.keys))
        object.__setattr__(self, "value_names", tuple(n for n, _ in self.values))
        unknown = set(self.unanalysed) - {*self.value_names, *(n for n, _ in self.generated)}
        if unknown:
            raise ValueError(f"{self.name}: unanalysed names no column: {sorted(unknown)}")

    def create_sql(self) -> str:
        columns = [f"{n} {t} NOT NULL" for n, t in self.keys]
        columns += [f"{n} {t}" for n, t in self.values]
        columns += ["valid_from bigint NOT NULL", "valid_to bigint"]
        columns += [f"{n} {d}" for n, d in self.generated]
        columns += [f"CHECK ({c})" for c in self.checks]
        columns.append("CHECK (valid_to IS NULL OR valid_to > valid_from)")
        keys = ", ".join(self.key_names)
        statistics = "".join(
            f"ALTER TABLE {self.name} ALTER COLUMN {n} SET STATISTICS 0;\n" for n in self.unanalysed
        )
        return (
            f"CREATE TABLE {self.name} (\n    " + ",\n    ".join(columns) + "\n);\n"
            f"CREATE UNIQUE INDEX {self.name}_current ON {self.name} ({keys})"
            " WHERE valid_to IS NULL;\n" + statistics
        )

    def index_statements(self) -> list[str]:
        """The secondary indexes, one statement each (`IF NOT EXISTS`: a build interrupted
        half-way can be run again)."""
        keys = ", ".join(self.key_names)
        create = f"CREATE INDEX IF NOT EXISTS {self.name}"
        out = [f"{create}_versions ON {self.name} ({keys}, valid_from)"]
        for i, spec in enumerate(self.indexes, start=1):
            out.append(f"{create}_live_{i} ON {self.name} {spec} WHERE valid_to IS NULL")
            out.append(f"{create}_all_{i} ON {self.name} {spec}")
        if self.ranged:
            out.append(
                f"{create}_ranges ON {self.name} USING gist (int8range(valid_from, valid_to))"
            )
        for i, spec in enumerate(self.live_indexes, start=1):
            out.append(f"{create}_current_{i} ON {self.name} {spec} WHERE valid_to IS NULL")
        return out

    def index_sql(self) -> str:
        return "".join(f"{statement};\n" for statement in self.index_statements())


class Rows:
    """The rows one batch reads and writes, folded in memory.

    `load` reads the current versions of the keys a batch will touch (one statement per table);
    `get` answers from memory (what the batch's earlier events made, else what was loaded);
    `put` and `delete` record a new version at an event's position. `write` stores the batch:
    per table one UPDATE closing the superseded current rows and one COPY of the new versions.
    A key that was not loaded cannot be read (`LookupError`), and one written without being
    loaded is taken as new (were it stored, its current-key index refuses the second current
    version, a fault rather than a silent duplicate).
    """

    def __init__(self, tables: Iterable[Table]) -> None:
        self._tables = {t.name: t for t in tables}
        self._stored: dict[str, dict[Key, Values | None]] = {t: {} for t in self._tables}
        """Per table, the current version as stored before this batch (None: no row)."""
        self._now: dict[str, dict[Key, Values | None]] = {t: {} for t in self._tables}
        self._versions: dict[str, dict[Key, list[tuple[int, Values | None]]]] = {
            t: {} for t in self._tables
        }
        self._prefixes: dict[str, set[Key]] = {}

    async def load(self, conn: Connection, table: Table, keys: Iterable[Key]) -> None:
        """Read the current versions of `keys` (those not known yet) into memory."""
        stored = self._stored[table.name]
        wanted = list({k for k in keys if k not in stored})
        if not wanted:
            return
        for key in wanted:
            stored[key] = None
        columns = ", ".join(f"t.{n}" for n in (*table.key_names, *table.value_names))
        arrays = ", ".join(f"${i}::{t}[]" for i, (_, t) in enumerate(table.keys, start=1))
        match = " AND ".join(f"t.{n} = k.{n}" for n in table.key_names)
        rows = await conn.fetch(
            f"SELECT {columns} FROM unnest({arrays}) AS k({', '.join(table.key_names)})"
            f" JOIN {table.name} t ON {match} WHERE t.valid_to IS NULL",
            *([k[i] for k in wanted] for i in range(len(table.keys))),
        )
        width = len(table.keys)
        names = table.value_names
        for row in rows:
            values = tuple(row)
            stored[values[:width]] = dict(zip(names, values[width:], strict=True))

    async def load_prefix(self, conn: Connection, table: Table, prefixes: Iterable[Key]) -> None:
        """Read every current row whose key starts with one of `prefixes` (e.g. all claims of
        a call: `(tenant, call_id)`), so that `keys_with_prefix` can list them."""
        done = self._prefixes.setdefault(table.name, set())
        wanted = list({k for k in prefixes if k not in done})
        if not wanted:
            return
        width = len(wanted[0])
        done.update(wanted)
        names = table.key_names[:width]
        columns = ", ".join(f"t.{n}" for n in (*table.key_names, *table.value_names))
        arrays = ", ".join(f"${i}::{t}[]" for i, (_, t) in enumerate(table.keys[:width], start=1))
        match = " AND ".join(f"t.{n} = k.{n}" for n in names)
        rows = await conn.fetch(
            f"SELECT {columns} FROM unnest({arrays}) AS k({', '.join(names)})"
            f" JOIN {table.name} t ON {match} WHERE t.valid_to IS NULL",
            *([k[i] for k in wanted] for i in range(width)),
        )
        stored = self._stored[table.name]
        size = len(table.keys)
        for row in rows:
            values = tuple(row)
            if values[:size] not in stored:
                stored[values[:size]] = dict(zip(table.value_names, values[size:], strict=True))

    def keys_with_prefix(self, table: Table, prefix: Key) -> list[Key]:
        """The keys of the rows that exist now and start with `prefix` (loaded with
        `load_prefix`)."""
        if prefix not in self._prefixes.get(table.name, set()):
            raise LookupError(f"{table.name} rows of {prefix!r} were not loaded for this batch")
        width = len(prefix)
        candidates = set(self._stored[table.name]) | set(self._now[table.name])
        return sorted(
            (k for k in candidates if k[:width] == prefix and self.get(table, k) is not None),
            key=repr,
        )

    def known(self, table: Table, key: Key) -> bool:
        return key in self._now[table.name] or key in self._stored[table.name]

    def get(self, table: Table, key: Key) -> Values | None:
        """The row's values now (a copy), or None if it has none."""
        now = self._now[table.name]
        if key in now:
            found = now[key]
        else:
            stored = self._stored[table.name]
            if key not in stored:
                raise LookupError(f"{table.name} {key!r} was not loaded for this batch")
            found = stored[key]
        return None if found is None else dict(found)

    def put(self, table: Table, key: Key, values: Values, event: RecordedEvent | int) -> None:
        """A new version of the row from `event`'s position (no version if nothing changed)."""
        position = event if isinstance(event, int) else event.position
        now = self._now[table.name]
        if key in now:
            if now[key] == values:
                return
        else:
            stored = self._stored[table.name]
            if key not in stored:
                # A row the batch did not load is new (an event's own new key: a version, an
                # id it creates). Were it stored after all, the current-key index refuses the
                # second current version: a fault, never a silent duplicate.
                stored[key] = None
            elif stored[key] == values:
                return
        self._record(table, key, values, position)

    def delete(self, table: Table, key: Key, event: RecordedEvent | int) -> None:
        """The row ends at `event`'s position."""
        position = event if isinstance(event, int) else event.position
        if self.get(table, key) is None:
            return
        self._record(table, key, None, position)

    def _record(self, table: Table, key: Key, values: Values | None, position: int) -> None:
        self._now[table.name][key] = values
        versions = self._versions[table.name].setdefault(key, [])
        if versions and versions[-1][0] == position:
            versions[-1] = (position, values)
        else:
            versions.append((position, values))

    def changed(self) -> int:
        return sum(len(v) for v in self._versions.values())

    async def write(self, conn: Connection) -> None:
        """Close the superseded current rows and insert the new versions, per table."""
        schema = CURRENT_SCHEMA.get(None)
        for name, by_key in self._versions.items():
            if not by_key:
                continue
            table = self._tables[name]
            stored = self._stored[name]
            closes: list[tuple[Key, int]] = []
            inserts: list[tuple[Any, ...]] = []
            for key, versions in by_key.items():
                if stored.get(key) is not None:
                    closes.append((key, versions[0][0]))
                for i, (start, values) in enumerate(versions):
                    if values is None:
                        continue
                    end = versions[i + 1][0] if i + 1 < len(versions) else None
                    inserts.append((*key, *(values[n] for n in table.value_names), start, end))
            if closes:
                await close_rows(conn, table, closes)
            if inserts:
                await insert_rows(conn, table, inserts, schema)


async def close_rows(conn: Connection, table: Table, closes: Sequence[tuple[Key, int]]) -> None:
    """End the current versions of the given keys at the given positions (one statement)."""
    width = len(table.keys)
    arrays = ", ".join(f"${i}::{t}[]" for i, (_, t) in enumerate(table.keys, start=1))
    match = " AND ".join(f"t.{n} = c.{n}" for n in table.key_names)
    await conn.execute(
        f"UPDATE {table.name} t SET valid_to = c.valid_to"
        f" FROM unnest({arrays}, ${width + 1}::bigint[])"
        f" AS c({', '.join(table.key_names)}, valid_to)"
        f" WHERE {match} AND t.valid_to IS NULL",
        *([c[0][i] for c in closes] for i in range(width)),
        [c[1] for c in closes],
    )


async def insert_rows(
    conn: Connection, table: Table, records: Sequence[tuple[Any, ...]], schema: str | None
) -> None:
    """Insert versions (key, values, valid_from, valid_to) with COPY."""
    await conn.copy_records_to_table(
        table.name,
        records=records,
        columns=[*table.key_names, *table.value_names, "valid_from", "valid_to"],
        schema_name=schema,
    )


@functools.lru_cache(maxsize=65536)
def _parsed(text: str) -> uuid.UUID:
    return uuid.UUID(text)


def as_uuid(value: Any) -> uuid.UUID:
    """A UUID from a payload's string (parsed once per batch run and id: ids repeat), or the
    UUID itself."""
    if isinstance(value, str):
        return _parsed(value)
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def events_of(aggregate: type, **methods: str) -> dict[type, str]:
    """{event class: method name} for events of `aggregate` named by keyword, e.g.
    `events_of(Organisation, Registered="registered")` (the classes `@event` creates are
    invisible to type checkers; a name that is no event class fails at import)."""
    found: dict[type, str] = {}
    for event_name, method in methods.items():
        cls = getattr(aggregate, event_name)
        if not isinstance(cls, type):
            raise TypeError(f"{aggregate.__name__}.{event_name} is not an event class")
        found[cls] = method
    return found


class TemporalProjection(Projection):
    """A projection whose tables keep their history (`versioned`), folded batch by batch.

    Subclasses declare `versioned` (their `Table`s), `events` ({event class: method name}, the
    topics follow), `touches` (the rows an event reads: loaded once per batch before the
    fold) and the methods, `method(rows, event)`, synchronous: they read and write `rows`.
    """

    versioned: ClassVar[tuple[Table, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.versioned and not cls.__dict__.get("tables"):
            cls.tables = tuple(t.name for t in cls.versioned)

    def ddl(self) -> str:
        return "\n".join(t.create_sql() for t in self.versioned)

    def indexes(self) -> str:
        return "\n".join(t.index_sql() for t in self.versioned)

    def index_statements(self) -> list[str]:
        return [s for t in self.versioned for s in t.index_statements()]

    def touches(self, event: RecordedEvent) -> Iterable[tuple[Table, Key]]:
        """The rows `event` reads (loaded before the batch is folded). Default: none."""
        return ()

    async def load(self, conn: Connection, rows: Rows, events: Sequence[RecordedEvent]) -> None:
        """Load what the batch reads: by default the union of `touches`, one statement per
        table. Override for rows found through other rows (load those first, then these)."""
        wanted: dict[Table, set[Key]] = {}
        for event in events:
            for table, key in self.touches(event):
                wanted.setdefault(table, set()).add(key)
        for table, keys in wanted.items():
            await rows.load(conn, table, keys)

    def apply(self, rows: Rows, event: RecordedEvent) -> None:
        method = self.dispatch.get(event.topic)
        if method is not None:
            getattr(self, method)(rows, event)

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        rows = Rows(self.versioned)
        await self.load(conn, rows, events)
        for event in events:
            self.apply(rows, event)
        await rows.write(conn)
