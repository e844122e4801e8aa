"""Running jobs: outcomes, retries with backoff, progress and events, cancel, the sweep."""

from __future__ import annotations

import asyncio
import hashlib
import itertools

from sqlalchemy import text

from meadhall.platform.jobs.runner import WORKER_IDENTITY
from meadhall.platform.runtime import Runtime
from tests.platform.jobs import kinds
from tests.platform.jobs.conftest import (
    RecordingBus,
    WorkerFactory,
    enqueue_job,
    load_attempts,
    load_job,
    wait_for,
)


async def test_job_runs_once_and_succeeds(runtime: Runtime, worker: WorkerFactory) -> None:
    job = await enqueue_job(runtime, kind="test.sleep", payload={"seconds": 0.1})
    async with worker():
        done = await wait_for(runtime, job.id)
    assert done.status == "succeeded"
    assert (done.attempts, done.progress, done.last_error) == (1, 1.0, None)
    assert done.started_at is not None and done.finished_at is not None
    assert done.finished_at >= done.started_at >= done.created_at
    assert kinds.RUNS[str(job.id)] == ["start 1", "done 1"]
    [attempt] = await load_attempts(runtime, job.id)
    assert (attempt.number, attempt.outcome, attempt.worker) == (1, "succeeded", WORKER_IDENTITY)


async def test_failures_retry_with_backoff_then_fail_with_traceback(
    runtime: Runtime, worker: WorkerFactory
) -> None:
    job = await enqueue_job(runtime, kind="test.fail")
    async with worker():
        failed = await wait_for(runtime, job.id, "failed")
    assert failed.attempts == failed.max_attempts == 3
    # The full report: the traceback through the handler down to the raising frame.
    assert failed.last_error is not None
    assert failed.last_error.startswith("Traceback (most recent call last):")
    assert "in fail" in failed.last_error and "in _explode" in failed.last_error
    assert "Boom: boom on attempt 3" in failed.last_error
    attempts = await load_attempts(runtime, job.id)
    assert [a.outcome for a in attempts] == ["failed"] * 3
    assert "boom on attempt 1" in (attempts[0].error or "")
    # Backoff 0.3 s then 0.6 s between attempts.
    gaps = [
        (later.started_at - earlier.finished_at).total_seconds()  # type: ignore[operator]
        for earlier, later in itertools.pairwise(attempts)
    ]
    assert gaps[0] >= 0.29 and gaps[1] >= 0.59, gaps
    assert kinds.RUNS[str(job.id)] == ["start 1", "start 2", "start 3"]


async def test_flaky_job_succeeds_on_retry(runtime: Runtime, worker: WorkerFactory) -> None:
    job = await enqueue_job(runtime, kind="test.flaky", payload={"fail_times": 1})
    async with worker():
        done = await wait_for(runtime, job.id)
    assert done.status == "succeeded"
    assert done.attempts == 2
    # The error of the failed attempt stays visible in the history.
    assert "flaky failure 1" in (done.last_error or "")
    assert [a.outcome for a in await load_attempts(runtime, job.id)] == ["failed", "succeeded"]


async def test_progress_is_written_and_published(
    runtime: Runtime, worker: WorkerFactory, recording_bus: RecordingBus, make_user: object
) -> None:
    user = await make_user()  # type: ignore[operator]
    job = await enqueue_job(
        runtime, kind="test.sleep", payload={"seconds": 1.2, "steps": 4}, owner_id=user.id
    )
    async with worker():
        await wait_for(runtime, job.id)
    mine = recording_bus.of(f"jobs:{user.id}")
    assert mine == recording_bus.of("jobs", job.id)
    assert all(event["id"] == str(job.id) for event in mine)
    statuses = [event["status"] for event in mine]
    assert statuses[0] == "queued" and statuses[1] == "running" and statuses[-1] == "succeeded"
    progress = [(e["progress"], e["progress_message"]) for e in mine if e["status"] == "running"]
    assert (0.25, "step 1 of 4") in progress and (0.75, "step 3 of 4") in progress
    assert [p for p, _ in progress] == sorted(p for p, _ in progress)


