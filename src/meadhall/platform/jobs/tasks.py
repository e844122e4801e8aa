"""The jobs system's own periodic work: retry jobs of dead workers, prune old jobs."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from meadhall.platform.jobs import repository
from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.events import publish_job
from meadhall.platform.jobs.models import AttemptOutcome, JobStatus
from meadhall.platform.jobs.registry import job_kind, periodic_kinds
from meadhall.platform.jobs.runner import close_open_attempt, finish, requeue

if TYPE_CHECKING:
    from procrastinate import App

    from meadhall.platform.runtime import Runtime

logger = logging.getLogger("meadhall.jobs")

PROCRASTINATE_APP = "procrastinate"
# Finished jobs stay visible this long.
KEEP_FINISHED_DAYS = 30
# Successful runs of periodic kinds say little; they go sooner.
KEEP_PERIODIC_SUCCESS_DAYS = 1


@dataclass(frozen=True)
class SweepReport:
    retried: int
    reconciled: int


def _procrastinate(runtime: Runtime) -> App:
    app: App | None = runtime.extras.get(PROCRASTINATE_APP)
    if app is None:
        raise RuntimeError("the stalled-job sweep runs only in a process with a job worker")
    return app


async def _recover_stalled_delivery(runtime: Runtime, delivery: Any) -> bool:
    """Hand a delivery whose worker stopped heartbeating to another worker."""
    interrupted = "the worker running this attempt stopped sending heartbeats"
    async with runtime.db.transaction() as session:
        status = await repository.lock_delivery(session, delivery.id)
        if status != "doing":
            return False  # Someone else recovered it, or the worker finished after all.
        job_id = delivery.task_kwargs.get("job_id") if delivery.task_kwargs else None
        job = None
        if isinstance(job_id, str):
            try:
                job = await repository.lock_job(session, uuid.UUID(job_id))
            except ValueError:
                job = None
        if job is None or job.procrastinate_job_id != delivery.id:
            # Not (or no longer) the delivery of a job: running it again is harmless.
            await repository.retry_delivery_now(session, delivery.id)
            return True
        await close_open_attempt(session, job, AttemptOutcome.INTERRUPTED, interrupted)
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            if job.cancel_requested_at is not None:
                finish(job, JobStatus.CANCELLED)
                await repository.finish_delivery(session, delivery.id, "aborted")
            elif job.attempts >= job.max_attempts:
                job.last_error = interrupted
                finish(job, JobStatus.FAILED)
                await repository.finish_delivery(session, delivery.id, "failed")
            else:
                job.status = JobStatus.QUEUED
                await repository.retry_delivery_now(session, delivery.id)
        else:
            await repository.finish_delivery(session, delivery.id, "aborted")
        await session.flush()
        publish_job(session, runtime.bus, job)
    logger.warning(
        "job of a dead worker handed on",
        extra={"job_id": str(job.id), "delivery": delivery.id, "status": job.status},
    )
    return True


async def _reconcile(runtime: Runtime, job_id: uuid.UUID) -> bool:
    """Repair a pending job whose delivery was lost (crash between two writes)."""
    async with runtime.db.transaction() as session:
        job = await repository.lock_job(session, job_id, skip_locked=True)
        if job is None or job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return False
        status = (
            None
            if job.procrastinate_job_id is None
            else await repository.lock_delivery(session, job.procrastinate_job_id)
        )
        if job.status == JobStatus.RUNNING and status == "doing":
            return False
        if job.status == JobStatus.QUEUED and status in ("todo", "doing"):
            return False
        if job.status == JobStatus.RUNNING:
            await close_open_attempt(
                session, job, AttemptOutcome.INTERRUPTED, "the worker lost track of this attempt"
            )
        if job.cancel_requested_at is not None:
            finish(job, JobStatus.CANCELLED)
        elif status == "todo":
            job.status = JobStatus.QUEUED
        elif job.attempts >= job.max_attempts:
            job.last_error = job.last_error or "the worker lost track of the last attempt"
            finish(job, JobStatus.FAILED)
        else:
            await requeue(session, job)
        await session.flush()
        publish_job(session, runtime.bus, job)
    logger.warning("job with a lost delivery repaired", extra={"job_id": str(job_id)})
    return True


async def has_stalled_work(runtime: Runtime) -> bool:
    """Cheap check used by every worker between sweeps."""
    app = _procrastinate(runtime)
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=runtime.settings.worker_stalled_seconds
    )
    if list(stalled):
        return True
    async with runtime.db.sessionmaker() as session:
        return bool(await repository.jobs_with_lost_delivery(session, limit=1))


async def sweep_stalled(runtime: Runtime) -> SweepReport:
    """Retry the jobs of workers that stopped heartbeating; repair lost deliveries.

    Safe to run from several workers at once: every repair re-checks under a row lock.
    Handlers are idempotent, so running an interrupted job again completes it once in effect.
    """
    app = _procrastinate(runtime)
    seconds = runtime.settings.worker_stalled_seconds
    retried = 0
    for delivery in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
        if await _recover_stalled_delivery(runtime, delivery):
            retried += 1
    await app.job_manager.prune_stalled_workers(seconds)
    reconciled = 0
    async with runtime.db.sessionmaker() as session:
        lost = await repository.jobs_with_lost_delivery(session)
    for job_id in lost:
        if await _reconcile(runtime, job_id):
            reconciled += 1
    if retried or reconciled:
        logger.info("stalled jobs swept", extra={"retried": retried, "reconciled": reconciled})
    return SweepReport(retried=retried, reconciled=reconciled)


@job_kind("jobs.sweep_stalled", cron="* * * * *", max_attempts=1, priority=10)
async def sweep_stalled_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Every minute: hand jobs of dead workers to live ones."""
    report = await sweep_stalled(ctx.runtime)
    await ctx.progress(1.0, f"{report.retried} retried, {report.reconciled} repaired")


@job_kind("jobs.prune", cron="17 4 * * *", max_attempts=3)
async def prune_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Daily: delete finished jobs older than 30 days (successful periodic runs after 1)."""
    async with ctx.transaction() as session:
        deleted = await repository.delete_finished_before(
            session,
            days=KEEP_FINISHED_DAYS,
            periodic_kinds=[kind.name for kind in periodic_kinds()],
            periodic_days=KEEP_PERIODIC_SUCCESS_DAYS,
        )
    await ctx.progress(1.0, f"{deleted} finished jobs deleted")
