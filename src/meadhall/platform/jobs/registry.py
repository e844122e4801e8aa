"""Job kinds: each wing registers its handlers here with :func:`job_kind`."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import croniter  # type: ignore[import-untyped]

from meadhall.platform.jobs.context import JobContext

Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]

DEFAULT_QUEUE = "default"
# Kind and queue names: lowercase words joined by dots, dashes or underscores.
_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,99}")


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

    if not _NAME.fullmatch(name):
        raise ValueError(f"job kind {name!r} must look like 'domain.action'")
    if not _NAME.fullmatch(queue):
        raise ValueError(f"queue {queue!r} of job kind {name!r} is not a valid queue name")
    if max_attempts < 1:
        raise ValueError(f"job kind {name!r}: max_attempts must be at least 1")
    if cron is not None and not croniter.croniter.is_valid(cron):
        raise ValueError(f"job kind {name!r}: {cron!r} is not a cron expression")

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
    """The registered kind called ``name``, if any."""
    return KINDS.get(name)


def periodic_kinds() -> list[JobKind]:
    """Kinds that are also queued on a cron schedule."""
    return [kind for kind in KINDS.values() if kind.cron is not None]


def backoff_delay(kind: JobKind, attempt: int) -> float:
    """Seconds to wait before retrying after failed attempt number ``attempt`` (1-based)."""
    exponent = max(attempt - 1, 0)
    # Capped before exponentiating too far: 2**64 seconds helps nobody.
    return float(min(kind.backoff_seconds * 2 ** min(exponent, 32), kind.backoff_cap_seconds))
