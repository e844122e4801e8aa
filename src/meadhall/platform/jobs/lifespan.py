"""Jobs during the server's life: every kind registered, and workers when configured."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from meadhall.platform.jobs.worker import import_kinds, running_worker
from meadhall.platform.runtime import Runtime

logger = logging.getLogger("meadhall.jobs")


@asynccontextmanager
async def jobs_lifespan(runtime: Runtime) -> AsyncIterator[None]:
    """Know the extra job kinds; run a worker inside the server when ``workers_in_process``."""
    import_kinds(runtime.settings.job_modules or ())
    if not runtime.settings.workers_in_process:
        yield
        return
    async with running_worker(runtime, name="in-process"):
        yield
