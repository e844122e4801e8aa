"""``/api/jobs``: the job list, one job with its attempts, cancel and retry.

People see their own jobs; admins see everyone's. Someone else's job answers 404, exactly
like a job that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Query

from meadhall.platform.accounts.deps import CurrentUser
from meadhall.platform.deps import DbSession, RuntimeDep
from meadhall.platform.errors import NotAllowed, NotAuthenticated, error_responses
from meadhall.platform.jobs import service
from meadhall.platform.jobs.errors import JobNotFound, JobStateConflict
from meadhall.platform.jobs.models import Job, JobAttempt, JobStatus
from meadhall.platform.jobs.schemas import JobAttemptRead, JobDetail, JobPage, JobRead

router = APIRouter(prefix="/jobs", tags=["jobs"])

NAME_PATTERN = r"^[a-z][a-z0-9_.-]*$"
JobId = Annotated[uuid.UUID, Path(description="The job's id.")]


def _detail(job: Job, attempts: Sequence[JobAttempt]) -> JobDetail:
    base = JobRead.model_validate(job).model_dump()
    history = [JobAttemptRead.model_validate(attempt) for attempt in attempts]
    return JobDetail(**base, attempts_history=history)


@router.get(
    "",
    operation_id="list_jobs",
    response_model=JobPage,
    responses=error_responses(NotAuthenticated, NotAllowed),
)
async def list_jobs(
    principal: CurrentUser,
    session: DbSession,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this state.")] = None,
    kind: Annotated[
        str | None, Query(max_length=100, pattern=NAME_PATTERN, description="Only this kind.")
    ] = None,
    queue: Annotated[
        str | None, Query(max_length=100, pattern=NAME_PATTERN, description="Only this queue.")
    ] = None,
    owner_id: Annotated[
        uuid.UUID | None, Query(description="Only this owner's jobs (admins only).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> JobPage:
    """Jobs the caller may see, newest first."""
    items, total = await service.list_jobs(
        session,
        user_id=principal.user_id,
        is_admin=principal.is_admin,
        owner_id=owner_id,
        status=status,
        kind=kind,
        queue=queue,
        limit=limit,
        offset=offset,
    )
    return JobPage(
        items=[JobRead.model_validate(job) for job in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{job_id}",
    operation_id="get_job",
    response_model=JobDetail,
    responses=error_responses(NotAuthenticated, JobNotFound),
)
async def get_job(principal: CurrentUser, session: DbSession, job_id: JobId) -> JobDetail:
    """One job, with the history of its attempts (oldest first)."""
    job, attempts = await service.get_job(
        session, job_id=job_id, user_id=principal.user_id, is_admin=principal.is_admin
    )
    return _detail(job, attempts)


@router.post(
    "/{job_id}/cancel",
    operation_id="cancel_job",
    response_model=JobRead,
    responses=error_responses(NotAuthenticated, NotAllowed, JobNotFound, JobStateConflict),
)
async def cancel_job(
    principal: CurrentUser, session: DbSession, runtime: RuntimeDep, job_id: JobId
) -> JobRead:
    """Cancel a queued job now; a running one is asked to stop and ends as cancelled."""
    job = await service.cancel_job(
        session,
        job_id=job_id,
        user_id=principal.user_id,
        is_admin=principal.is_admin,
        bus=runtime.bus,
    )
    return JobRead.model_validate(job)


@router.post(
    "/{job_id}/retry",
    operation_id="retry_job",
    response_model=JobRead,
    responses=error_responses(NotAuthenticated, NotAllowed, JobNotFound, JobStateConflict),
)
async def retry_job(
    principal: CurrentUser, session: DbSession, runtime: RuntimeDep, job_id: JobId
) -> JobRead:
    """Queue a failed or cancelled job again, with a fresh attempts budget."""
    job = await service.retry_job(
        session,
        job_id=job_id,
        user_id=principal.user_id,
        is_admin=principal.is_admin,
        bus=runtime.bus,
    )
    return JobRead.model_validate(job)
