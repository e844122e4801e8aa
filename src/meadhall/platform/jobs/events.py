"""Announcing job changes: ``job.updated`` on ``jobs:<owner>`` and ``jobs``, after commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.platform.events.bus import EventBus, publish_after_commit
from meadhall.platform.jobs.models import Job
from meadhall.platform.jobs.schemas import JobRead

JOB_UPDATED = "job.updated"
ALL_JOBS_TOPIC = "jobs"


def owner_topic(owner_id: uuid.UUID) -> str:
    return f"jobs:{owner_id}"


def job_representation(job: Job) -> dict[str, Any]:
    """The job as the API shows it (also the data of ``job.updated`` events)."""
    return JobRead.model_validate(job).model_dump(mode="json")


def publish_job(session: AsyncSession, bus: EventBus | None, job: Job) -> None:
    """Announce the job's current state once the session commits."""
    if bus is None:
        return
    data = job_representation(job)
    if job.owner_id is not None:
        publish_after_commit(session, bus, owner_topic(job.owner_id), JOB_UPDATED, data)
    publish_after_commit(session, bus, ALL_JOBS_TOPIC, JOB_UPDATED, data)