async def test_progress_is_throttled(
    runtime: Runtime, worker: WorkerFactory, recording_bus: RecordingBus
) -> None:
    # 50 reports in 0.25 s: a handful of writes, the last one included.
    job = await enqueue_job(runtime, kind="test.sleep", payload={"seconds": 0.25, "steps": 50})
    async with worker():
        await wait_for(runtime, job.id)
    running = [e for e in recording_bus.of("jobs", job.id) if e["status"] == "running"]
    assert 2 <= len(running) <= 6, len(running)


async def test_cpu_work_runs_in_a_thread(runtime: Runtime, worker: WorkerFactory) -> None:
    job = await enqueue_job(runtime, kind="test.cpu", payload={"rounds": 20_000})
    async with worker():
        done = await wait_for(runtime, job.id)
    expected = b"meadhall"
    for _ in range(20_000):
        expected = hashlib.sha256(expected).digest()
    assert done.status == "succeeded"
    assert done.progress_message == expected.hex()


async def test_running_job_is_cancelled_when_its_handler_stops(
    runtime: Runtime, worker: WorkerFactory
) -> None:
    from meadhall.platform.jobs.service import cancel_job

    job = await enqueue_job(runtime, kind="test.sleep", payload={"seconds": 20, "steps": 40})
    async with worker():
        await wait_for(runtime, job.id, "running")
        async with runtime.db.transaction() as session:
            requested = await cancel_job(session, job_id=job.id, user_id=None, is_admin=True)
        assert requested.status == "running" and requested.cancel_requested_at is not None
        cancelled = await wait_for(runtime, job.id, "cancelled", within=10)
    assert cancelled.finished_at is not None
    assert [a.outcome for a in await load_attempts(runtime, job.id)] == ["cancelled"]
    assert "done 1" not in kinds.RUNS[str(job.id)]


async def test_stopping_a_worker_requeues_its_running_job(
    runtime: Runtime, worker: WorkerFactory, monkeypatch: object
) -> None:
    from meadhall.platform.jobs import worker as worker_module

    monkeypatch.setattr(worker_module, "SHUTDOWN_GRACE_SECONDS", 0.2)  # type: ignore[attr-defined]
    job = await enqueue_job(runtime, kind="test.sleep", payload={"seconds": 30, "steps": 60})
    async with worker():
        await wait_for(runtime, job.id, "running")
    interrupted = await load_job(runtime, job.id)
    assert interrupted.status == "queued"
    assert [a.outcome for a in await load_attempts(runtime, job.id)] == ["interrupted"]
    async with runtime.db.transaction() as session:
        await session.execute(
            text("UPDATE jobs SET payload = '{\"seconds\": 0.1}' WHERE id = :id"), {"id": job.id}
        )
    async with worker():
        done = await wait_for(runtime, job.id, "succeeded")
    assert done.attempts == 2
    assert [a.outcome for a in await load_attempts(runtime, job.id)] == [
        "interrupted",
        "succeeded",
    ]


async def test_sweep_repairs_a_running_job_whose_delivery_was_lost(
    runtime: Runtime, worker: WorkerFactory
) -> None:
    job = await enqueue_job(runtime, kind="test.sleep", payload={"seconds": 0.1})
    # What a crash between two writes can leave: the job says running, its delivery is done.
    async with runtime.db.transaction() as session:
        await session.execute(
            text("UPDATE jobs SET status = 'running', attempts = 1 WHERE id = :id"),
            {"id": job.id},
        )
        await session.execute(
            text("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = :id"),
            {"id": job.procrastinate_job_id},
        )
    async with worker():
        done = await wait_for(runtime, job.id, "succeeded")
    assert done.attempts == 2
    assert done.procrastinate_job_id != job.procrastinate_job_id


async def test_stale_delivery_does_nothing(runtime: Runtime, worker: WorkerFactory) -> None:
    from meadhall.platform.jobs import repository

    job = await enqueue_job(runtime, kind="test.sleep", payload={"seconds": 0.1})
    # A second delivery for the same job (e.g. left over from an old retry) must not run it.
    async with runtime.db.transaction() as session:
        await repository.defer_delivery(session, job_id=job.id, queue="default", priority=5)
    async with worker(concurrency=1):
        await wait_for(runtime, job.id)
        await asyncio.sleep(0.3)
    assert kinds.RUNS[str(job.id)] == ["start 1", "done 1"]
