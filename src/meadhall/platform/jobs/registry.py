"""Job kinds: each wing registers its handlers here with :func:`job_kind`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meadhall.platform.jobs.context import JobContext

Handler = Callable[["JobContext", dict[str, Any]], Awaitable[None]]

DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    queue: str
    priority: int
    max_attempts: int
    # Seconds before retry n is base * 2**(n-1), capped.
    backoff_seconds: float
    backoff_cap_seconds: float
    # A cron expression: the kind is also queued on this schedule (deduplicated by kind).
    cron: str | None


KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str,
    *,
    queue: str = DEFAULT_QUEUE,
    priority: int = 0,
    max_attempts: int = 5,
    backoff_seconds: float = 5.0,
    backoff_cap_seconds: float = 3600.0,
    cron: str | None = None,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the code behind jobs of kind ``name``.

    Handlers must be idempotent: a job whose worker died is run again from the start.
    """

    def register(handler: Handler) -> Handler:
        if name in KINDS and KINDS[name].handler is not handler:
            raise ValueError(f"job kind {name!r} is registered twice")
        KINDS[name] = JobKind(
            name=name,
            handler=handler,
            queue=queue,
            priority=priority,
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
            backoff_cap_seconds=backoff_cap_seconds,
            cron=cron,
        )
        return handler

    return register


def get_kind(name: str) -> JobKind | None:
    return KINDS.get(name)
