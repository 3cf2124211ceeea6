"""Where a command of the HTTP bench's mix spends its time, run by hand (never as a test).

    ./dev setup && .venv/bin/python bench/command_breakdown.py [--database-url URL]
        [--requests 300] [--profile patch|decision|meeting] [--keyed] [--projections]

The command mix of `bench_http.py` (c), in this process, straight through the app's ASGI
callable (no HTTP server, no socket, one request at a time): a meeting scheduled, an
organisation's profile updated, a membership decision; each without and with an
`Idempotency-Key`. Per kind: CPU and wall time per request, and the statements sent to
PostgreSQL per request (every statement on every connection, the in-process projections'
too with --projections), by their first line. --profile writes a cProfile (CPU time) of one
kind to `command_breakdown-<kind>.prof` and prints its heaviest functions.

The database is created on the server of --database-url (default: the local server at
127.0.0.1:5432) as `verbinders_breakdown_<random>` and dropped afterwards; 60 organisations
are prepared as members, as `bench_http.py` prepares its own.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import dataclasses
import pstats
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_http
from common import with_database
from verbinders.config import Settings

STATEMENTS: collections.Counter[str] = collections.Counter()


def count_statements() -> None:
    """Count every statement asyncpg sends, by its first line."""
    import asyncpg.connection as connection

    for name in ("fetch", "fetchval", "fetchrow", "execute", "executemany"):
        original = getattr(connection.Connection, name)

        def counted(self: Any, query: str, *args: Any, _original: Any = original, **kw: Any) -> Any:
            STATEMENTS[query.strip().split("\n")[0][:72]] += 1
            return _original(self, query, *args, **kw)

        setattr(connection.Connection, name, counted)


async def call(app: Any, method: str, path: str, token: str, body: bytes, key: str | None) -> None:
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"authorization", f"Bearer {token}".encode()),
    ]
    if key is not None:
        headers.append((b"idempotency-key", key.encode()))
    status = 0
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    await app(scope, receive, send)
    if not 200 <= status < 300:
        raise RuntimeError(f"{method} {path} answered {status}")


class Mix:
    def __init__(self, app: Any, token: str, organisations: list[str]) -> None:
        self.app = app
        self.token = token
        self.organisations = organisations
        self.suspended: set[str] = set()
        self.n = 0

    async def one(self, kind: str, keyed: bool) -> None:
        self.n += 1
        key = f"breakdown-{uuid.uuid4().hex}" if keyed else None
        org = self.organisations[self.n % len(self.organisations)]
        if kind == "meeting":
            body = bench_http.MEETING_BODY.encode()
            await call(self.app, "POST", "/meetings", self.token, body, key)
        elif kind == "patch":
            body = f'{{"description": "breakdown {self.n}"}}'.encode()
            await call(self.app, "PATCH", f"/organisations/{org}", self.token, body, key)
        else:
            action = "reinstate" if org in self.suspended else "suspend"
            self.suspended ^= {org}
            path = f"/organisations/{org}/membership/{action}"
            await call(self.app, "POST", path, self.token, b'{"reason": "bench"}', key)


async def run(args: argparse.Namespace) -> None:
    from verbinders.api.app import create_app

    admin = await asyncpg.connect(args.database_url)
    name = f"verbinders_breakdown_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        settings = Settings(
            database_url=with_database(args.database_url, name),
            write_rate_per_minute=bench_http.WRITE_RATE,
            run_projections=args.projections,
            log_level="WARNING",
        )
        token, organisations = await bench_http.prepare(
            dataclasses.replace(settings, run_projections=False), 60
        )
        app = create_app(settings)
        mix = Mix(app, token, organisations)
        async with app.lifespan():
            for kind in ("meeting", "patch", "decision"):  # warm-up: every stream loaded once
                for _ in range(120):
                    await mix.one(kind, False)
            count_statements()
            print(f"{'':20}{'CPU us/req':>11}{'wall us/req':>12}{'statements/req':>16}")
            for keyed in (False, True):
                for kind in ("meeting", "patch", "decision"):
                    STATEMENTS.clear()
                    profiling = args.profile == kind and args.keyed == keyed
                    profile = cProfile.Profile(time.process_time) if profiling else None
                    cpu, wall = time.process_time(), time.perf_counter()
                    if profile is not None:
                        profile.enable()
                    for _ in range(args.requests):
                        await mix.one(kind, keyed)
                    if profile is not None:
                        profile.disable()
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    n = args.requests
                    label = f"{kind}{' + key' if keyed else ''}"
                    print(
                        f"{label:20}{cpu / n * 1e6:11.0f}{wall / n * 1e6:12.0f}"
                        f"{sum(STATEMENTS.values()) / n:16.2f}"
                    )
                    for statement, count in STATEMENTS.most_common(8):
                        print(f"{count / n:28.2f}  {statement}")
                    if profile is not None:
                        out = Path(f"command_breakdown-{kind}.prof")
                        profile.dump_stats(out)
                        pstats.Stats(str(out)).sort_stats("tottime").print_stats(25)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=300, help="per kind (default 300)")
    parser.add_argument("--profile", choices=["meeting", "patch", "decision"])
    parser.add_argument("--keyed", action="store_true", help="profile the keyed variant")
    parser.add_argument(
        "--projections", action="store_true", help="run the read models in this process"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
