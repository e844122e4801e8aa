"""How jobs look through the API and in ``job.updated`` events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from meadhall.platform.jobs.models import AttemptOutcome, JobStatus


class JobRead(BaseModel):
    """A job as the job list shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    queue: str
    status: JobStatus
    priority: int
    payload: dict[str, Any]
    owner_id: uuid.UUID | None
    attempts: int
    max_attempts: int
    progress: float = Field(ge=0, le=1)
    progress_message: str | None
    last_error: str | None = Field(description="The full traceback of the last failure.")
    dedup_key: str | None
    cancel_requested_at: datetime | None
    scheduled_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


class JobAttemptRead(BaseModel):
    """One run of a job on one worker."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    outcome: AttemptOutcome | None = Field(description="Null while the attempt runs.")
    error: str | None


class JobDetail(JobRead):
    """A job with the history of its attempts, oldest first."""

    attempts_history: list[JobAttemptRead]


class JobPage(BaseModel):
    """One page of the job list, newest first."""

    items: list[JobRead]
    total: int
    limit: int
    offset: int
