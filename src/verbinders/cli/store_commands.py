"""Commands over the store and the projections: `project`, `replay`, `export events`,
`index-moments`, `mark-moments`.

Results go to standard output (the NDJSON of an export, the schema a replay built), progress
and counts to standard error, so that both can be piped. Bad input (an unknown projection, an
`--until` that is neither a position nor a time with a timezone) exits with code 2 before
anything is opened or written.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal as signals
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click
import msgspec

from verbinders.cli import load_settings, run_async
from verbinders.errors import Conflict, InvalidCommand
from verbinders.projections import all_projections
from verbinders.projections.engine import LostLeadership
from verbinders.projections.engine import replay as replay_projection
from verbinders.projections.faults import ProjectionFault
from verbinders.runtime import open_runtime

if TYPE_CHECKING:
    from verbinders.runtime import Runtime
    from verbinders.store.events import RecordedEvent

__all__ = ["register"]


def _parse_until(value: str | None) -> tuple[int | None, datetime | None]:
    """`--until` takes a position (digits) or an ISO 8601 time (with a timezone)."""
    if value is None:
        return None, None
    if value.isdigit():
        return int(value), None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidCommand(
            f"--until {value!r} is neither a position nor an ISO 8601 time", field="until"
        ) from error
    if moment.tzinfo is None:
        raise InvalidCommand(
            f"--until {value!r} needs a timezone, e.g. {value}+01:00 or {value}Z", field="until"
        )
    return None, moment


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signals.SIGINT, signals.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


@click.command("project")
def project_command() -> None:
    """Run the projections and the policies as a worker until stopped (SIGINT/SIGTERM).

    Several workers may run at once: each projection and each policy is processed by exactly
    one of them, the others stand by and take over if it stops.
    """

    @run_async
    async def body() -> None:
        from verbinders.store.moments import run_moment_marks
        from verbinders.workers import prepare_workers, run_workers

        async with open_runtime(load_settings()) as runtime:
            stop = asyncio.Event()
            _stop_on_signals(stop)
            await prepare_workers(runtime)
            names = ", ".join(sorted(runtime.runner.projections))
            policies = ", ".join(sorted(runtime.policies.policies)) or "none"
            click.echo(
                f"running projections: {names}; policies: {policies} (Ctrl-C to stop)", err=True
            )
            marks = asyncio.create_task(run_moment_marks(runtime.pool, stop))
            try:
                await run_workers(runtime, stop)
            finally:
                stop.set()
                await marks

    body()


@click.command("replay")
@click.argument("name")
@click.option("--until", "until", help="Stop at this position or ISO 8601 time.")
@click.option("--tenant", help="Only this platform's events (builds a historical read model).")
def replay_command(name: str, until: str | None, tenant: str | None) -> None:
    """Rebuild projection NAME from the first event, with a progress bar.

    Without --until the rebuilt read model replaces the current one once it has caught up.
    With --until it is built beside, as history stood then, and its schema is printed.
    """

    @run_async
    async def body() -> None:
        # Checked before anything is opened (with no URL, opening starts a database).
        known = sorted(p.name for p in all_projections())
        if name not in known:
            raise InvalidCommand(f"no projection {name!r}; known: {', '.join(known)}", field="name")
        until_position, until_time = _parse_until(until)
        async with open_runtime(load_settings()) as runtime:
            if until_time is not None:
                until_position = await runtime.store.position_at(until_time)
            await _replay_with_progress(runtime, name, until_position, until_time, tenant)

    body()


async def _replay_with_progress(
    runtime: Runtime,
    name: str,
    until_position: int | None,
    until_time: datetime | None,
    tenant: str | None,
) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    projection = runtime.runner.projections[name]
    conn = await runtime.connect()
    reader = await runtime.connect()  # the next batch is read on it while one is written
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),  # standard output is for the result
            transient=False,
        ) as bar:
            task = bar.add_task(f"replaying {name}", total=None)

            def progress(done: int, goal: int) -> None:
                bar.update(task, completed=done, total=goal)

            try:
                generation = await replay_projection(
                    conn,
                    projection,
                    until_position=until_position,
                    tenant=tenant,
                    progress=progress,
                    reader=reader,
                )
            except LostLeadership as error:  # e.g. a newer version is active: run the new code
                raise Conflict(f"cannot replay {name}: {error}") from error
            except ProjectionFault as error:  # an event it cannot apply: one line, no trace
                bar.stop()
                click.echo(f"error: {error} (nothing was swapped in)", err=True)
                sys.exit(1)
    finally:
        await reader.close()
        await conn.close()
    if generation.state == "historical":
        as_of = f"position {generation.until_position}"
        if until_time is not None:
            as_of = f"{until_time.isoformat()} ({as_of})"
        click.echo(
            f"built {name} as of {as_of} in schema {generation.schema_name}"
            " (query it with SQL; the live read model is unchanged)"
        )
    else:
        click.echo(f"rebuilt {name}; readers now use schema {generation.schema_name}")


_line_encoder = msgspec.json.Encoder()


@click.group("export")
def export_group() -> None:
    """Export data for analysts."""


@export_group.command("events")
@click.option("--after", type=int, default=0, show_default=True, help="Start after this position.")
@click.option("--until", "until", help="Stop at this position or ISO 8601 time.")
@click.option("--tenant", help="Only this platform's events.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def export_events(after: int, until: str | None, tenant: str | None, output: Path | None) -> None:
    """Write the feed as NDJSON, one event a line, streaming (constant memory).

    The export ends at the feed's horizon when it starts (or at --until), so that it ends
    even while events keep being appended.
    """

    @run_async
    async def body() -> None:
        until_position, until_time = _parse_until(until)  # before the file is created
        async with open_runtime(load_settings(), min_size=1, max_size=2) as runtime:
            with click.open_file(str(output) if output is not None else "-", "wb") as sink:
                count = await write_ndjson(runtime, sink, after, until_position, until_time, tenant)
        click.echo(f"exported {count} events", err=True)

    body()


async def write_ndjson(
    runtime: Runtime,
    sink: IO[bytes],
    after: int,
    until_position: int | None,
    until_time: datetime | None,
    tenant: str | None,
) -> int:
    """Write the feed as NDJSON to `sink`, batch by batch; returns the number of events."""
    horizon = await runtime.store.last_position()
    until_position = horizon if until_position is None else min(until_position, horizon)
    count = 0
    async for batch in runtime.store.iter_feed(
        after,
        batch_size=2000,
        tenant=tenant,
        until_position=until_position,
        until_time=until_time,
    ):
        sink.write(_escape_separators(b"".join(_encode_line(event) for event in batch)))
        count += len(batch)
    sink.flush()
    return count


def _encode_line(event: RecordedEvent) -> bytes:
    """One event a line, its `topic` the event's public name (`event_names`)."""
    from verbinders.event_names import public_event

    return _line_encoder.encode(public_event(event)) + b"\n"


