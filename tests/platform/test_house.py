"""A wing is one folder plus one line: a house built with the test garden wing serves its API,
migrates its table, knows its job kind, topic, settings, command, lifespan and deletion step —
with nothing of the platform changed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from typer.testing import CliRunner

from meadhall.cli import build_cli
from meadhall.platform.accounts import tasks as account_tasks
from meadhall.platform.accounts.models import User
from meadhall.platform.accounts.principal import ALL_SCOPES, Principal
from meadhall.platform.accounts.security import create_access_token
from meadhall.platform.app import create_app
from meadhall.platform.core import house_of
from meadhall.platform.events.topics import authorise_topic
from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.registry import KINDS
from meadhall.platform.runtime import Runtime
from meadhall.platform.wing import Wing
from meadhall.wings import HOUSE, WINGS
from tests.conftest import TEST_SECRET, meadhall_env
from tests.platform.garden import wing as garden

GARDEN_HOUSE = house_of([*WINGS, garden.wing])


@pytest.fixture(scope="module")
async def garden_app(
    database_factory: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    settings = GARDEN_HOUSE.settings_class(
        database_url=database_factory(),
        data_dir=tmp_path_factory.mktemp("garden"),
        secret_key=TEST_SECRET,
        workers_in_process=False,
        log_level="warning",
        garden_name="Herb spiral",
    )
    app = create_app(GARDEN_HOUSE, settings)
    async with LifespanManager(app, startup_timeout=60):
        yield app
    assert garden.EVENTS[-1] == "closed"


async def _member(runtime: Runtime) -> tuple[uuid.UUID, dict[str, str]]:
    async with runtime.db.transaction() as session:
        user = User(
            email=f"{uuid.uuid4().hex[:8]}@example.com", display_name="Gardener", password_hash="x"
        )
        session.add(user)
        await session.flush()
    token, _ = create_access_token(
        key=runtime.settings.signing_key(), user_id=user.id, token_version=0, minutes=5
    )
    return user.id, {"Authorization": f"Bearer {token}"}


async def test_the_wing_serves_its_api_on_its_own_migrated_table(garden_app: FastAPI) -> None:
    runtime: Runtime = garden_app.state.runtime
    _, headers = await _member(runtime)
    transport = httpx.ASGITransport(app=garden_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        planted = await client.post("/api/garden/beds", json={"name": "Thyme"}, headers=headers)
        assert planted.status_code == 201, planted.text
        listed = await client.get("/api/garden/beds", headers=headers)
        assert listed.json() == [{"name": "Thyme"}]
        # Bad input and strangers are refused like everywhere else.
        assert (
            await client.post("/api/garden/beds", json={"name": ""}, headers=headers)
        ).status_code == 422
        assert (await client.get("/api/garden/beds")).status_code == 401
        # The platform's and the Library's routes are still there.
        assert (await client.get("/api/library/limits", headers=headers)).status_code == 200
        paths = (await client.get("/api/openapi.json")).json()["paths"]
    assert "/api/garden/beds" in paths and "/api/me" in paths


async def test_lifespan_settings_topics_and_job_kinds_come_from_the_manifest(
    garden_app: FastAPI,
) -> None:
    runtime: Runtime = garden_app.state.runtime
    assert runtime.extras["garden"] == "tended"
    assert "open" in garden.EVENTS
    assert runtime.settings.garden_name == "Herb spiral"
    # The Library's settings are still part of the same settings object.
    assert runtime.settings.upload_max_bytes > 0
    assert KINDS["garden.water"].handler is garden.tasks.water
    principal = Principal(user_id=uuid.uuid4(), is_admin=False, scopes=ALL_SCOPES, via="token")
    assert await authorise_topic(runtime, principal, "garden") == "garden"


async def test_account_deletion_runs_the_wings_step(garden_app: FastAPI) -> None:
    runtime: Runtime = garden_app.state.runtime
    user_id, _ = await _member(runtime)
    ctx = JobContext(
        runtime=runtime, job_id=uuid.uuid4(), kind="accounts.delete_user", owner_id=None, attempt=1
    )
    await account_tasks.delete_user(ctx, {"user_id": str(user_id), "mode": "delete"})
    assert f"forget {user_id} delete" in garden.EVENTS


def test_the_wing_adds_its_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    env = meadhall_env("postgresql://unused/x", tmp_path, MEADHALL_GARDEN_NAME="Rose bed")
    result = runner.invoke(build_cli(GARDEN_HOUSE), ["garden"], env=env)
    assert result.exit_code == 0, result.output
    assert "garden: Rose bed" in result.output
    assert "shed" in runner.invoke(build_cli(GARDEN_HOUSE), ["--help"], env=env).output
    # The house of this install has no garden.
    assert "garden" not in runner.invoke(build_cli(HOUSE), ["--help"], env=env).output


def test_a_house_refuses_a_wing_listed_twice() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        house_of([garden.wing, garden.wing])
    with pytest.raises(ValueError, match="identifier"):
        Wing(name="Not a name")
