"""Enqueueing: same transaction as the caller, deduplication, priorities and queues."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from meadhall.platform.jobs.errors import UnknownJobKind
from meadhall.platform.jobs.models import Job
from meadhall.platform.jobs.service import enqueue
from meadhall.platform.runtime import Runtime
from tests.platform.jobs import kinds
from tests.platform.jobs.conftest import WorkerFactory, enqueue_job, load_job, wait_for


async def _counts(runtime: Runtime) -> tuple[int, int]:
    async with runtime.db.sessionmaker() as session:
        jobs = await session.scalar(select(func.count()).select_from(Job))
        deliveries = await session.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
    return int(jobs or 0), int(deliveries or 0)


async def test_rolled_back_transaction_leaves_no_job(runtime: Runtime) -> None:
    async with runtime.db.sessionmaker() as session:
        job = await enqueue(session, kind="test.sleep", payload={"seconds": 0})
        assert job.status == "queued"
        await session.rollback()
    assert await _counts(runtime) == (0, 0)


async def test_committed_job_and_its_delivery_are_stored_together(runtime: Runtime) -> None:
    job = await enqueue_job(runtime, kind="test.sleep", payload={"seconds": 0}, priority=3)
    assert await _counts(runtime) == (1, 1)
    async with runtime.db.sessionmaker() as session:
        row = (
            await session.execute(
                text(
                    "SELECT id, task_name, queue_name, priority, args, status::text "
                    "FROM procrastinate_jobs"
                )
            )
        ).one()
    assert row.id == job.procrastinate_job_id
    assert row.task_name == "meadhall.run_job"
    assert (row.queue_name, row.priority, row.status) == ("default", 3, "todo")
    assert row.args == {"job_id": str(job.id)}
    assert (job.attempts, job.max_attempts, job.progress) == (0, 3, 0.0)


async def test_unknown_kind_is_refused(runtime: Runtime) -> None:
    async with runtime.db.sessionmaker() as session:
        with pytest.raises(UnknownJobKind):
            await enqueue(session, kind="test.nothing", payload={})
        with pytest.raises(ValueError):
            await enqueue(session, kind="test.sleep", payload={}, queue="Not A Queue")
        with pytest.raises(ValueError):
            await enqueue(session, kind="test.sleep", payload={}, dedup_key="x" * 201)
    assert await _counts(runtime) == (0, 0)


async def test_identical_pending_job_is_returned_instead_of_a_new_one(runtime: Runtime) -> None:
    first = await enqueue_job(runtime, kind="test.sleep", dedup_key="thumbs:1")
    second = await enqueue_job(runtime, kind="test.sleep", dedup_key="thumbs:1")
    other = await enqueue_job(runtime, kind="test.sleep", dedup_key="thumbs:2")
    assert second.id == first.id
    assert other.id != first.id
    assert await _counts(runtime) == (2, 2)

    # Once the first is finished, the same key queues a new job.
    async with runtime.db.transaction() as session:
        await session.execute(
            text("UPDATE jobs SET status = 'succeeded' WHERE id = :id"), {"id": first.id}
        )
    third = await enqueue_job(runtime, kind="test.sleep", dedup_key="thumbs:1")
    assert third.id != first.id


async def test_concurrent_identical_enqueues_make_one_job(runtime: Runtime) -> None:
    async def one() -> Job:
        async with runtime.db.transaction() as session:
            job = await enqueue(session, kind="test.sleep", payload={}, dedup_key="race")
            await asyncio.sleep(0.1)  # Hold the transaction open so the two overlap.
            return job

    jobs = await asyncio.gather(*(one() for _ in range(4)))
    assert len({job.id for job in jobs}) == 1
    assert await _counts(runtime) == (1, 1)


async def test_higher_priority_runs_first(runtime: Runtime, worker: WorkerFactory) -> None:
    jobs = [
        await enqueue_job(runtime, kind="test.record", payload={"name": name}, priority=priority)
        for name, priority in [("low", 0), ("high", 10), ("middle", 5), ("low-2", 0)]
    ]
    async with worker(concurrency=1):
        for job in jobs:
            await wait_for(runtime, job.id)
    assert kinds.ORDER == ["high", "middle", "low", "low-2"]


async def test_worker_serves_only_its_queues(runtime: Runtime, worker: WorkerFactory) -> None:
    default_job = await enqueue_job(runtime, kind="test.sleep", payload={"seconds": 0})
    ml_job = await enqueue_job(runtime, kind="test.ml")
    assert ml_job.queue == "ml"
    async with worker(queues=["ml"]):
        await wait_for(runtime, ml_job.id, "succeeded")
        await asyncio.sleep(1.2)  # Longer than the worker's polling interval.
        assert (await load_job(runtime, default_job.id)).status == "queued"
    async with worker(queues=["default"]):
        await wait_for(runtime, default_job.id, "succeeded")


async def test_queue_can_be_chosen_when_enqueueing(runtime: Runtime, worker: WorkerFactory) -> None:
    job = await enqueue_job(runtime, kind="test.sleep", payload={"seconds": 0}, queue="ml")
    assert job.queue == "ml"
    async with worker(queues=["ml"]):
        await wait_for(runtime, job.id, "succeeded")