# JSON allows these three raw inside strings, but line-splitting tools (Python's
# str.splitlines, some editors and older JavaScript) treat them as line ends. Escaped, every
# event stays on one line whatever reads the file. They can only occur inside strings here,
# so the replacement is exact.
_SEPARATORS = (
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
    ("\u0085".encode(), b"\\u0085"),
)


def _escape_separators(data: bytes) -> bytes:
    for raw, escaped in _SEPARATORS:
        if raw in data:
            data = data.replace(raw, escaped)
    return data


@click.command("index-moments")
def index_moments_command() -> None:
    """Build the index that maps moments to positions for `as_of` reads, if it is missing.

    `serve` and the other commands build it themselves on a store of fewer than 100,000
    events. On a bigger one this command builds it with CREATE INDEX CONCURRENTLY: appends go
    on meanwhile; it waits for the transactions open when it starts. Until it is there, `as_of`
    reads find their moment through the BRIN index on recorded_at, only slower.
    """
    from verbinders.store.schema import MOMENT_INDEX, ensure_moment_index

    @run_async
    async def body() -> int:
        settings = load_settings()
        async with open_runtime(settings, min_size=1, max_size=2) as runtime:
            conn = await runtime.connect()
            try:
                built = await ensure_moment_index(conn, concurrently=True)
            finally:
                await conn.close()
        if built:
            click.echo(f"index {MOMENT_INDEX} is in place")
            return 0
        click.echo(
            f"index {MOMENT_INDEX} is being built by another process; run this again later",
            err=True,
        )
        return 1

    sys.exit(body())


@click.command("mark-moments")
def mark_moments_command() -> None:
    """Bring the moment marks that `as_of` reads start from up to date.

    `serve` and `project` keep them current as events come in; run this once on a store whose
    history was written without them (a restored or loaded store). It writes every mark that is
    final, a bounded span at a time, and may run beside serving processes.
    """
    from verbinders.store.moments import catch_up_moment_marks

    @run_async
    async def body() -> int:
        async with (
            open_runtime(load_settings(), min_size=1, max_size=2) as runtime,
            runtime.pool.acquire() as conn,
        ):
            written = await catch_up_moment_marks(conn)
        click.echo(f"{written:,} moment marks written")
        return 0

    sys.exit(body())


def register(main: click.Group) -> None:
    main.add_command(project_command)
    main.add_command(replay_command)
    main.add_command(export_group)
    main.add_command(index_moments_command)
    main.add_command(mark_moments_command)
