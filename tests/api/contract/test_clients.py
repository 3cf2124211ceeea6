"""Clients generated from the served OpenAPI document, as a front end or partner would make
them: a Python client (`openapi-python-client`, no warnings) that drives a short story with
typed models, and TypeScript types (`openapi-typescript`) that a small client type-checks
with `tsc --strict` (`tools/ts-client/`; `./dev test` installs its npm packages)."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.api.contract.serving import served
from tests.platforms import make_platform
from verbinders.config import Settings
from verbinders.runtime import Runtime

pytestmark = pytest.mark.clients

ROOT = Path(__file__).resolve().parents[3]
TS_CLIENT = ROOT / "tools" / "ts-client"


@pytest.fixture
def api_settings() -> Settings:
    return Settings(snapshot_every=0, write_rate_per_minute=10_000)


async def _document(url: str) -> bytes:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{url}/schema/openapi.json")
    answer.raise_for_status()
    return answer.content


async def _run(*command: str, cwd: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"{' '.join(command)}:\n{text}"
    return text


async def test_a_generated_python_client_drives_a_story_with_typed_models(
    runtime: Runtime, api_settings: Settings, tmp_path: Path
) -> None:
    platform = await make_platform(runtime, "haarlem")
    async with served(runtime, api_settings) as url:
        (tmp_path / "openapi.json").write_bytes(await _document(url))
        (tmp_path / "config.yaml").write_text("post_hooks: []\n")
        generator = str(Path(sys.executable).with_name("openapi-python-client"))
        output = await _run(
            generator,
            "generate",
            "--path",
            "openapi.json",
            "--meta",
            "none",
            "--config",
            "config.yaml",
            cwd=tmp_path,
        )
        assert "warning" not in output.lower(), output
        assert "error" not in output.lower(), output
        sys.path.insert(0, str(tmp_path))
        try:
            await _story(url, platform.tokens["coordinator"])
        finally:
            sys.path.remove(str(tmp_path))
            for name in [m for m in sys.modules if m.startswith("verbinders_client")]:
                del sys.modules[name]


async def _story(url: str, token: str) -> None:
    client_module = importlib.import_module("verbinders_client")
    models = importlib.import_module("verbinders_client.models")
    organisations = "verbinders_client.api.organisations"
    register = importlib.import_module(f"{organisations}.register_organisation")
    update = importlib.import_module(f"{organisations}.update_organisation")
    show = importlib.import_module(f"{organisations}.show_organisation")
    directory = importlib.import_module(f"{organisations}.list_organisations")
    apply = importlib.import_module("verbinders_client.api.membership.apply_for_membership")
    admit = importlib.import_module("verbinders_client.api.membership.admit_member")

    client = client_module.AuthenticatedClient(base_url=url, token=token)
    created = await register.asyncio(
        client=client,
        body=models.RegisterOrganisation(
            kind=models.OrganisationKind.SELF_ORGANISATION, name="Stichting Voorbeeld"
        ),
    )
    assert isinstance(created, models.CommandResult), created
    organisation_id = created.id
    before_update = datetime.now(UTC)

    shown = await show.asyncio_detailed(organisation_id=organisation_id, client=client)
    assert isinstance(shown.parsed, models.OrganisationView)
    assert shown.parsed.name == "Stichting Voorbeeld"
    updated = await update.asyncio(
        organisation_id=organisation_id,
        client=client,
        body=models.UpdateOrganisation(name="Stichting Voorbeeld Haarlem"),
        if_match=shown.headers["etag"],
    )
    assert isinstance(updated, models.CommandResult), updated
    stale = await update.asyncio(
        organisation_id=organisation_id,
        client=client,
        body=models.UpdateOrganisation(description="te laat"),
        if_match=shown.headers["etag"],
    )
    assert isinstance(stale, models.Problem), stale
    assert stale.status == 412

    applied = await apply.asyncio(
        organisation_id=organisation_id,
        client=client,
        body=models.Apply(motivation="Wij organiseren taalcafés in Schalkwijk"),
    )
    assert isinstance(applied, models.TransitionResult), applied
    assert applied.data.status == "applied"
    admitted = await admit.asyncio(
        organisation_id=organisation_id,
        client=client,
        body=models.Decision(reason="Voldoet aan de criteria"),
    )
    assert isinstance(admitted, models.TransitionResult), admitted
    assert admitted.data.status == "member"

    page = await directory.asyncio(client=client, wait_for=admitted.position, q="Voorbeeld")
    assert isinstance(page, models.OrganisationPage), page
    (entry,) = page.items
    assert isinstance(entry, models.DirectoryEntry)
    assert (entry.name, entry.membership_status) == ("Stichting Voorbeeld Haarlem", "member")

    then = await show.asyncio(organisation_id=organisation_id, client=client, as_of=before_update)
    assert isinstance(then, models.OrganisationView), then
    assert then.name == "Stichting Voorbeeld"
    assert then.membership_status == "none"


async def test_generated_typescript_types_type_check_a_strict_client(
    runtime: Runtime, api_settings: Settings, tmp_path: Path
) -> None:
    tools = TS_CLIENT / "node_modules" / ".bin"
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("no node/npm on this machine: the TypeScript client is not checked")
    assert (tools / "openapi-typescript").exists(), (
        "run `npm ci --prefix tools/ts-client` (./dev test does) to install openapi-typescript"
    )
    async with served(runtime, api_settings) as url:
        (tmp_path / "openapi.json").write_bytes(await _document(url))
    work = tmp_path / "ts"
    work.mkdir()
    shutil.copy(TS_CLIENT / "client.ts", work / "client.ts")
    shutil.copy(TS_CLIENT / "tsconfig.json", work / "tsconfig.json")
    await _run(
        str(tools / "openapi-typescript"),
        str(tmp_path / "openapi.json"),
        "--output",
        str(work / "api.d.ts"),
        "--default-non-nullable",
        "false",  # a field with a default may be left out of a request
        cwd=work,
    )
    text = (work / "api.d.ts").read_text()
    assert "listOrganisations" in text
    assert "OrganisationPage: {" in text
    await _run(str(tools / "tsc"), "--strict", "-p", "tsconfig.json", cwd=work)
