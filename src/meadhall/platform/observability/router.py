"""``/health`` with the status of each dependency, and ``/metrics`` for Prometheus."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from meadhall import __version__
from meadhall.platform.deps import RuntimeDep
from meadhall.platform.jobs import repository as jobs_repository
from meadhall.platform.observability.metrics import JOB_WORKERS, JOBS, REGISTRY

router = APIRouter(tags=["observability"])

CHECK_TIMEOUT_SECONDS = 3.0


class DependencyStatus(BaseModel):
    status: Literal["ok", "error", "disabled"]
    detail: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: DependencyStatus
    job_workers: DependencyStatus
    redis: DependencyStatus


async def _live_workers(runtime: RuntimeDep) -> int:
    async with runtime.db.sessionmaker() as session:
        return await jobs_repository.count_live_workers(
            session, runtime.settings.worker_stalled_seconds
        )


@router.get("/health", response_model=Health, operation_id="health")
async def health(runtime: RuntimeDep) -> JSONResponse:
    """Whether the server and what it depends on are working (503 when one is not)."""
    try:
        await asyncio.wait_for(runtime.db.ping(), CHECK_TIMEOUT_SECONDS)
        database = DependencyStatus(status="ok")
    except Exception as exc:
        database = DependencyStatus(status="error", detail=type(exc).__name__)

    if database.status == "ok":
        try:
            live = await asyncio.wait_for(_live_workers(runtime), CHECK_TIMEOUT_SECONDS)
            workers = DependencyStatus(
                status="ok" if live else "error",
                detail=f"{live} worker(s) alive"
                if live
                else "no job worker has a recent heartbeat",
            )
        except Exception as exc:
            workers = DependencyStatus(status="error", detail=type(exc).__name__)
    else:
        workers = DependencyStatus(status="error", detail="database unreachable")

    if runtime.settings.redis_url is None:
        redis = DependencyStatus(status="disabled")
    else:
        try:
            await asyncio.wait_for(runtime.bus.ping(), CHECK_TIMEOUT_SECONDS)
            redis = DependencyStatus(status="ok")
        except Exception as exc:
            redis = DependencyStatus(status="error", detail=type(exc).__name__)

    healthy = database.status == "ok" and redis.status != "error"
    body = Health(
        status="ok" if healthy and workers.status == "ok" else "degraded",
        version=__version__,
        database=database,
        job_workers=workers,
        redis=redis,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if healthy else 503)


@router.get("/metrics", operation_id="metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text exposition of this process's metrics plus job counts."""
    try:
        async with runtime.db.sessionmaker() as session:
            rows = await jobs_repository.count_jobs_by_status(session)
        JOBS.clear()
        for status, count in rows:
            JOBS.labels(status).set(count)
        JOB_WORKERS.set(await _live_workers(runtime))
    except Exception:  # noqa: S110 - metrics still answer when the database is down
        pass
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
