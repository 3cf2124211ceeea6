"""`verbinders platform create` takes the city's districts; `token create` issues tokens only
for organisations of the platform. Bad input is one readable line and exit code 2."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from verbinders.cli import main

pytestmark = pytest.mark.server


@pytest.fixture
def env(database: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("VERBINDERS_DATABASE_URL", database)
    monkeypatch.setenv("VERBINDERS_LOG_LEVEL", "WARNING")
    return {**os.environ, "VERBINDERS_DATABASE_URL": database}


async def run(*args: str) -> tuple[int, str, str]:
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def create(slug: str, city: str, *extra: str) -> tuple[str, ...]:
    return (
        "platform",
        "create",
        "--slug",
        slug,
        "--name",
        f"Verbinders {city}",
        "--city",
        city,
        *extra,
    )


async def test_a_platform_elsewhere_gets_its_own_districts_haarlem_its_default(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, _, err = await run(*create("utrecht", "Utrecht"))
    assert code == 2
    assert err.strip().splitlines() == [
        "error: a platform in 'Utrecht' needs its city's districts (Haarlem's are the default"
        " for Haarlem only)"
    ]
    code, out, _ = await run(
        *create(
            "utrecht", "Utrecht", "--district", "binnenstad=Binnenstad", "--district", "Overvecht"
        )
    )
    assert code == 0, out
    assert "districts: Binnenstad, Overvecht" in out
    listing = tmp_path / "wijken.txt"
    listing.write_text("# de wijken van Zaandam\noost=Zaandam-Oost\n\nwest=Zaandam-West\n")
    code, out, _ = await run(*create("zaanstad", "Zaanstad", "--districts-file", str(listing)))
    assert code == 0, out
    assert "districts: Zaandam-Oost, Zaandam-West" in out
    code, out, _ = await run(*create("haarlem", "Haarlem"))
    assert code == 0
    assert "districts: Centrum, Noord, Oost, Schalkwijk, Zuid-West" in out
    code, _, err = await run(*create("haarlem", "Haarlem"))
    assert (code, err.strip()) == (1, "error: platform 'haarlem' already exists")


async def test_bad_platform_input_is_one_readable_line(env: dict[str, str], tmp_path: Path) -> None:
    for args, message in (
        (create("Haar lem", "Haarlem"), "error: tenant 'Haar lem' must be lower-case"),
        (
            create("x", "X", "--districts-file", str(tmp_path / "missing.txt")),
            "error: --districts-file",
        ),
        (create("x", "X", "--district", "Noord!=Noord"), "error: districts[0].code: 'Noord!'"),
    ):
        code, _, err = await run(*args)
        assert code == 2, (args, err)
        assert err.startswith(message) and len(err.strip().splitlines()) == 1, err


async def test_a_token_names_an_organisation_of_its_platform(env: dict[str, str]) -> None:
    code, _, _ = await run(*create("haarlem", "Haarlem"))
    assert code == 0
    party = "0b4f6c1e-3c9a-4c55-9d3e-1f2a3b4c5d6e"
    code, _, err = await run(
        "token", "create", "--tenant", "haarlem", "--role", "organisation", "--party", party
    )
    assert code == 2
    assert err.strip() == f"error: party {party} is no organisation of this platform"
