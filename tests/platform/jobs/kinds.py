"""Job kinds used by the jobs tests (loaded by test workers with ``--import``).

``test.sleep`` records each start and each completed run, in files when the payload names a
folder (for tests whose worker is another process) or in :data:`RUNS` otherwise, so a test can
check that an interrupted job completes exactly once in effect.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.registry import job_kind

# job id -> ["start 1", "done 1", ...] for jobs run by in-process workers.
RUNS: defaultdict[str, list[str]] = defaultdict(list)
# Order in which ``test.record`` jobs ran: their payload "name".
ORDER: list[str] = []


def _note(ctx: JobContext, payload: dict[str, Any], line: str) -> None:
    folder = payload.get("marker_dir")
    if folder is None:
        RUNS[str(ctx.job_id)].append(line)
        return
    path = Path(folder) / f"{line.split()[0]}s"
    with path.open("a") as handle:
        handle.write(f"{line} pid={os.getpid()}\n")


@job_kind("test.sleep", max_attempts=3, backoff_seconds=0.1)
async def sleep(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Sleep ``seconds`` in ``steps`` steps, reporting progress after each."""
    _note(ctx, payload, f"start {ctx.attempt}")
    steps = int(payload.get("steps", 4))
    seconds = float(payload.get("seconds", 0.2))
    for step in range(1, steps + 1):
        await asyncio.sleep(seconds / steps)
        await ctx.progress(step / steps, f"step {step} of {steps}")
    _note(ctx, payload, f"done {ctx.attempt}")


class Boom(RuntimeError):
    pass


def _explode(message: str) -> None:
    raise Boom(message)


@job_kind("test.fail", max_attempts=3, backoff_seconds=0.3, backoff_cap_seconds=5)
async def fail(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Always fails, a couple of frames deep."""
    _note(ctx, payload, f"start {ctx.attempt}")
    _explode(f"boom on attempt {ctx.attempt}")


@job_kind("test.flaky", max_attempts=2, backoff_seconds=0.1)
async def flaky(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Fails on its first ``fail_times`` runs, then succeeds."""
    _note(ctx, payload, f"start {ctx.attempt}")
    if ctx.attempt <= int(payload.get("fail_times", 1)):
        raise Boom(f"flaky failure {ctx.attempt}")
    _note(ctx, payload, f"done {ctx.attempt}")


@job_kind("test.record", max_attempts=1)
async def record(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Appends its name to :data:`ORDER`."""
    ORDER.append(str(payload["name"]))


@job_kind("test.ml", queue="ml", max_attempts=1)
async def ml(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Stands for work that only some boxes may do."""
    _note(ctx, payload, f"done {ctx.attempt}")


def _digest(data: bytes, rounds: int) -> str:
    for _ in range(rounds):
        data = hashlib.sha256(data).digest()
    return data.hex()


@job_kind("test.cpu", max_attempts=1)
async def cpu(ctx: JobContext, payload: dict[str, Any]) -> None:
    """CPU-bound work, run off the event loop."""
    digest = await ctx.run_in_thread(_digest, b"meadhall", int(payload["rounds"]))
    await ctx.progress(1.0, digest)
