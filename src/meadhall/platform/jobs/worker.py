"""Job workers: a Procrastinate worker that runs ``jobs`` rows, plus a stall watch.

Procrastinate delivers work (one task, ``meadhall.run_job``, whose argument is a job id) and
heartbeats; everything people see lives in our tables (see :mod:`.runner`). The same code runs
inside ``meadhall serve`` and in ``meadhall worker`` processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING

from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.job_context import AbortReason
from procrastinate.worker import Worker

from meadhall.platform.jobs import repository
from meadhall.platform.jobs.registry import KINDS, periodic_kinds
from meadhall.platform.jobs.runner import run_delivery
from meadhall.platform.jobs.service import enqueue
from meadhall.platform.jobs.tasks import PROCRASTINATE_APP, has_stalled_work, sweep_stalled

if TYPE_CHECKING:
    from meadhall.platform.runtime import Runtime

logger = logging.getLogger("meadhall.jobs")

# Retries wait in the queue with a start time; only polling notices that it has come.
FETCH_POLL_SECONDS = 1.0
# How long a stopping worker lets running jobs finish before interrupting them (they are
# then queued again).
SHUTDOWN_GRACE_SECONDS = 10.0


def import_kinds(extra_modules: Iterable[str] = ()) -> None:
    """Import extra modules that register job kinds (``job_modules``, ``--import``).

    The wings' own kinds are known already: their manifests import their ``tasks`` modules.
    """
    for module in extra_modules:
        importlib.import_module(module)


def build_app(runtime: Runtime, *, pool_size: int) -> App:
    """A Procrastinate app on the runtime's database, knowing our two tasks."""
    connector = PsycopgConnector(conninfo=runtime.db.url, min_size=1, max_size=pool_size)
    app = App(connector=connector)

    @app.task(name=repository.RUN_JOB_TASK, pass_context=True)
    async def run_job(context: JobContext, job_id: str) -> None:
        delivery_id = context.job.id
        assert delivery_id is not None
        await run_delivery(
            runtime,
            job_id=uuid.UUID(job_id),
            delivery_id=delivery_id,
            cancel_requested=lambda: context.abort_reason() == AbortReason.USER_REQUEST,
            stop_requested=lambda: context.abort_reason() == AbortReason.SHUTDOWN,
        )

    @app.task(name=repository.PERIODIC_TASK, pass_context=False)
    async def enqueue_periodic(timestamp: int, kind: str) -> None:
        # The dedup key keeps one pending run per kind, however many workers tick.
        async with runtime.db.transaction() as session:
            await enqueue(session, kind=kind, payload={}, dedup_key=kind)

    for kind in periodic_kinds():
        assert kind.cron is not None
        app.periodic_registry.register_task(
            task=enqueue_periodic,
            cron=kind.cron,
            periodic_id=kind.name,
            configure_kwargs={"task_kwargs": {"kind": kind.name}, "queue": kind.queue},
        )
    return app


async def _stall_watch(runtime: Runtime) -> None:
    """Between the minutely sweeps, notice a dead worker's jobs within a few seconds."""
    interval = max(1.0, runtime.settings.worker_stalled_seconds / 3)
    while True:
        try:
            if await has_stalled_work(runtime):
                await sweep_stalled(runtime)
        except Exception:
            logger.exception("stalled-job watch failed; trying again later")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def _prepared_worker(
    runtime: Runtime,
    *,
    queues: Sequence[str] | None,
    concurrency: int | None,
    install_signal_handlers: bool,
    name: str,
) -> AsyncIterator[Worker]:
    settings = runtime.settings
    concurrency = concurrency or settings.worker_concurrency
    queues = list(queues) if queues else settings.worker_queues
    app = build_app(runtime, pool_size=concurrency + 3)
    await app.open_async()
    runtime.extras[PROCRASTINATE_APP] = app
    worker = Worker(
        app=app,
        queues=queues,
        name=name,
        concurrency=concurrency,
        fetch_job_polling_interval=FETCH_POLL_SECONDS,
        abort_job_polling_interval=max(1.0, settings.worker_heartbeat_seconds),
        shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
        install_signal_handlers=install_signal_handlers,
        update_heartbeat_interval=settings.worker_heartbeat_seconds,
        stalled_worker_timeout=settings.worker_stalled_seconds,
        additional_context={"runtime": runtime},
    )
    watch = asyncio.create_task(_stall_watch(runtime), name="stalled-job watch")
    logger.info(
        "job worker starting",
        extra={"queues": queues or "all", "concurrency": concurrency, "kinds": sorted(KINDS)},
    )
    try:
        yield worker
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        runtime.extras.pop(PROCRASTINATE_APP, None)
        await app.close_async()


@contextlib.asynccontextmanager
async def running_worker(
    runtime: Runtime,
    *,
    queues: Sequence[str] | None = None,
    concurrency: int | None = None,
    name: str = "meadhall",
) -> AsyncIterator[Worker]:
    """Run a worker in the background for the duration of the block; stop it cleanly.

    Jobs still running when the block ends get a few seconds to finish; after that they are
    interrupted and queued again.
    """
    async with _prepared_worker(
        runtime,
        queues=queues,
        concurrency=concurrency,
        install_signal_handlers=False,
        name=name,
    ) as worker:
        run = asyncio.create_task(worker.run(), name="job worker")  # type: ignore[no-untyped-call]
        try:
            yield worker
        finally:
            worker.stop()  # type: ignore[no-untyped-call]
            try:
                await run
            except Exception:
                logger.exception("job worker stopped with an error")


async def run_worker(
    runtime: Runtime,
    *,
    queues: Sequence[str] | None = None,
    concurrency: int | None = None,
    name: str = "meadhall",
) -> None:
    """Run a worker in the foreground until SIGINT or SIGTERM (``meadhall worker``)."""
    async with _prepared_worker(
        runtime,
        queues=queues,
        concurrency=concurrency,
        install_signal_handlers=True,
        name=name,
    ) as worker:
        await worker.run()  # type: ignore[no-untyped-call]
