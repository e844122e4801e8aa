"""Fixtures of the jobs tests: in-process workers, a recording bus, waiting for a job."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from meadhall.platform.events.bus import SESSION_BUS_KEY, EventBus
from meadhall.platform.jobs.models import Job, JobAttempt
from meadhall.platform.jobs.service import enqueue
from meadhall.platform.jobs.worker import running_worker
from meadhall.platform.runtime import Runtime
from tests.platform.jobs import kinds

FINISHED = ("succeeded", "failed", "cancelled")


@dataclass
class RecordingBus:
    """Passes events on to the real bus and keeps a copy for the test to read."""

    inner: EventBus
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def publish(self, topic: str, type: str, data: dict[str, Any]) -> Any:
        self.events.append((topic, type, data))
        return await self.inner.publish(topic, type, data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def of(self, topic: str, job_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
        """The ``job.updated`` events published on ``topic`` (about one job if given)."""
        return [
            data
            for t, kind, data in self.events
            if t == topic and kind == "job.updated" and job_id in (None, uuid.UUID(data["id"]))
        ]


@pytest.fixture
def recording_bus(runtime: Runtime) -> Any:
    original = runtime.bus
    recorder = RecordingBus(original)
    runtime.bus = recorder  # type: ignore[assignment]
    runtime.db.share_with_sessions(**{SESSION_BUS_KEY: recorder})
    yield recorder
    runtime.bus = original
    runtime.db.share_with_sessions(**{SESSION_BUS_KEY: original})


@pytest.fixture(autouse=True)
def _fresh_test_records() -> None:
    kinds.RUNS.clear()
    kinds.ORDER.clear()


WorkerFactory = Callable[..., AbstractAsyncContextManager[Any]]


@pytest.fixture
def worker(runtime: Runtime) -> WorkerFactory:
    """``async with worker(queues=[...], concurrency=n):`` runs a worker inside the test."""

    @asynccontextmanager
    async def start(
        *, queues: Sequence[str] | None = None, concurrency: int = 2
    ) -> AsyncIterator[Any]:
        async with running_worker(runtime, queues=queues, concurrency=concurrency) as w:
            yield w

    return start


async def enqueue_job(runtime: Runtime, **kwargs: Any) -> Job:
    """Enqueue in a transaction of its own and commit."""
    kwargs.setdefault("payload", {})
    async with runtime.db.transaction() as session:
        return await enqueue(session, **kwargs)


async def load_job(runtime: Runtime, job_id: uuid.UUID) -> Job:
    async with runtime.db.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def load_attempts(runtime: Runtime, job_id: uuid.UUID) -> list[JobAttempt]:
    async with runtime.db.sessionmaker() as session:
        rows = await session.scalars(
            select(JobAttempt).where(JobAttempt.job_id == job_id).order_by(JobAttempt.number)
        )
        return list(rows)


async def wait_for(
    runtime: Runtime, job_id: uuid.UUID, *statuses: str, within: float = 15.0
) -> Job:
    """Poll until the job reaches one of ``statuses`` (default: any finished state)."""
    wanted = statuses or FINISHED
    deadline = asyncio.get_running_loop().time() + within
    while True:
        job = await load_job(runtime, job_id)
        if job.status in wanted:
            return job
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"job stayed {job.status} (wanted {wanted}): {job.last_error}")
        await asyncio.sleep(0.05)
