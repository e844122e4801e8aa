"""SQL for jobs: our tables, and the few Procrastinate functions we call in our transactions.

Procrastinate's SQL functions are called through the caller's session, so a delivery is
created, retried or cancelled in the same transaction as the ``jobs`` row it serves.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.platform.jobs.models import Job, JobAttempt, JobStatus

# The one Procrastinate task: "run the jobs row with this id".
RUN_JOB_TASK = "meadhall.run_job"
# Queues a periodic kind on its cron schedule.
PERIODIC_TASK = "meadhall.enqueue_periodic"

_DEFER = text(
    "SELECT (procrastinate_defer_jobs_v1(ARRAY[ROW("
    ":queue, :task, :priority, NULL, NULL, CAST(:args AS jsonb), "
    "CAST(:scheduled_at AS timestamptz)"
    ")::procrastinate_job_to_defer_v1]))[1]"
)


async def insert_job(session: AsyncSession, values: dict[str, Any]) -> Job | None:
    """Insert a job; ``None`` when a pending job with the same dedup key already exists.

    ``ON CONFLICT`` on the partial unique index makes concurrent identical enqueues safe:
    the second waits for the first transaction, then sees the conflict.
    """
    statement = (
        insert(Job)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[Job.dedup_key],
            index_where=text("status IN ('queued', 'running') AND dedup_key IS NOT NULL"),
        )
        .returning(Job)
    )
    result = await session.scalars(statement, execution_options={"populate_existing": True})
    return result.one_or_none()


async def pending_job_with_dedup_key(session: AsyncSession, dedup_key: str) -> Job | None:
    statement = select(Job).where(
        Job.dedup_key == dedup_key,
        Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
    )
    return (await session.scalars(statement)).one_or_none()


async def defer_delivery(
    session: AsyncSession,
    *,
    job_id: uuid.UUID,
    queue: str,
    priority: int,
    scheduled_at: datetime | None = None,
) -> int:
    """Queue a Procrastinate job that will run ``job_id``; return its id."""
    delivery_id = await session.scalar(
        _DEFER,
        {
            "queue": queue,
            "task": RUN_JOB_TASK,
            "priority": priority,
            "args": json.dumps({"job_id": str(job_id)}),
            "scheduled_at": scheduled_at,
        },
    )
    if delivery_id is None:
        raise RuntimeError("the job queue did not accept the job")
    return int(delivery_id)


async def cancel_delivery(session: AsyncSession, delivery_id: int, *, abort: bool) -> bool:
    """Cancel a waiting delivery, or (``abort``) ask the worker running it to stop."""
    result = await session.scalar(
        text("SELECT procrastinate_cancel_job_v1(:id, :abort, false)"),
        {"id": delivery_id, "abort": abort},
    )
    return result is not None


async def lock_delivery(session: AsyncSession, delivery_id: int) -> str | None:
    """Lock a Procrastinate job row and return its status (``None`` when it is gone)."""
    status = await session.scalar(
        text("SELECT status::text FROM procrastinate_jobs WHERE id = :id FOR UPDATE"),
        {"id": delivery_id},
    )
    return None if status is None else str(status)


async def retry_delivery_now(session: AsyncSession, delivery_id: int) -> None:
    """Put a delivery stuck in ``doing`` back to ``todo`` (its worker is gone)."""
    await session.execute(
        text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)"),
        {"id": delivery_id},
    )


async def finish_delivery(session: AsyncSession, delivery_id: int, status: str) -> None:
    """Close a delivery stuck in ``doing`` without running it again."""
    await session.execute(
        text(
            "SELECT procrastinate_finish_job_v1(:id, "
            "CAST(:status AS procrastinate_job_status), false)"
        ),
        {"id": delivery_id, "status": status},
    )


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> Job | None:
    return await session.get(Job, job_id, populate_existing=True)


async def lock_job(
    session: AsyncSession, job_id: uuid.UUID, *, skip_locked: bool = False
) -> Job | None:
    """Load a job and lock its row until the transaction ends."""
    statement = (
        select(Job)
        .where(Job.id == job_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def list_jobs(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID | None,
    status: str | None,
    kind: str | None,
    queue: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Job], int]:
    """A page of jobs, newest first, and how many match in total."""
    conditions = []
    if owner_id is not None:
        conditions.append(Job.owner_id == owner_id)
    if status is not None:
        conditions.append(Job.status == status)
    if kind is not None:
        conditions.append(Job.kind == kind)
    if queue is not None:
        conditions.append(Job.queue == queue)
    total = await session.scalar(select(func.count()).select_from(Job).where(*conditions))
    statement = (
        select(Job)
        .where(*conditions)
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = (await session.scalars(statement)).all()
    return items, int(total or 0)


async def attempts_of(session: AsyncSession, job_id: uuid.UUID) -> Sequence[JobAttempt]:
    statement = (
        select(JobAttempt)
        .where(JobAttempt.job_id == job_id)
        .order_by(JobAttempt.number)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).all()


async def latest_attempt(session: AsyncSession, job_id: uuid.UUID) -> JobAttempt | None:
    statement = (
        select(JobAttempt)
        .where(JobAttempt.job_id == job_id)
        .order_by(JobAttempt.number.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def jobs_with_lost_delivery(session: AsyncSession, *, limit: int = 100) -> list[uuid.UUID]:
    """Pending jobs whose delivery no longer matches their state.

    A running job needs a delivery in ``doing``; a queued one a delivery in ``todo`` (or
    ``doing`` for the instant between a worker taking it and marking the job running).
    Normal operation never leaves either mismatch behind; a crash or a lost connection can.
    """
    rows = await session.scalars(
        text(
            "SELECT j.id FROM jobs j "
            "LEFT JOIN procrastinate_jobs p ON p.id = j.procrastinate_job_id "
            "WHERE (j.status = 'running' AND (p.id IS NULL OR p.status <> 'doing')) "
            "   OR (j.status = 'queued' AND (p.id IS NULL OR p.status NOT IN ('todo', 'doing'))) "
            "LIMIT :limit"
        ),
        {"limit": limit},
    )
    return [uuid.UUID(str(row)) for row in rows]


async def delete_finished_before(
    session: AsyncSession, *, days: int, periodic_kinds: Sequence[str], periodic_days: int
) -> int:
    """Delete finished jobs older than ``days`` (successful periodic runs after fewer)."""
    result = await session.execute(
        text(
            "DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled') AND ("
            "  finished_at < now() - make_interval(days => :days)"
            "  OR (status = 'succeeded' AND kind = ANY(:periodic)"
            "      AND finished_at < now() - make_interval(days => :periodic_days)))"
        ),
        {"days": days, "periodic": list(periodic_kinds), "periodic_days": periodic_days},
    )
    # Their deliveries are finished too; Procrastinate keeps them only for its own history.
    await session.execute(
        text(
            "DELETE FROM procrastinate_jobs WHERE status IN "
            "('succeeded', 'failed', 'cancelled', 'aborted') AND id IN ("
            "  SELECT job_id FROM procrastinate_events GROUP BY job_id"
            "  HAVING max(at) < now() - make_interval(days => :days))"
        ),
        {"days": days},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def set_progress(
    session: AsyncSession, job_id: uuid.UUID, fraction: float, message: str | None
) -> Job | None:
    """Record a running job's progress; ``None`` when it is no longer running."""
    job: Job | None = (
        await session.scalars(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
            .values(progress=fraction, progress_message=message)
            .returning(Job),
            execution_options={"populate_existing": True},
        )
    ).one_or_none()
    return job


async def count_live_workers(session: AsyncSession, stalled_seconds: float) -> int:
    """Workers whose last heartbeat is more recent than ``stalled_seconds``."""
    count = await session.scalar(
        text(
            "SELECT count(*) FROM procrastinate_workers "
            "WHERE last_heartbeat > now() - make_interval(secs => :secs)"
        ),
        {"secs": stalled_seconds},
    )
    return int(count or 0)


async def count_jobs_by_status(session: AsyncSession) -> list[tuple[str, int]]:
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    return [(str(status), int(count)) for status, count in rows.all()]
