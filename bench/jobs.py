"""Job queue benchmark: enqueue→start latency and throughput through real worker processes.

    python bench/jobs.py                      # the PostgreSQL at 127.0.0.1:5432
    python bench/jobs.py --embedded           # a throw-away embedded PostgreSQL
    python bench/jobs.py --jobs 2000 --concurrency 8

A database is created for the run and dropped at the end. Workers are ``meadhall worker``
processes that also import this file (as module ``jobs``) for the trivial ``bench.noop`` kind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from _database import DEFAULT_URL, bench_database  # bench/ is the script's folder
from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.registry import job_kind

BENCH_DIR = Path(__file__).resolve().parent


@job_kind("bench.noop", max_attempts=1)
async def noop(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Does nothing: what is measured is the queue."""


@contextmanager
def worker_processes(url: str, count: int, concurrency: int, folder: Path) -> Iterator[None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEADHALL_")}
    env.update(
        {
            "MEADHALL_DATABASE_URL": url,
            "MEADHALL_DATA_DIR": str(folder),
            "MEADHALL_SECRET_KEY": secrets.token_urlsafe(48),
            "MEADHALL_LOG_LEVEL": "warning",
            "PYTHONPATH": os.pathsep.join([str(BENCH_DIR), env.get("PYTHONPATH", "")]),
        }
    )
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "meadhall",
                "worker",
                "--concurrency",
                str(concurrency),
                "--import",
                "jobs",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


async def _wait_for_workers(db: Any, count: int) -> None:
    from sqlalchemy import text

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        async with db.engine.connect() as conn:
            live = await conn.scalar(text("SELECT count(*) FROM procrastinate_workers"))
        if live == count:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{count} worker(s) did not start")


async def _started_at(db: Any, job_id: uuid.UUID) -> datetime | None:
    from meadhall.platform.jobs.models import Job

    async with db.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job.started_at if job.status == "succeeded" else None


async def measure_latency(db: Any, samples: int) -> list[float]:
    """One job at a time: seconds from the enqueueing commit to the worker starting it."""
    from meadhall.platform.jobs.service import enqueue

    latencies = []
    for _ in range(samples):
        async with db.transaction() as session:
            job = await enqueue(session, kind="bench.noop", payload={})
        committed = time.time()
        while True:
            started = await _started_at(db, job.id)
            if started is not None:
                break
            # Polling costs a millisecond of resolution, no more.
            await asyncio.sleep(0.001)
        latencies.append(started.timestamp() - committed)
    return latencies


async def measure_throughput(db: Any, jobs: int) -> tuple[float, float]:
    """Enqueue ``jobs`` in one transaction; return (enqueue jobs/s, processed jobs/s)."""
    from sqlalchemy import text

    from meadhall.platform.jobs.service import enqueue

    begin = time.time()
    async with db.transaction() as session:
        for _ in range(jobs):
            await enqueue(session, kind="bench.noop", payload={})
    committed = time.time()
    while True:
        async with db.engine.connect() as conn:
            pending = await conn.scalar(
                text("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")
            )
        if not pending:
            break
        await asyncio.sleep(0.05)
    async with db.engine.connect() as conn:
        last = await conn.scalar(text("SELECT max(finished_at) FROM jobs"))
    return jobs / (committed - begin), jobs / (last.timestamp() - committed)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run(url: str, args: argparse.Namespace) -> list[tuple[str, ...]]:
    from meadhall.platform.db import Database
    from meadhall.platform.db.migrate import upgrade
    from meadhall.wings import HOUSE

    await asyncio.to_thread(upgrade, url, HOUSE.migration_locations)
    rows = []
    for count in args.workers:
        db = Database(url, pool_size=4)
        with tempfile.TemporaryDirectory() as folder:
            try:
                with worker_processes(url, count, args.concurrency, Path(folder)):
                    await _wait_for_workers(db, count)
                    await measure_latency(db, 10)  # Warm up connections and caches.
                    latencies = await measure_latency(db, args.samples)
                    enqueue_rate, rate = await measure_throughput(db, args.jobs)
            finally:
                await db.dispose()
        rows.append(
            (
                f"{count} x {args.concurrency}",
                f"{statistics.median(latencies) * 1000:.1f}",
                f"{_percentile(latencies, 0.99) * 1000:.1f}",
                f"{enqueue_rate:.0f}",
                f"{rate:.0f}",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", default=DEFAULT_URL, help="maintenance database of the server")
    where.add_argument("--embedded", action="store_true", help="use an embedded PostgreSQL")
    parser.add_argument("--jobs", type=int, default=1000, help="jobs for the throughput run")
    parser.add_argument("--samples", type=int, default=200, help="jobs for the latency run")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs at once per worker")
    parser.add_argument(
        "--workers",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 2],
        help="worker process counts to try, comma-separated",
    )
    args = parser.parse_args()

    with bench_database(None if args.embedded else args.url) as url:
        rows = asyncio.run(run(url, args))

    server = "embedded PostgreSQL" if args.embedded else args.url.rsplit("@", 1)[-1]
    print(f"\nJob queue on {server}: {args.samples} latency samples, {args.jobs} jobs\n")
    header = ("workers x conc.", "start p50 ms", "start p99 ms", "enqueue jobs/s", "run jobs/s")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
