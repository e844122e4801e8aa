"""Job rules: enqueue in the caller's transaction, list, cancel and retry.

Every function takes the caller's session and only flushes; the caller commits. Changes are
announced as ``job.updated`` events on ``jobs:<owner>`` and ``jobs`` once that commit happens.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.platform.db.base import new_id
from meadhall.platform.errors import NotAllowed
from meadhall.platform.events.bus import EventBus, session_bus
from meadhall.platform.jobs import repository
from meadhall.platform.jobs.errors import JobNotFound, JobStateConflict, UnknownJobKind
from meadhall.platform.jobs.events import publish_job
from meadhall.platform.jobs.models import Job, JobAttempt, JobStatus
from meadhall.platform.jobs.registry import _NAME, get_kind

logger = logging.getLogger("meadhall.jobs")

MAX_DEDUP_KEY = 200


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    owner_id: uuid.UUID | None = None,
    queue: str | None = None,
    priority: int | None = None,
    dedup_key: str | None = None,
) -> Job:
    """Queue a job of ``kind`` in the caller's transaction and return its row.

    Nothing runs before the caller commits, and a rollback leaves no trace in either the
    ``jobs`` table or the queue. With ``dedup_key``, a queued or running job with the same key
    is returned instead of a new one.
    """
    job_kind = get_kind(kind)
    if job_kind is None:
        raise UnknownJobKind(f"no job kind {kind!r} is registered")
    queue = queue or job_kind.queue
    if not _NAME.fullmatch(queue):
        raise ValueError(f"{queue!r} is not a valid queue name")
    if dedup_key is not None and not 0 < len(dedup_key) <= MAX_DEDUP_KEY:
        raise ValueError(f"dedup_key must be 1 to {MAX_DEDUP_KEY} characters long")
    priority = job_kind.priority if priority is None else priority

    # A matching job may finish between our conflicting insert and our lookup: try again.
    for _ in range(5):
        job = await repository.insert_job(
            session,
            {
                "id": new_id(),
                "kind": kind,
                "queue": queue,
                "status": JobStatus.QUEUED,
                "priority": priority,
                "payload": payload,
                "owner_id": owner_id,
                "attempts": 0,
                "max_attempts": job_kind.max_attempts,
                "progress": 0.0,
                "dedup_key": dedup_key,
            },
        )
        if job is not None:
            job.procrastinate_job_id = await repository.defer_delivery(
                session, job_id=job.id, queue=queue, priority=priority
            )
            await session.flush()
            publish_job(session, session_bus(session), job)
            return job
        assert dedup_key is not None
        existing = await repository.pending_job_with_dedup_key(session, dedup_key)
        if existing is not None:
            return existing
    raise JobStateConflict(f"could not queue job {kind!r}: its dedup key keeps changing hands")


def _visible(job: Job | None, *, user_id: uuid.UUID, is_admin: bool) -> Job:
    # Someone else's job is reported exactly like a missing one.
    if job is None or (not is_admin and job.owner_id != user_id):
        raise JobNotFound("no such job")
    return job


async def list_jobs(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    is_admin: bool,
    owner_id: uuid.UUID | None = None,
    status: JobStatus | None = None,
    kind: str | None = None,
    queue: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Job], int]:
    """Jobs the caller may see, newest first: their own, or (admin) anyone's."""
    if not is_admin:
        if owner_id is not None and owner_id != user_id:
            raise NotAllowed("only an admin may list other people's jobs")
        owner_id = user_id
    return await repository.list_jobs(
        session,
        owner_id=owner_id,
        status=None if status is None else status.value,
        kind=kind,
        queue=queue,
        limit=limit,
        offset=offset,
    )


async def get_job(
    session: AsyncSession, *, job_id: uuid.UUID, user_id: uuid.UUID, is_admin: bool
) -> tuple[Job, Sequence[JobAttempt]]:
    """One job the caller may see, with its attempts (oldest first)."""
    job = _visible(await repository.get_job(session, job_id), user_id=user_id, is_admin=is_admin)
    return job, await repository.attempts_of(session, job.id)


async def cancel_job(
    session: AsyncSession,
    *,
    job_id: uuid.UUID,
    user_id: uuid.UUID | None,
    is_admin: bool,
    bus: EventBus | None = None,
) -> Job:
    """Cancel a queued job at once; ask a running one to stop (it ends as cancelled).

    ``user_id=None`` with ``is_admin=True`` is the command line acting for the operator.
    """
    job = await repository.lock_job(session, job_id)
    job = _visible(job, user_id=user_id or uuid.UUID(int=0), is_admin=is_admin)
    if job.status == JobStatus.QUEUED:
        if job.procrastinate_job_id is not None:
            await repository.cancel_delivery(session, job.procrastinate_job_id, abort=False)
        now = datetime.now(UTC)
        job.status = JobStatus.CANCELLED
        job.cancel_requested_at = now
        job.finished_at = now
        job.scheduled_at = None
    elif job.status == JobStatus.RUNNING:
        if job.cancel_requested_at is None:
            job.cancel_requested_at = datetime.now(UTC)
            if job.procrastinate_job_id is not None:
                await repository.cancel_delivery(session, job.procrastinate_job_id, abort=True)
    else:
        raise JobStateConflict(f"the job has already {job.status} and cannot be cancelled")
    await session.flush()
    publish_job(session, bus or session_bus(session), job)
    return job


async def retry_job(
    session: AsyncSession,
    *,
    job_id: uuid.UUID,
    user_id: uuid.UUID | None,
    is_admin: bool,
    bus: EventBus | None = None,
) -> Job:
    """Queue a failed or cancelled job again with a fresh attempts budget."""
    job = await repository.lock_job(session, job_id)
    job = _visible(job, user_id=user_id or uuid.UUID(int=0), is_admin=is_admin)
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise JobStateConflict(
            f"only failed or cancelled jobs can be retried; this one is {job.status}"
        )
    kind = get_kind(job.kind)
    if kind is not None:
        # The kind's current limit applies; it may have changed since the job was queued.
        job.max_attempts = kind.max_attempts
    job.status = JobStatus.QUEUED
    job.attempts = 0
    job.progress = 0.0
    job.progress_message = None
    job.cancel_requested_at = None
    job.scheduled_at = None
    job.started_at = None
    job.finished_at = None
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise JobStateConflict(
            "an identical job (same dedup key) is already queued or running"
        ) from None
    job.procrastinate_job_id = await repository.defer_delivery(
        session, job_id=job.id, queue=job.queue, priority=job.priority
    )
    await session.flush()
    publish_job(session, bus or session_bus(session), job)
    return job
