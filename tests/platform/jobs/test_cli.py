"""``meadhall jobs list|retry`` and ``meadhall worker --help`` as real commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from meadhall.platform.runtime import Runtime
from tests.conftest import meadhall_env
from tests.platform.jobs.conftest import enqueue_job, load_job

ROOT = Path(__file__).resolve().parents[3]


def _meadhall(runtime: Runtime, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = meadhall_env(runtime.db.url, data_dir, MEADHALL_LOG_LEVEL="warning", COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "meadhall", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_worker_help_names_its_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "meadhall", "worker", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    for option in ("--queues", "--concurrency", "--import"):
        assert option in result.stdout


@pytest.mark.slow
async def test_list_and_retry(runtime: Runtime, data_dir: Path) -> None:
    failed = await enqueue_job(runtime, kind="test.sleep")
    await enqueue_job(runtime, kind="test.ml")
    async with runtime.db.transaction() as session:
        await session.execute(
            text("UPDATE jobs SET status = 'failed', attempts = 3 WHERE id = :id"),
            {"id": failed.id},
        )

    listing = _meadhall(runtime, data_dir, "jobs", "list", "--status", "failed")
    assert listing.returncode == 0, listing.stderr
    assert str(failed.id) in listing.stdout and "test.ml" not in listing.stdout
    everything = _meadhall(runtime, data_dir, "jobs", "list", "--limit", "5")
    assert "test.ml" in everything.stdout and "Jobs (2 of 2)" in everything.stdout

    retried = _meadhall(runtime, data_dir, "jobs", "retry", str(failed.id))
    assert retried.returncode == 0, retried.stderr
    job = await load_job(runtime, failed.id)
    assert (job.status, job.attempts) == ("queued", 0)

    again = _meadhall(runtime, data_dir, "jobs", "retry", str(failed.id))
    assert again.returncode == 3
    assert "only failed or cancelled jobs" in again.stderr

    unknown = _meadhall(runtime, data_dir, "jobs", "retry", "0191d5c4-0000-7000-8000-000000000000")
    assert unknown.returncode == 1 and "no job" in unknown.stderr
    malformed = _meadhall(runtime, data_dir, "jobs", "retry", "nope")
    assert malformed.returncode == 2 and "not a job id" in malformed.stderr
    bad_status = _meadhall(runtime, data_dir, "jobs", "list", "--status", "weird")
    assert bad_status.returncode == 2 and "unknown status" in bad_status.stderr
