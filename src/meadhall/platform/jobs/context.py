"""What a job handler receives: the runtime, who the job is for, and a way to report progress.

Handlers run on the worker's event loop, which in ``meadhall serve`` is also the API's loop.
Anything CPU-heavy or blocking (image decoding, hashing, ML) must go through
:meth:`JobContext.run_in_thread` so requests keep being answered while the job runs.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.platform.jobs import repository
from meadhall.platform.jobs.events import publish_job

if TYPE_CHECKING:
    from meadhall.platform.runtime import Runtime

P = ParamSpec("P")
T = TypeVar("T")

# Progress is written (and published) at most this often; the last value always lands.
PROGRESS_INTERVAL_SECONDS = 0.25
MAX_PROGRESS_MESSAGE = 500


class JobContext:
    """The running job as its handler sees it."""

    def __init__(
        self,
        *,
        runtime: Runtime,
        job_id: uuid.UUID,
        kind: str,
        owner_id: uuid.UUID | None,
        attempt: int,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.runtime = runtime
        self.job_id = job_id
        self.kind = kind
        self.owner_id = owner_id
        # 1 on the first run; counts every run over the job's life, retries included.
        self.attempt = attempt
        self._should_stop = should_stop or (lambda: False)
        self._last_write = 0.0
        self._pending: tuple[float, str | None] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends (and publishes what it queued)."""
        async with self.runtime.db.transaction() as session:
            yield session

    def should_stop(self) -> bool:
        """True once someone asked to cancel the job or the worker is shutting down.

        Async handlers are cancelled at their next ``await`` anyway; code running in a thread
        should check this between steps and return early.
        """
        return self._should_stop()

    async def run_in_thread(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking or CPU-heavy ``fn`` in a thread so the event loop stays responsive."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def progress(self, fraction: float, message: str | None = None) -> None:
        """Record how far the job is (0..1) with an optional message, and tell listeners.

        Calls closer together than a quarter of a second are coalesced; the last one is
        written as soon as the interval has passed, or when the job finishes.
        """
        fraction = min(max(float(fraction), 0.0), 1.0)
        if message is not None:
            message = message[:MAX_PROGRESS_MESSAGE]
        now = time.monotonic()
        if now - self._last_write < PROGRESS_INTERVAL_SECONDS and fraction < 1.0:
            self._pending = (fraction, message)
            return
        await self._write(fraction, message)

    async def flush_progress(self) -> None:
        """Write a progress report that was held back by the rate limit."""
        if self._pending is not None:
            fraction, message = self._pending
            await self._write(fraction, message)

    async def _write(self, fraction: float, message: str | None) -> None:
        self._pending = None
        self._last_write = time.monotonic()
        async with self.runtime.db.transaction() as session:
            job = await repository.set_progress(session, self.job_id, fraction, message)
            if job is not None:
                publish_job(session, self.runtime.bus, job)
