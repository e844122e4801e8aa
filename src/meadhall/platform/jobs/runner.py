"""Running one delivery of a job: start an attempt, call the handler, record the outcome.

The ``jobs`` row is the truth. A delivery whose id is not the row's current
``procrastinate_job_id`` is stale and does nothing; an attempt whose number is no longer the
job's latest (the sweep gave it up for dead) cannot overwrite the job's state.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.platform.jobs import repository
from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.events import publish_job
from meadhall.platform.jobs.models import (
    FINISHED_STATUSES,
    AttemptOutcome,
    Job,
    JobAttempt,
    JobStatus,
)
from meadhall.platform.jobs.registry import backoff_delay, get_kind

if TYPE_CHECKING:
    from meadhall.platform.runtime import Runtime

logger = logging.getLogger("meadhall.jobs")

WORKER_IDENTITY = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class StartedAttempt:
    job_id: uuid.UUID
    kind: str
    owner_id: uuid.UUID | None
    payload: dict[str, Any]
    number: int


def _now() -> datetime:
    return datetime.now(UTC)


async def close_open_attempt(
    session: AsyncSession, job: Job, outcome: AttemptOutcome, error: str | None
) -> JobAttempt | None:
    """Give the job's unfinished attempt (if any) its outcome."""
    attempt = await repository.latest_attempt(session, job.id)
    if attempt is None or attempt.outcome is not None:
        return None
    attempt.outcome = outcome
    attempt.finished_at = _now()
    attempt.error = error
    return attempt


async def requeue(session: AsyncSession, job: Job, *, delay_seconds: float = 0.0) -> None:
    """Put the job back in the queue with a new delivery, ``delay_seconds`` from now."""
    scheduled_at = _now() + timedelta(seconds=delay_seconds) if delay_seconds > 0 else None
    job.status = JobStatus.QUEUED
    job.scheduled_at = scheduled_at
    job.procrastinate_job_id = await repository.defer_delivery(
        session,
        job_id=job.id,
        queue=job.queue,
        priority=job.priority,
        scheduled_at=scheduled_at,
    )


def finish(job: Job, status: JobStatus) -> None:
    job.status = status
    job.finished_at = _now()
    job.scheduled_at = None
    if status == JobStatus.SUCCEEDED:
        job.progress = 1.0


async def _start(runtime: Runtime, job_id: uuid.UUID, delivery_id: int) -> StartedAttempt | None:
    async with runtime.db.transaction() as session:
        job = await repository.lock_job(session, job_id)
        if job is None:
            logger.info("job no longer exists; delivery dropped", extra={"job_id": str(job_id)})
            return None
        if job.procrastinate_job_id != delivery_id or job.status in FINISHED_STATUSES:
            logger.info(
                "stale delivery dropped",
                extra={"job_id": str(job_id), "delivery": delivery_id, "status": job.status},
            )
            return None
        if job.status == JobStatus.RUNNING:
            # The same delivery came back: the worker that had it stopped mid-attempt.
            await close_open_attempt(
                session, job, AttemptOutcome.INTERRUPTED, "the worker stopped during this attempt"
            )
        if job.cancel_requested_at is not None:
            finish(job, JobStatus.CANCELLED)
            await session.flush()
            publish_job(session, runtime.bus, job)
            return None
        if job.attempts >= job.max_attempts:
            job.last_error = job.last_error or "every attempt was interrupted"
            finish(job, JobStatus.FAILED)
            await session.flush()
            publish_job(session, runtime.bus, job)
            return None
        latest = await repository.latest_attempt(session, job.id)
        number = 1 if latest is None else latest.number + 1
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = _now()
        job.finished_at = None
        job.scheduled_at = None
        job.progress = 0.0
        job.progress_message = None
        session.add(JobAttempt(job_id=job.id, number=number, worker=WORKER_IDENTITY))
        await session.flush()
        publish_job(session, runtime.bus, job)
        return StartedAttempt(
            job_id=job.id,
            kind=job.kind,
            owner_id=job.owner_id,
            payload=dict(job.payload),
            number=number,
        )


async def _record(
    runtime: Runtime,
    started: StartedAttempt,
    outcome: AttemptOutcome,
    error: str | None = None,
) -> None:
    async with runtime.db.transaction() as session:
        job = await repository.lock_job(session, started.job_id)
        if job is None:
            return
        latest = await repository.latest_attempt(session, job.id)
        if (
            job.status != JobStatus.RUNNING
            or latest is None
            or latest.number != started.number
            or latest.outcome is not None
        ):
            # The sweep declared this attempt dead and handed the job on; it is not ours.
            logger.warning(
                "attempt finished after it was given up; result discarded",
                extra={"job_id": str(job.id), "attempt": started.number},
            )
            return
        latest.outcome = outcome
        latest.finished_at = _now()
        latest.error = error
        if outcome == AttemptOutcome.SUCCEEDED:
            finish(job, JobStatus.SUCCEEDED)
        elif outcome == AttemptOutcome.CANCELLED:
            finish(job, JobStatus.CANCELLED)
        elif outcome == AttemptOutcome.INTERRUPTED:
            if job.attempts < job.max_attempts:
                await requeue(session, job)
            else:
                job.last_error = error
                finish(job, JobStatus.FAILED)
        else:
            job.last_error = error
            kind = get_kind(job.kind)
            if job.cancel_requested_at is not None:
                finish(job, JobStatus.CANCELLED)
            elif kind is not None and job.attempts < job.max_attempts:
                await requeue(session, job, delay_seconds=backoff_delay(kind, job.attempts))
            else:
                finish(job, JobStatus.FAILED)
        await session.flush()
        publish_job(session, runtime.bus, job)


async def run_delivery(
    runtime: Runtime,
    *,
    job_id: uuid.UUID,
    delivery_id: int,
    cancel_requested: Callable[[], bool],
    stop_requested: Callable[[], bool],
) -> None:
    """Run the job behind one delivery. Handler errors are recorded, never raised.

    ``cancel_requested`` tells a user's cancel from ``stop_requested`` (worker shutdown)
    when the handler is cancelled: the first ends the job, the second re-queues it.
    """
    started = await _start(runtime, job_id, delivery_id)
    if started is None:
        return
    kind = get_kind(started.kind)
    if kind is None:
        await _record(
            runtime,
            started,
            AttemptOutcome.FAILED,
            f"no handler for job kind {started.kind!r} in this worker "
            "(is its tasks module listed in a wing's manifest?)",
        )
        return
    context = JobContext(
        runtime=runtime,
        job_id=started.job_id,
        kind=started.kind,
        owner_id=started.owner_id,
        attempt=started.number,
        should_stop=lambda: cancel_requested() or stop_requested(),
    )
    try:
        await kind.handler(context, started.payload)
    except asyncio.CancelledError:
        if cancel_requested():
            outcome, error = AttemptOutcome.CANCELLED, "cancelled on request"
        else:
            outcome, error = AttemptOutcome.INTERRUPTED, "the worker shut down during this attempt"
        # Shielded: the outcome is stored even if a second cancellation arrives.
        await asyncio.shield(_record(runtime, started, outcome, error))
        raise
    except Exception:
        # The full report: people debugging a failed job see exactly what the worker saw.
        await _record(runtime, started, AttemptOutcome.FAILED, traceback.format_exc())
    else:
        await context.flush_progress()
        await _record(runtime, started, AttemptOutcome.SUCCEEDED)
