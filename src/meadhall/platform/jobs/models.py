"""Job tables: ``jobs`` is what people see, ``job_attempts`` is the history of each run.

Procrastinate's own tables only deliver work: each delivery carries the id of a ``jobs`` row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from meadhall.platform.db.base import Base, new_id


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


PENDING_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class AttemptOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # The worker died or was stopped while the attempt ran.
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"


class Job(Base):
    """One piece of background work, as the UI and the API show it."""

    __tablename__ = "jobs"
    # Server-set timestamps come back with each write (RETURNING), so events and responses
    # never need a lazy load.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(100))
    queue: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    # Higher runs first.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Null for system jobs (periodic sweeps and the like).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    # Attempts used from the current budget; a manual retry resets it.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    progress_message: Mapped[str | None] = mapped_column(String(500), default=None)
    # The full traceback of the last failure.
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # At most one queued or running job per key (see the partial unique index).
    dedup_key: Mapped[str | None] = mapped_column(String(200), default=None)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(default=None)
    # Not before this time (set for retries with backoff).
    scheduled_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    # The procrastinate job currently delivering this one; a delivery of any other is stale.
    procrastinate_job_id: Mapped[int | None] = mapped_column(BigInteger, default=None)

    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="status"
        ),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
        CheckConstraint("max_attempts >= 1", name="max_attempts"),
        Index(
            "uq_jobs_dedup_key_pending",
            "dedup_key",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running') AND dedup_key IS NOT NULL"),
        ),
        # "What is running / queued right now" stays cheap as finished jobs pile up.
        Index(
            "ix_jobs_pending_status",
            "status",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        Index("ix_jobs_status_created_at", "status", "created_at"),
        Index("ix_jobs_owner_id_created_at", "owner_id", "created_at"),
        Index("ix_jobs_kind_created_at", "kind", "created_at"),
        Index("ix_jobs_procrastinate_job_id", "procrastinate_job_id"),
    )


class JobAttempt(Base):
    """One run of a job on one worker."""

    __tablename__ = "job_attempts"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    # 1, 2, 3… over the job's whole life (manual retries continue the count).
    number: Mapped[int] = mapped_column(Integer)
    # host:pid of the worker process.
    worker: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Null while the attempt runs.
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        UniqueConstraint("job_id", "number"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('succeeded', 'failed', 'interrupted', 'cancelled')",
            name="outcome",
        ),
    )
