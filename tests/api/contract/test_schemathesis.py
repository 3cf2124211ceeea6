"""Schemathesis against the served app: every operation, with a token of every role.

All the checks that judge the API against its OpenAPI document run: no server error, status
codes and content types as documented, response bodies that match their schemas, data that
fits the schemas accepted, data that breaks them refused. Bounded: a few examples per
operation and role (`MAX_EXAMPLES`, phase `fuzzing`); `VERBINDERS_SCHEMATHESIS_COVERAGE=1` adds
the phase `coverage` (boundary values of each length, range and pattern the schemas state).

"Accepted" counts what the domain refuses for reasons no schema can state: 404 (the resource
does not exist), 409 (it is not in a state for the command), 412 (a stale `If-Match`) and 422
(a district that is not the platform's, a meeting that ends before it starts, ...), and 503
for `wait_for` a position the read model has not reached (a documented answer with
`Retry-After`, not a failure: `timeout` is held at 50 ms, so that the run does not wait). Those
are problem documents like every refusal, and the schemas are checked on them too.

Run alone: `pytest -m schemathesis`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from tests.api.contract.serving import served
from tests.platforms import make_platform
from verbinders.config import Settings
from verbinders.domain.access import Role
from verbinders.runtime import Runtime

pytestmark = pytest.mark.schemathesis

MAX_EXAMPLES = int(os.environ.get("VERBINDERS_SCHEMATHESIS_EXAMPLES", "3"))
"""Examples per operation with the coordinator's token (it may use nearly every operation)."""
OTHER_EXAMPLES = max(1, MAX_EXAMPLES - 1)
"""With the other roles' tokens (most of their answers are the same 403)."""
COVERAGE = os.environ.get("VERBINDERS_SCHEMATHESIS_COVERAGE") == "1"
"""The coverage phase (every stated bound's boundary values, ~4,500 cases: minutes on a loaded
machine) with the coordinator's token: by hand, or in a CI with time to spare."""
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "positive_data_acceptance",
        "negative_data_rejection",
    ]
)
CONFIG = """\
[parameters]
"query.timeout" = 0.05

[checks.not_a_server_error]
expected-statuses = ["1xx", "2xx", "3xx", "4xx", "503"]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "412", "422", "429", "503"]

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "409", "413", "415", "422", "429"]
"""
ST_WITH_SERIAL_PARSING = """\
import ast, sys, threading
from schemathesis.cli import schemathesis
_parse, _lock = ast.parse, threading.Lock()
def parse(*args, **kwargs):
    with _lock:
        return _parse(*args, **kwargs)
ast.parse = parse
sys.argv[0] = "st"
sys.exit(schemathesis())
"""
"""`st` with `ast.parse` serialised: Python 3.11's parser fails at random ("AST constructor
recursion depth mismatch") when two threads parse at once, as Hypothesis does to describe its
strategies in both workers."""
SKIPPED = ["streamCallPicture", "streamEvents"]
"""Streams answer for as long as the client listens: tested in their own suites."""
LAST = "revokeToken"
"""Run after the rest: it may revoke the very token the run uses (it lists them all)."""


@pytest.fixture
def api_settings() -> Settings:
    return Settings(snapshot_every=0, write_rate_per_minute=1_000_000)


async def _run(
    url: str, token: str, workdir: Path, *, phases: str, selection: list[str], examples: int
) -> tuple[int, str]:
    config = workdir / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        sys.executable,
        "-c",
        ST_WITH_SERIAL_PARSING,
        "--config-file",
        str(config),
        "run",
        f"{url}/schema/openapi.json",
        "--checks",
        CHECKS,
        "--phases",
        phases,
        "--max-examples",
        str(examples),
        "--seed",
        "7",
        "--no-shrink",
        "--workers",
        "2",
        "--header",
        f"Authorization: Bearer {token}",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        *selection,
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=workdir,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


ROLES = [
    role
    for role in Role
    if not os.environ.get("VERBINDERS_SCHEMATHESIS_ROLES")
    or role.value in os.environ["VERBINDERS_SCHEMATHESIS_ROLES"].split(",")
]
"""Every role, one test each (so that a parallel run spreads them over its workers);
`VERBINDERS_SCHEMATHESIS_ROLES=coordinator,analyst` picks some."""


@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
async def test_every_operation_for_every_role_conforms(
    runtime: Runtime, api_settings: Settings, tmp_path: Path, role: Role
) -> None:
    platform = await make_platform(runtime, "haarlem")
    failures = []
    async with served(runtime, api_settings) as url:
        started = time.monotonic()
        token = platform.tokens[role.value]
        # Boundary values of every stated bound once (with the role that may use them all),
        # then random data for every role.
        phases = "coverage,fuzzing" if role is Role.COORDINATOR and COVERAGE else "fuzzing"
        skipped = [arg for name in [*SKIPPED, LAST] for arg in ("--exclude-operation-id", name)]
        runs = [
            (phases, skipped),
            ("fuzzing", ["--include-operation-id", LAST]),
        ]
        for number, (run_phases, selection) in enumerate(runs):
            code, output = await _run(
                url,
                token,
                tmp_path,
                phases=run_phases,
                selection=selection,
                examples=MAX_EXAMPLES if role is Role.COORDINATOR else OTHER_EXAMPLES,
            )
            (tmp_path / f"{role.value}-{number}.txt").write_text(output)
            if code != 0:
                failures.append(f"--- {role.value} ---\n{output[-20000:]}")
        print(f"{role.value}: {time.monotonic() - started:.1f} s")
    assert not failures, "\n".join(failures)
