"""The garden's job kind."""

from __future__ import annotations

from typing import Any

from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.registry import job_kind

WATERED: list[dict[str, Any]] = []


@job_kind("garden.water", max_attempts=1)
async def water(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Water the beds."""
    WATERED.append(payload)
