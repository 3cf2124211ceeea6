"""HTTP benchmark, run by hand (never as a test).

    ./dev setup && .venv/bin/python bench/bench_http.py [--quick] [--database-url URL]

In one run, on one database, with the same settings, it serves in turn
  (a) a bare Litestar app with one POST endpoint that decodes the same body as (b) into a
      msgspec Struct of the same fields and inserts one row with asyncpg into `bare_events`, a
      table shaped like `events` (same columns, types and indexes), through one pool opened
      like the real app's (verbinders.database.open_pool: same size, codecs, connection
      settings and reset): the limit;
  (b) the real Verbinders app (create_app, as `verbinders serve` builds it: projections
      in-process, write_rate_per_minute raised to its maximum) and its cheapest create
      command, POST /tokens ({"roles": ["analyst"], "label": "bench"} with a coordinator's
      bearer token): an AccessToken's event appended in one autocommit statement
      (the command pipeline, `writes_once`), listed later by the `tokens` read
      model, which the in-process projections keep; POST /meetings,
      one event but with more to decode, validate and project, costs more (b_meetings);
each in a uvicorn process of its own (one worker, the same uvicorn settings for both, started
afresh per measurement; (b) only after its projections have caught up), loaded by wrk (Debian's
package, installed with apt-get when missing) with the same connections, threads, Lua script
(POST body, headers, and a check that every answer was 201), a warm-up and a measured run, in
rounds whose order alternates (a b, b a, ...; 5 rounds by default). It reports medians of the
rounds: requests/s, p50 and p99 latency (wrk --latency), and per request the server process's
CPU time, the PostgreSQL server's CPU time and wrk's. The targets are judged on each round's
b/a (the two measured back to back), by the median of those; the ratio of the medians is
printed beside it. Every measured request must have been answered 201,
and the rows written must match the requests wrk counted; otherwise the run fails.

Only ratios from the same run mean anything: the machine is shared and noisy, and wrk, the
server and PostgreSQL share its CPUs. Default target: an embedded PostgreSQL 18 in a temporary
folder with default durability (fsync and synchronous_commit on). With --database-url it creates
a database `verbinders_bench_<random>` on that server and drops it afterwards.

--diagnose adds contenders that split (b)'s cost, under the same load:
  b_noproj    (b) without its in-process projections;
  b_meetings  POST /meetings, an online meeting: one Meeting event, projected into two read
              models (meetings, activity);
  a_tx        (a) as BEGIN, its INSERT, an INSERT into a table shaped like the token table
              (b) once wrote beside its event, COMMIT: how (b) wrote before it became one
              statement and the token's row a read model;
  b_core      (b)'s command (issue_token, one statement) behind a bare Litestar handler: no
              guard, no HTTP command layer, no projections;
and then the same apps once more in this process, straight through their ASGI callables (no
HTTP server, no sockets, one request at a time): CPU per request, and per call the CPU of the
pure-Python steps of POST /tokens.
--profile adds one round, not counted, in which `py-spy record --gil` samples each server
process during its measured run, and prints its Python time by layer (py-spy must be on PATH
or in the venv: `.venv/bin/pip install py-spy`). --only picks contenders, e.g. --only a,b.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from common import CLOCK_TICKS, proc_fields, proc_stat, with_database
from verbinders.config import Settings
from verbinders.database import EmbeddedPostgres

# (a) and (b): the body of POST /tokens.
BODY = '{"roles": ["analyst"], "label": "bench"}'
# --diagnose: the body of POST /meetings, an online meeting.
MEETING_BODY = (
    '{"title": "Bench meeting", "starts_at": "2027-01-15T19:00:00+01:00",'
    ' "ends_at": "2027-01-15T21:00:00+01:00", "mode": "online",'
    ' "online_link": "https://meet.example.nl/bench"}'
)
TENANT = "bench"
WRITE_RATE = 1_000_000  # the largest VERBINDERS_WRITE_RATE_PER_MINUTE accepted
TARGET_RATE = 0.7
TARGET_P99 = 2.0

# Same columns, types, defaults and indexes as `events` (store/schema.py, migration 1).
BARE_DDL = """
CREATE SEQUENCE IF NOT EXISTS bare_position_seq AS bigint CACHE 1;
CREATE TABLE IF NOT EXISTS bare_events (
    position     bigint      PRIMARY KEY DEFAULT nextval('bare_position_seq'),
    tenant       text        NOT NULL,
    stream_id    uuid        NOT NULL,
    stream_type  text        NOT NULL,
    version      integer     NOT NULL CHECK (version > 0),
    topic        text        NOT NULL,
    payload      jsonb       NOT NULL,
    metadata     jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX IF NOT EXISTS bare_events_stream_version ON bare_events (stream_id, version);
CREATE INDEX IF NOT EXISTS bare_events_tenant_position ON bare_events (tenant, position);
CREATE INDEX IF NOT EXISTS bare_events_recorded_at ON bare_events USING brin (recorded_at);
"""
BARE_INSERT = (
    "INSERT INTO bare_events (tenant, stream_id, stream_type, version, topic, payload, metadata)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING position"
)
# --diagnose: a second row per request, into a table shaped like the token table (b) once wrote
# beside its event (without its foreign key): (b)'s conversation with PostgreSQL before.
BARE_TOKENS_DDL = """
CREATE TABLE IF NOT EXISTS bare_tokens (
    token_id    uuid        PRIMARY KEY,
    tenant      text        NOT NULL,
    party       uuid,
    roles       text[]      NOT NULL,
    label       text        NOT NULL,
    secret_hash text        NOT NULL UNIQUE,
    expires_at  timestamptz,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    issued_by   text        NOT NULL,
    revoked_at  timestamptz,
    revoked_by  text
);
CREATE INDEX IF NOT EXISTS bare_tokens_tenant ON bare_tokens (tenant, issued_at);
"""
BARE_TOKEN_INSERT = (
    "INSERT INTO bare_tokens (token_id, tenant, party, roles, label, secret_hash, expires_at,"
    " issued_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)


@dataclass(frozen=True)
class Contender:
    label: str
    app: str
    """Which app its server process serves: "bare" or "real"."""
    path: str
    env: tuple[tuple[str, str], ...] = ()
    diagnostic: bool = False
    projections: bool = False
    """Runs the projections: measured only once they have caught up with earlier runs."""
    body: str = BODY
    stream_type: str = "AccessToken"
    """Whose events the real app's answers must match in number (the bare app: its rows)."""
    mix: bool = False
    """Sends the command mix (MIX_SCRIPT) instead of one POST of `body`."""
    keyed: bool = False
    """Every request with an Idempotency-Key of its own: the transactional path."""


CONTENDERS = {
    "a": Contender("(a) bare Litestar + asyncpg INSERT", "bare", "/things"),
    "b": Contender("(b) Verbinders POST /tokens", "real", "/tokens", projections=True),
    "c": Contender("(c) command mix", "real", "/", projections=True, mix=True),
    "c_tx": Contender(
        "(d) command mix + Idempotency-Key", "real", "/", projections=True, mix=True, keyed=True
    ),
    "b_noproj": Contender(
        "    b without projections",
        "real",
        "/tokens",
        (("VERBINDERS_RUN_PROJECTIONS", "false"),),
        diagnostic=True,
    ),
    "c_noproj": Contender(
        "    c without projections",
        "real",
        "/",
        (("VERBINDERS_RUN_PROJECTIONS", "false"),),
        diagnostic=True,
        mix=True,
    ),
    "b_meetings": Contender(
        "    POST /meetings (a new meeting)",
        "real",
        "/meetings",
        projections=True,
        diagnostic=True,
        body=MEETING_BODY,
        stream_type="Meeting",
    ),
    "a_tx": Contender("    a as BEGIN, 2 INSERTs, COMMIT", "bare", "/things-tx", diagnostic=True),
    "b_core": Contender("    b's command, no API layer", "command", "/tokens", diagnostic=True),
}

# wrk: the request, and a count of answers by status (every one must be 201). A response()
# callback makes wrk parse each answer's headers and body; both contenders pay it alike.
WRK_POST = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"

local threads = {{}}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    created = 0
    other = 0
    other_status = 0
end
"""

# Both scripts end with this: answers counted by status, and the summary line parse_wrk reads.
WRK_RESULTS = """
function response(status, headers, body)
    if status == {ok} or (status >= 200 and status < 300 and {any_2xx}) then
        created = created + 1
    else
        other = other + 1
        other_status = status
    end
end

function done(summary, latency, requests)
    local c, o, s = 0, 0, 0
    for _, t in ipairs(threads) do
        c = c + t:get("created")
        o = o + t:get("other")
        if t:get("other_status") ~= 0 then s = t:get("other_status") end
    end
    local e = summary.errors
    io.write(string.format(
        "BENCH created=%d other=%d other_status=%d requests=%d connect=%d read=%d"
        .. " write=%d status=%d timeout=%d p99_us=%d p50_us=%d\\n",
        c, o, s, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(99), latency:percentile(50)))
end
"""


# The command mix (contenders c and c_tx): in turn, a meeting scheduled (POST /meetings, 201),
# an organisation's profile updated (PATCH /organisations/{id}, 200) and a membership decision
# (suspend, or reinstate a suspended member: POST .../membership/suspend|reinstate, 200), on
# organisations prepared as members. Each wrk thread takes its own organisations, in turn, so
# that a decision on one is sent only long after the one before it was answered (no two
# commands race for a stream: every answer must be 2xx). `suspended` is read from the database
# before each run; `keyed` adds an Idempotency-Key of its own to every request.
MIX_SCRIPT = """
local orgs = {{ {orgs} }}
local suspended_at_start = {{ {suspended} }}
local meeting = {meeting}
local keyed = {keyed}
local tag = "{tag}"
local threads = {{}}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

function init(args)
    created = 0
    other = 0
    other_status = 0
    n = 0
    mine = {{}}
    for i, org in ipairs(orgs) do
        if (i - 1) % {threads} == id then table.insert(mine, org) end
    end
    suspended = {{}}
    for _, org in ipairs(suspended_at_start) do suspended[org] = true end
end

local function headers()
    local h = {{}}
    h["Content-Type"] = "application/json"
    h["Authorization"] = "Bearer {token}"
    if keyed then h["Idempotency-Key"] = tag .. "-" .. id .. "-" .. n end
    return h
end

function request()
    n = n + 1
    local kind = n % 3
    if kind == 0 then
        return wrk.format("POST", "/meetings", headers(), meeting)
    end
    local org = mine[(math.floor(n / 3) % #mine) + 1]
    if kind == 1 then
        local text = "Bijgewerkt door run " .. tag .. " " .. id .. "/" .. n
        local body = '{{"description": "' .. text .. '"}}'
        return wrk.format("PATCH", "/organisations/" .. org, headers(), body)
    end
    local action = "suspend"
    if suspended[org] then action = "reinstate" end
    suspended[org] = not suspended[org]
    return wrk.format(
        "POST", "/organisations/" .. org .. "/membership/" .. action, headers(),
        '{{"reason": "bench"}}')
end
"""
MIX_STREAMS = ["Meeting", "Organisation", "Membership"]
"""The streams the mix appends to: one event per request."""
MIX_ORGANISATIONS = 300
"""Organisations per wrk thread the mix works on (each is touched every 3 x this requests)."""


# -- the servers (run in their own processes: bench_http.py --serve bare|real) --------------


class IssueBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The same body as the real endpoint's, decoded the same way."""

    roles: tuple[str, ...]
    label: str = ""


class Created(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    position: int


def bare_app(settings: Settings) -> Any:
    """One POST endpoint inserting one row with asyncpg, on a pool opened like the real app's."""
    from litestar import Litestar, get, post
    from litestar.datastructures import State
    from litestar.status_codes import HTTP_201_CREATED

    from verbinders.database import open_pool

    metadata = msgspec.json.encode({"tenant": TENANT, "actor": "bench", "correlation_id": "x"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> Any:
        assert settings.database_url is not None
        app.state.pool = await open_pool(settings.database_url, settings)
        try:
            yield
        finally:
            await app.state.pool.close()

    @post("/things", status_code=HTTP_201_CREATED)
    async def create(state: State, data: IssueBody) -> Created:
        stream = uuid.uuid4()
        async with state.pool.acquire() as conn:
            position = await conn.fetchval(
                BARE_INSERT,
                TENANT,
                stream,
                "Thing",
                1,
                "bench:Thing.Created",
                msgspec.json.encode(data),
                metadata,
            )
        return Created(id=stream, position=position)

    @post("/things-tx", status_code=HTTP_201_CREATED)
    async def create_in_transaction(state: State, data: IssueBody) -> Created:
        """--diagnose: the real command's round trips (BEGIN, two statements, COMMIT)."""
        stream = uuid.uuid4()
        async with state.pool.acquire() as conn, conn.transaction():
            position = await conn.fetchval(
                BARE_INSERT,
                TENANT,
                stream,
                "Thing",
                1,
                "bench:Thing.Created",
                msgspec.json.encode(data),
                metadata,
            )
            await conn.execute(
                BARE_TOKEN_INSERT,
                stream,
                TENANT,
                None,
                list(data.roles),
                data.label,
                stream.hex,
                None,
                "bench",
            )
        return Created(id=stream, position=position)

    @get("/health/ready")
    async def ready() -> dict[str, Any]:
        return {"status": "ready", "projections": []}

    return Litestar(
        route_handlers=[create, create_in_transaction, ready], lifespan=[lifespan], debug=False
    )


def command_app(settings: Settings) -> Any:
    """--diagnose: the real command (issue_token as the pipeline runs it without an
    Idempotency-Key: no transaction, one statement) behind a bare Litestar handler: no guard,
    no idempotency/correlation handling, no controller, no projections; the actor is the
    coordinator's token, looked up once."""

    from litestar import Litestar, get, post
    from litestar.datastructures import State
    from litestar.status_codes import HTTP_201_CREATED

    from verbinders.application.authentication import Authenticator
    from verbinders.application.tokens import IssuedToken, issue_token
    from verbinders.runtime import open_runtime

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> Any:
        async with open_runtime(settings) as runtime:
            app.state.runtime = runtime
            app.state.actor = await Authenticator(runtime.pipeline).authenticate(
                os.environ["BENCH_HTTP_TOKEN"]
            )
            yield

    @post(
        "/tokens",
        status_code=HTTP_201_CREATED,
        signature_namespace={"IssuedToken": IssuedToken},
    )
    async def issue(state: State, data: IssueBody) -> IssuedToken:
        runtime = state.runtime
        return await runtime.pipeline.run(
            issue_token, state.actor, roles=data.roles, label=data.label
        )

    @get("/health/ready")
    async def ready() -> dict[str, Any]:
        return {"status": "ready", "projections": []}

    return Litestar(route_handlers=[issue, ready], lifespan=[lifespan], debug=False)


def serve(app_name: str, port: int) -> None:
    """The server process: the same uvicorn settings for both apps, one worker."""
    import uvicorn

    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env()
    if app_name == "bare":
        app = bare_app(settings)
    elif app_name == "command":
        app = command_app(settings)
    else:
        from verbinders.api.app import create_app

        app = create_app(settings)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        workers=1,
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


# -- measuring -------------------------------------------------------------------------------


def _process_cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all its threads."""
    fields = proc_fields(pid)
    if fields is None:
        return 0.0, 0.0
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def _server_cpu(postmaster: int | None) -> float | None:
    """CPU seconds used by the PostgreSQL server's live processes (postmaster and children)."""
    if postmaster is None:
        return None
    total = 0.0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if stat is not None and (stat[0] == postmaster or int(entry.name) == postmaster):
                total += stat[1]
    return total


def _proc_comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values[:8]) - idle, sum(values[:8])


async def find_postmaster(conn: asyncpg.Connection) -> int | None:
    """The server's postmaster pid, if the server runs on this machine and /proc shows it."""
    stat = proc_stat(await conn.fetchval("SELECT pg_backend_pid()"))
    if stat is None:
        return None
    comm = _proc_comm(stat[0])
    return stat[0] if "postgres" in comm or "postmaster" in comm else None


_DURATION = re.compile(r"^([\d.]+)(us|ms|s|m)$")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS[match[2]]


@dataclass
class WrkRun:
    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    created: int
    output: str


def parse_wrk(output: str, *, what: str) -> WrkRun:
    """Requests/s and the latency distribution's p50/p99 from `wrk --latency`, and the Lua
    script's count of answers; raises unless every answer was 201 and no socket failed."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    counts = re.search(r"^BENCH (.*)$", output, re.M)
    if not (rate and p50 and p99 and counts):
        raise RuntimeError(f"{what}: could not read wrk's output:\n{output}")
    c = {k: int(v) for k, v in (item.split("=") for item in counts[1].split())}
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    if c["other"] or non_2xx or socket_errors or c["created"] != c["requests"]:
        raise RuntimeError(
            f"{what}: not every request was answered 2xx: {c['created']:,} of"
            f" {c['requests']:,} were, {c['other']:,} got another status (e.g."
            f" {c['other_status']}); wrk said:\n{output}"
        )
    if c["created"] == 0:
        raise RuntimeError(f"{what}: no request was answered:\n{output}")
    return WrkRun(
        rate=float(rate[1]),
        p50_ms=_ms(p50[1]),
        p99_ms=_ms(p99[1]),
        requests=c["requests"],
        created=c["created"],
        output=output,
    )


@dataclass
class Result:
    rate: float
    p50_ms: float
    p99_ms: float
    server_us: float
    server_sys_us: float
    pg_us: float | None
    wrk_us: float
    machine_busy: float


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    if subprocess.run(["apt-get", "install", "-y", "wrk"], check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


@dataclass
class Server:
    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def failed(self, why: str) -> RuntimeError:
        tail = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
        return RuntimeError(f"{self.kind} server: {why}\n--- its log ---\n{tail}")

    async def wait_ready(self, timeout: float, *, caught_up: bool) -> None:
        """Until it answers /health/ready (and, if `caught_up`, its projections have caught up
        with every event of earlier runs: lag 0)."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self.failed(f"exited with {self.process.returncode}")
            try:
                last = await asyncio.to_thread(_get_json, self.url + "/health/ready")
            except (OSError, urllib.error.URLError, ValueError) as error:
                last = error
            else:
                if last.get("status") == "ready" and (
                    not caught_up or all(p["lag"] == 0 for p in last.get("projections", []))
                ):
                    return
            await asyncio.sleep(0.2)
        raise self.failed(f"not ready within {timeout:g} s (last answer: {last!r})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Bench:
    args: argparse.Namespace
    wrk: str
    workdir: Path
    settings: Settings
    conn: asyncpg.Connection
    postmaster: int | None
    token: str
    py_spy: str | None = None
    organisations: list[str] = dataclasses.field(default_factory=list)
    profiles: dict[str, Path] = dataclasses.field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        for item in dataclasses.fields(Settings):
            value = getattr(self.settings, item.name)
            name = f"VERBINDERS_{item.name.upper()}"
            if value is None:
                env.pop(name, None)
            else:
                env[name] = str(value).lower() if isinstance(value, bool) else str(value)
        return env

    def start(self, kind: str) -> Server:
        contender = CONTENDERS[kind]
        port = free_port()
        log = self.workdir / f"{kind}-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, __file__, "--serve", contender.app, "--port", str(port)],
                env=self.environment() | dict(contender.env) | {"BENCH_HTTP_TOKEN": self.token},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return Server(kind, port, process, log)

    async def rows(self, kind: str) -> int:
        if CONTENDERS[kind].app == "bare":
            return int(await self.conn.fetchval("SELECT count(*) FROM bare_events"))
        streams = MIX_STREAMS if CONTENDERS[kind].mix else [CONTENDERS[kind].stream_type]
        return int(
            await self.conn.fetchval(
                "SELECT count(*) FROM events WHERE tenant = $1 AND stream_type = any($2)",
                TENANT,
                streams,
            )
        )

    async def suspended(self) -> list[str]:
        """The prepared organisations whose membership is suspended now."""
        rows = await self.conn.fetch(
            "SELECT first.payload->>'organisation_id' AS org FROM events first"
            " JOIN LATERAL (SELECT topic FROM events e WHERE e.stream_id = first.stream_id"
            "   ORDER BY version DESC LIMIT 1) latest ON true"
            " WHERE first.tenant = $1 AND first.stream_type = 'Membership' AND first.version = 1"
            " AND latest.topic LIKE '%.Suspended'",
            TENANT,
        )
        return [row["org"] for row in rows]

    async def script(self, contender: Contender, body: str) -> str:
        if not contender.mix:
            return (WRK_POST + WRK_RESULTS).format(
                body=json.dumps(body), token=self.token, ok=201, any_2xx="false"
            )
        quoted = ", ".join(json.dumps(org) for org in self.organisations)
        suspended = ", ".join(json.dumps(org) for org in await self.suspended())
        return (MIX_SCRIPT + WRK_RESULTS).format(
            orgs=quoted,
            suspended=suspended,
            meeting=json.dumps(MEETING_BODY),
            keyed="true" if contender.keyed else "false",
            tag=uuid.uuid4().hex[:8],
            threads=self.args.threads,
            token=self.token,
            ok=201,
            any_2xx="true",
        )

    async def wrk_run(self, server: Server, path: str, body: str, seconds: float) -> WrkRun:
        script = self.workdir / "post.lua"
        script.write_text(await self.script(CONTENDERS[server.kind], body))
        command = [
            self.wrk,
            f"-t{self.args.threads}",
            f"-c{self.args.connections}",
            f"-d{seconds:g}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            server.url + path,
        ]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise server.failed(f"wrk failed ({process.returncode}):\n{output.decode()}")
        return parse_wrk(output.decode(), what=f"{server.kind} ({server.url + path})")

    async def settle(self, kind: str, *, longest: float = 30.0) -> None:
        """Wait until the requests wrk left in flight are written (the rows stop growing for
        0.5 s): the mix reads which members are suspended before its measured run, and a
        decision still in flight would make that read stale (and the next decision a 409)."""
        await asyncio.sleep(0.5)
        deadline = time.monotonic() + longest
        rows = await self.rows(kind)
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            now = await self.rows(kind)
            if now == rows:
                return
            rows = now

    async def measure(self, kind: str, *, profile: bool = False) -> Result:
        path = CONTENDERS[kind].path
        rows_before = await self.rows(kind)
        server = self.start(kind)
        try:
            await server.wait_ready(
                self.args.ready_timeout,
                caught_up=CONTENDERS[kind].projections,
            )
            body = CONTENDERS[kind].body
            warm = await self.wrk_run(server, path, body, self.args.warmup)
            await self.settle(kind)  # let the warm-up's stragglers finish
            spy = self._start_py_spy(kind, server) if profile else None
            cpu = _process_cpu(server.process.pid)
            pg = _server_cpu(self.postmaster)
            wrk_cpu = _children_cpu()
            machine = _machine_cpu()
            run = await self.wrk_run(server, path, body, self.args.seconds)
            after = _process_cpu(server.process.pid)
            user, system = after[0] - cpu[0], after[1] - cpu[1]
            pg_after = _server_cpu(self.postmaster)
            wrk_cpu = _children_cpu() - wrk_cpu
            busy = _machine_cpu()
            if spy is not None:
                spy.wait()
        finally:
            server.stop()
        if server.process.returncode not in (0, -signal.SIGTERM):
            raise server.failed(f"exited with {server.process.returncode}")
        # Requests cut off at the end of a wrk run are still written but not counted by wrk.
        written = await self.rows(kind) - rows_before
        counted = warm.created + run.created
        if not counted <= written <= counted + 2 * self.args.connections:
            raise RuntimeError(
                f"{kind}: wrk counted {counted:,} answers 201 but {written:,} rows were written"
            )
        n = run.requests
        return Result(
            rate=run.rate,
            p50_ms=run.p50_ms,
            p99_ms=run.p99_ms,
            server_us=(user + system) / n * 1e6,
            server_sys_us=system / n * 1e6,
            pg_us=(pg_after - pg) / n * 1e6 if pg is not None and pg_after is not None else None,
            wrk_us=wrk_cpu / n * 1e6,
            machine_busy=(busy[0] - machine[0]) / max(1, busy[1] - machine[1]),
        )

    def _start_py_spy(self, kind: str, server: Server) -> subprocess.Popen[bytes] | None:
        if self.py_spy is None:
            return None
        out = self.workdir / f"profile-{kind}.txt"
        self.profiles[kind] = out
        return subprocess.Popen(
            [
                self.py_spy,
                "record",
                "--pid",
                str(server.process.pid),
                "--duration",
                str(max(1, int(self.args.seconds) - 1)),
                "--rate",
                "100",
                "--gil",
                "--format",
                "raw",
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


# -- in-process diagnosis (--diagnose) -------------------------------------------------------


async def asgi_post(app: Any, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    """One POST straight through the app's ASGI callable (no server, no socket)."""
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
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
    return status


async def asgi_cpu(app: Any, path: str, text: str, token: str, n: int) -> tuple[float, float]:
    """(CPU us, wall us) per request of `n` sequential POSTs of `text` through the app in this
    process; every answer must be 201."""
    body = text.encode()
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"authorization", f"Bearer {token}".encode()),
    ]
    async with app.lifespan():
        for _ in range(max(50, n // 10)):  # warm-up
            await asgi_post(app, path, headers, body)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            status = await asgi_post(app, path, headers, body)
            if status != 201:
                raise RuntimeError(f"in-process POST {path} answered {status}")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / n * 1e6, wall / n * 1e6


def per_call_us(fn: Any, n: int = 5000) -> float:
    """CPU microseconds per call of fn()."""
    fn()
    started = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - started) / n * 1e6


def python_pieces(token_actor: Any) -> list[tuple[str, float]]:
    """CPU per call of the pure-Python steps of POST /tokens (no database, no HTTP)."""
    from datetime import UTC, datetime

    from verbinders.application.authentication import Authenticator
    from verbinders.application.tokens import IssuedToken, hash_secret, new_secret
    from verbinders.domain.access import AccessToken
    from verbinders.store.events import Metadata, NewEvent
    from verbinders.store.mapping import encode_event, personal_subjects

    encoder = msgspec.json.Encoder()

    def issue() -> AccessToken:
        return AccessToken.issue(
            token_id=uuid.uuid4(),
            tenant=TENANT,
            party=None,
            roles=("analyst",),
            label="bench",
            secret_hash="0" * 64,
            expires_at=None,
            issued_by="token:x",
            reason="issued",
            now=datetime.now(UTC),
        )

    issued = [issue() for _ in range(5001)]

    def collect_and_encode() -> None:
        token = issued.pop()
        events = token.collect_events()
        personal_subjects(v for e in events for v in vars(e).values())
        for event in events:
            topic, payload = encode_event(event, {})
            NewEvent(
                stream_id=token.id,
                stream_type="AccessToken",
                version=event.originator_version,
                topic=topic,
                payload=payload,
            )

    def metadata() -> bytes:
        return encoder.encode(
            Metadata(
                tenant=TENANT,
                actor="token:x",
                roles=("coordinator",),
                token_id=str(uuid.uuid4()),
                correlation_id=str(uuid.uuid4()),
            )
        )

    def answer() -> bytes:
        return encoder.encode(
            IssuedToken(
                id=uuid.uuid4(),
                token=new_secret(uuid.uuid4()),
                roles=("analyst",),
                party=None,
                label="bench",
                expires_at=None,
                position=1,
            )
        )

    authenticator = Authenticator(None, ttl=3600)  # type: ignore[arg-type]
    secret = new_secret(uuid.uuid4())
    key = hashlib.sha256(secret.encode()).digest()
    authenticator._cache[key] = (time.monotonic(), token_actor, None)

    async def cached_auth() -> None:
        await authenticator.authenticate(secret)

    def auth() -> None:
        coroutine = cached_auth()
        with contextlib.suppress(StopIteration):
            coroutine.send(None)

    return [
        (
            "new_secret() + hash_secret()",
            per_call_us(lambda: hash_secret(new_secret(uuid.uuid4()))),
        ),
        ("AccessToken.issue (eventsourcing aggregate)", per_call_us(issue)),
        ("collect, personal_subjects x2, encode", per_call_us(collect_and_encode)),
        ("event metadata (2 uuid4 + encode)", per_call_us(metadata)),
        ("answer: IssuedToken encode (+ a secret)", per_call_us(answer)),
        ("guard: cached authenticate()", per_call_us(auth)),
        ("uuid4() (correlation id)", per_call_us(uuid.uuid4)),
    ]


async def in_process_diagnosis(settings: Settings, token: str, n: int, rounds: int) -> None:
    """CPU per request of the apps without an HTTP server, in rounds of rotating order."""
    from verbinders.api.app import create_app
    from verbinders.application.authentication import Authenticator
    from verbinders.runtime import open_runtime

    os.environ["BENCH_HTTP_TOKEN"] = token
    no_projections = dataclasses.replace(settings, run_projections=False)
    variants: list[tuple[str, Any, str, str]] = [
        ("(a) bare: one INSERT                 1", lambda: bare_app(settings), "/things", BODY),
        (
            "    bare: BEGIN, 2 INSERTs, COMMIT   4",
            lambda: bare_app(settings),
            "/things-tx",
            BODY,
        ),
        (
            "    b's command, no API layer        1",
            lambda: command_app(settings),
            "/tokens",
            BODY,
        ),
        (
            "(b) POST /tokens, no projections     1",
            lambda: create_app(no_projections),
            "/tokens",
            BODY,
        ),
        (
            "    POST /meetings, no projections   1",
            lambda: create_app(no_projections),
            "/meetings",
            MEETING_BODY,
        ),
    ]
    print(
        f"\nIn this process, straight through each app's ASGI callable (no HTTP server, no"
        f" socket),\none request at a time, {n:,} requests per app and round, median of"
        f" {rounds} rounds:"
    )
    print(f"{'':36}round trips {'CPU us/req':>10} {'wall us/req':>11}")
    cpu: dict[str, list[float]] = {label: [] for label, *_ in variants}
    wall: dict[str, list[float]] = {label: [] for label, *_ in variants}
    for r in range(rounds):
        rotated = variants[r % len(variants) :] + variants[: r % len(variants)]
        for label, make, path, body in rotated:
            c, w = await asgi_cpu(make(), path, body, token, n)
            cpu[label].append(c)
            wall[label].append(w)
    for label, *_ in variants:
        print(
            f"  {label:44} {statistics.median(cpu[label]):10.0f}"
            f" {statistics.median(wall[label]):11.0f}"
        )
    async with open_runtime(settings, min_size=1, max_size=1) as runtime:
        actor = await Authenticator(runtime.pipeline).authenticate(token)
    print("Pure-Python steps of POST /tokens (no database), CPU per call:")
    for label, us in python_pieces(actor):
        print(f"  {label:44} {us:6.1f} us")


# -- reporting -------------------------------------------------------------------------------


def median(results: list[Result], attr: str) -> float | None:
    values = [getattr(r, attr) for r in results]
    return None if any(v is None for v in values) else statistics.median(values)


def print_table(results: dict[str, list[Result]]) -> None:
    print(
        f"{'':36} {'req/s':>8} {'p50':>7} {'p99':>7} {'server':>8} {'of it':>7} {'PG':>7}"
        f" {'wrk':>7} {'machine':>8}\n"
        f"{'':36} {'median':>8} {'ms':>7} {'ms':>7} {'us/req':>8} {'kernel':>7} {'us/req':>7}"
        f" {'us/req':>7} {'busy':>8}"
    )
    for kind, rounds in results.items():
        pg = median(rounds, "pg_us")
        pg_text = f"{pg:7.0f}" if pg is not None else f"{'n/a':>7}"
        print(
            f"{CONTENDERS[kind].label:36} {median(rounds, 'rate'):8,.0f}"
            f" {median(rounds, 'p50_ms'):7.1f} {median(rounds, 'p99_ms'):7.1f}"
            f" {median(rounds, 'server_us'):8.0f} {median(rounds, 'server_sys_us'):7.0f}"
            f" {pg_text} {median(rounds, 'wrk_us'):7.0f} {median(rounds, 'machine_busy'):8.0%}"
        )


def print_verdict(a: list[Result], b: list[Result], label: str) -> None:
    """The targets, judged on the ratios of each round (a and b measured minutes apart at
    most), whose median is the verdict; the ratio of the medians is shown beside it.

    The machine's load drifts over a run (other work on the shared CPUs): a round in a busy
    spell slows both servers, so pairing them by round cancels most of the drift, whereas the
    ratio of the two medians may set one server's best spell against the other's worst.
    """
    rate_rounds = [rb.rate / ra.rate for ra, rb in zip(a, b, strict=True)]
    p99_rounds = [rb.p99_ms / ra.p99_ms for ra, rb in zip(a, b, strict=True)]
    rate_ratio, p99_ratio = statistics.median(rate_rounds), statistics.median(p99_rounds)
    of_medians = {
        "rate": statistics.median(r.rate for r in b) / statistics.median(r.rate for r in a),
        "p99": statistics.median(r.p99_ms for r in b) / statistics.median(r.p99_ms for r in a),
    }
    print(f"\n{label.strip()} against (a):")
    print(
        f"requests/s  b/a = {rate_ratio:.2f}  (target >= {TARGET_RATE})"
        f"  {'met' if rate_ratio >= TARGET_RATE else 'MISSED'}"
        f"   rounds {', '.join(f'{x:.2f}' for x in rate_rounds)};"
        f" ratio of medians {of_medians['rate']:.2f}"
    )
    print(
        f"p99 latency b/a = {p99_ratio:.2f}  (target <= {TARGET_P99:g})"
        f"  {'met' if p99_ratio <= TARGET_P99 else 'MISSED'}"
        f"   rounds {', '.join(f'{x:.2f}' for x in p99_rounds)};"
        f" ratio of medians {of_medians['p99']:.2f}"
    )


# Layers of a server's Python time, by the first marker found in a sample's stack (in this
# order: a statement sent from inside the domain code counts as asyncpg).
PROFILE_LAYERS = (
    ("projections (the in-process runner)", ("ProjectionRunner", "/projections/")),
    ("guard: authenticate, rate limit, Litestar's copy", ("authorize_connection",)),
    ("asyncpg: statements, BEGIN/COMMIT, pool, results", ("asyncpg/",)),
    ("event notifier (EventStore._notify_loop)", ("_notify_loop",)),
    (
        "domain + store: issue_token, save, EventStore",
        ("verbinders/application/", "verbinders/domain/", "verbinders/store/", "eventsourcing/"),
    ),
    (
        "API: commands, controller, bench handlers",
        ("verbinders/api/", "bare_app.<locals>", "command_app.<locals>"),
    ),
    ("Litestar: routing, body, kwargs, response", ("litestar/",)),
    ("uvicorn + h11: HTTP parsing and writing", ("uvicorn/protocols/", "h11/")),
)


def summarise_profile(path: Path, server_us: float, top: int = 12) -> None:
    """Where a `py-spy record --gil --format raw` profile's samples went: by layer (converted
    to microseconds per request with the server's user-mode CPU per request), and the
    functions of verbinders with the largest inclusive shares."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks[tuple(frames.split(";"))] += int(count)
    total = sum(stacks.values())
    if not total:
        print(f"  (no samples in {path})")
        return
    layers: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    for frames, count in stacks.items():
        joined = ";".join(frames)
        layer = next(
            (name for name, marks in PROFILE_LAYERS if any(m in joined for m in marks)),
            "asyncio event loop, other",
        )
        layers[layer] += count
        for name in {_short(f) for f in frames if "/verbinders/" in f}:
            ours[name] += count
    print(
        f"  {total:,} samples while holding the GIL (Python running; syscalls excluded);"
        f" shares x {server_us:.0f} us user CPU/request:"
    )
    for name, count in layers.most_common():
        print(f"    {count / total:6.1%} {count / total * server_us:6.0f} us  {name}")
    if ours:
        print("  verbinders functions, inclusive:")
        for name, count in ours.most_common(top):
            print(f"    {count / total:6.1%} {count / total * server_us:6.0f} us  {name}")


def _short(frame: str) -> str:
    # py-spy frames look like "function (path/to/module.py:123)"; keep the file's tail, drop
    # the line (so that one function is one entry).
    match = re.match(r"(.*) \((.*?):\d+\)$", frame)
    if not match:
        return frame
    name, file = match[1], match[2]
    for marker in ("site-packages/", "/lib/python3.11/", "/src/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{name} ({file})"


# -- main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded PG 18)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of (a) (b)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured wrk run")
    parser.add_argument("--warmup", type=float, default=3.0, help="wrk run before, not counted")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--pool-size", type=int, help="pool_max_size of both servers (default: the app's)"
    )
    parser.add_argument(
        "--synchronous-commit",
        choices=["on", "off"],
        default="on",
        help="diagnostic only, for both alike (default on: honest durability)",
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="add contenders that split (b)'s cost: a with (b)'s round trips, b without"
        " projections",
    )
    parser.add_argument(
        "--in-process-requests",
        type=int,
        default=2000,
        help="--diagnose: requests per app and round in the in-process (ASGI) measurement",
    )
    parser.add_argument(
        "--only", help="comma-separated contenders, e.g. a,b_noproj (for profiling)"
    )
    parser.add_argument("--profile", action="store_true", help="an extra round under py-spy")
    parser.add_argument("--ready-timeout", type=float, default=180.0)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round of 3 s")
    parser.add_argument("--serve", choices=["bare", "command", "real"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.warmup = 1, 3.0, 1.0
    return args


async def prepare(settings: Settings, organisations: int) -> tuple[str, list[str]]:
    """The schema, the bare table, a platform and its coordinator's token, and `organisations`
    members for the command mix (their ids), all through the command pipeline."""
    from verbinders.application.context import Actor
    from verbinders.application.membership import admit, apply
    from verbinders.application.organisations import register_organisation
    from verbinders.application.platforms import create_platform
    from verbinders.domain.vocabulary import OrganisationKind
    from verbinders.runtime import open_runtime

    operator = Actor.operator(TENANT, "bench")
    async with open_runtime(settings, min_size=1, max_size=2) as runtime:
        async with runtime.pool.acquire() as conn:
            await conn.execute(BARE_DDL)
            await conn.execute(BARE_TOKENS_DDL)
        created = await runtime.pipeline.run(
            create_platform,
            operator,
            name="Benchmarkse Verbinders",
            city="Haarlem",
            started_on=date(2019, 1, 1),
        )
        ids = []
        for n in range(organisations):
            registered = await runtime.pipeline.run(
                register_organisation,
                operator,
                kind=OrganisationKind.SELF_ORGANISATION,
                name=f"Benchvereniging {n}",
            )
            org = uuid.UUID(registered.id)
            await runtime.pipeline.run(apply, operator, org, motivation="meten")
            await runtime.pipeline.run(admit, operator, org, reason="meten")
            ids.append(str(org))
    assert created.token.token is not None
    return created.token.token, ids


async def run(args: argparse.Namespace, wrk: str, py_spy: str | None) -> None:
    wrk_version = await asyncio.to_thread(
        subprocess.run, [wrk, "--version"], capture_output=True, text=True
    )
    workdir = Path(tempfile.mkdtemp(prefix="verbinders-bench-http-"))
    embedded: EmbeddedPostgres | None = None
    if args.database_url:
        admin_dsn = args.database_url
    else:
        embedded = EmbeddedPostgres(workdir / "pg")
        admin_dsn = await asyncio.to_thread(embedded.start)
    name = f"verbinders_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    conn: asyncpg.Connection | None = None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.execute(
            f'ALTER DATABASE "{name}" SET synchronous_commit = {args.synchronous_commit}'
        )
        dsn = with_database(admin_dsn, name)
        settings = Settings(
            database_url=dsn,
            write_rate_per_minute=WRITE_RATE,
            run_projections=True,
            log_level="WARNING",
        )
        if args.pool_size:
            settings = dataclasses.replace(
                settings,
                pool_max_size=args.pool_size,
                pool_min_size=min(settings.pool_min_size, args.pool_size),
            )
        keys = [k for k, c in CONTENDERS.items() if args.diagnose or not c.diagnostic]
        if args.only:
            keys = [k for k in keys if k in args.only.split(",")]
        mixing = any(CONTENDERS[k].mix for k in keys)
        token, organisations = await prepare(
            settings, MIX_ORGANISATIONS * args.threads if mixing else 0
        )
        conn = await asyncpg.connect(dsn)
        facts = {
            s: await conn.fetchval(f"SHOW {s}")
            for s in ("server_version", "fsync", "synchronous_commit", "shared_buffers")
        }
        bench = Bench(
            args,
            wrk,
            workdir,
            settings,
            conn,
            await find_postmaster(conn),
            token,
            py_spy,
            organisations,
        )
        from importlib.metadata import version

        print(
            f"PostgreSQL {facts['server_version']}"
            f" ({'embedded' if embedded else args.database_url}), fsync={facts['fsync']},"
            f" synchronous_commit={facts['synchronous_commit']},"
            f" shared_buffers={facts['shared_buffers']}; {os.cpu_count()} CPUs (nproc);"
            f" Python {sys.version.split()[0]}, Litestar {version('litestar')}, uvicorn"
            f" {version('uvicorn')} (1 worker, {_uvicorn_impl()}),"
            f" {wrk_version.stdout.split(' [')[0]}"
        )
        print(
            f"wrk -t{args.threads} -c{args.connections}: {args.warmup:g} s warm-up +"
            f" {args.seconds:g} s measured per server and round; {args.rounds} rounds; pool"
            f" {settings.pool_min_size}..{settings.pool_max_size} connections in both servers;"
            " (b) with its projections in-process, as `verbinders serve` runs them"
            + ("" if bench.postmaster else "; PostgreSQL CPU not visible (remote server)"),
            flush=True,
        )
        results: dict[str, list[Result]] = {k: [] for k in keys}
        for r in range(args.rounds):
            order = keys[r % len(keys) :] + keys[: r % len(keys)]
            line = []
            for kind in order:
                result = await bench.measure(kind)
                results[kind].append(result)
                line.append(f"{kind} {result.rate:,.0f} req/s p99 {result.p99_ms:.1f} ms")
            print(f"  round {r + 1}: " + "; ".join(line), flush=True)
        if args.rounds:
            print()
            print_table(results)
        for kind in ("b", "c", "c_tx"):
            if args.rounds and {"a", kind} <= results.keys():
                print_verdict(results["a"], results[kind], CONTENDERS[kind].label)
        if args.diagnose and not args.only:
            await in_process_diagnosis(
                settings, token, args.in_process_requests, max(3, args.rounds)
            )
        if args.profile:
            for kind in keys:
                result = await bench.measure(kind, profile=True)
                print(f"\nprofile of {kind} ({result.rate:,.0f} req/s under py-spy):")
                if kind in bench.profiles and bench.profiles[kind].exists():
                    summarise_profile(bench.profiles[kind], result.server_us - result.server_sys_us)
                    print(f"  raw stacks: {bench.profiles[kind]}")
    finally:
        if conn is not None:
            await conn.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
        with contextlib.suppress(OSError):
            shutil.rmtree(workdir if not args.profile else workdir / "pg")


def _uvicorn_impl() -> str:
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"loop {loop}, http {http}, access log off"


def main() -> None:
    args = parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    logging.disable(logging.INFO)  # the embedded server's start/stop chatter
    wrk = ensure_wrk()
    py_spy = None
    if args.profile:
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(py_spy).exists():
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    asyncio.run(run(args, wrk, py_spy))


if __name__ == "__main__":
    main()
