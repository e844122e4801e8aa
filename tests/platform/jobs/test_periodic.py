"""Periodic kinds: each gets a Procrastinate schedule that queues a visible, deduplicated job."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.models import Job
from meadhall.platform.jobs.registry import KINDS, job_kind
from meadhall.platform.jobs.worker import build_app
from meadhall.platform.runtime import Runtime
from tests.platform.jobs.conftest import WorkerFactory


def test_every_cron_kind_has_a_schedule(runtime: Runtime) -> None:
    app = build_app(runtime, pool_size=2)
    schedules = {
        periodic_id: (task.task.name, task.cron, task.configure_kwargs.get("task_kwargs"))
        for (_, periodic_id), task in app.periodic_registry.periodic_tasks.items()
    }
    assert schedules["jobs.sweep_stalled"] == (
        "meadhall.enqueue_periodic",
        "* * * * *",
        {"kind": "jobs.sweep_stalled"},
    )
    assert schedules["jobs.prune"][1] == "17 4 * * *"
    cron_kinds = {name for name, kind in KINDS.items() if kind.cron}
    assert set(schedules) == cron_kinds


def test_bad_definitions_are_refused() -> None:
    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        return None

    with pytest.raises(ValueError, match="cron"):
        job_kind("test.bad_cron", cron="every tuesday")(handler)
    with pytest.raises(ValueError, match=r"domain\.action"):
        job_kind("Bad Name")(handler)
    with pytest.raises(ValueError, match="max_attempts"):
        job_kind("test.zero", max_attempts=0)(handler)
    with pytest.raises(ValueError, match="twice"):
        job_kind("test.sleep")(handler)


TICKS: list[int] = []


@pytest.fixture
def every_second_kind() -> Iterator[str]:
    @job_kind("test.tick", cron="* * * * * *", max_attempts=1)
    async def tick(ctx: JobContext, payload: dict[str, Any]) -> None:
        TICKS.append(ctx.attempt)

    yield "test.tick"
    KINDS.pop("test.tick")


async def test_periodic_kind_is_queued_as_a_visible_job(
    runtime: Runtime, worker: WorkerFactory, every_second_kind: str
) -> None:
    async with worker():
        for _ in range(100):
            async with runtime.db.sessionmaker() as session:
                jobs = list(
                    await session.scalars(
                        select(Job).where(Job.kind == every_second_kind, Job.status == "succeeded")
                    )
                )
            if len(jobs) >= 2:
                break
            await asyncio.sleep(0.1)
    assert len(jobs) >= 2
    assert all(job.dedup_key == "test.tick" and job.owner_id is None for job in jobs)
    assert TICKS
