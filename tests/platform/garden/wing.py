"""The garden's manifest."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import typer

from meadhall.platform.jobs.context import JobContext
from meadhall.platform.runtime import Runtime
from meadhall.platform.wing import Command, Wing
from tests.platform.garden import models, tasks, topics
from tests.platform.garden.router import router
from tests.platform.garden.settings import GardenSettings

# What the lifespan hook and the deletion step saw, for the tests to read.
EVENTS: list[str] = []


@asynccontextmanager
async def tending(runtime: Runtime) -> AsyncIterator[None]:
    EVENTS.append("open")
    runtime.extras["garden"] = "tended"
    try:
        yield
    finally:
        EVENTS.append("closed")


async def forget_gardener(ctx: JobContext, user_id: uuid.UUID, mode: str) -> None:
    EVENTS.append(f"forget {user_id} {mode}")


def garden() -> None:
    """Say the garden's name."""
    from meadhall.platform.console import console, settings_or_exit

    settings = settings_or_exit()
    console.print(f"garden: {getattr(settings, 'garden_name', '?')}")


wing = Wing(
    name="garden",
    label="Garden",
    icon="tag",
    api=(router,),
    models=(models,),
    tasks=(tasks,),
    topics=(topics,),
    lifespans=(tending,),
    commands=(Command("garden", garden), Command("shed", typer.Typer(name="shed"))),
    settings=GardenSettings,
    deletion_steps=(forget_gardener,),
    migrations=Path(__file__).parent / "migrations",
)
