"""Crash recovery with real processes: ``kill -9`` a worker (or a whole server) mid-job.

The job's delivery stays "doing" with a dead worker; a live worker's sweep notices the missing
heartbeats, records the attempt as interrupted and runs the job again, which completes once.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from meadhall.platform.accounts.models import User
from meadhall.platform.accounts.security import create_access_token, hash_password
from meadhall.platform.db import Database
from meadhall.platform.jobs.models import Job, JobAttempt
from meadhall.platform.jobs.service import enqueue
from tests.conftest import TEST_SECRET, ServerProcess, meadhall_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
FAST_RECOVERY = {
    "MEADHALL_WORKER_STALLED_SECONDS": "3",
    "MEADHALL_WORKER_HEARTBEAT_SECONDS": "1",
}


class Workers:
    """Starts ``meadhall worker`` processes and makes sure none outlives the test."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.database_url = database_url
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log_path = self.folder / f"worker-{len(self.processes)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "meadhall",
                    "worker",
                    "--import",
                    "tests.platform.jobs.kinds",
                    *args,
                ],
                env=meadhall_env(self.database_url, self.folder / "data", **FAST_RECOVERY),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.folder.glob("worker-*.log"))
        )

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


@pytest.fixture
def workers(database_factory: Callable[[], str], tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(database_factory(), tmp_path)
    yield pool
    pool.stop_all()


async def _wait(check: Callable[[], Any], what: str, within: float, logs: Callable[[], str]) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{logs()}")


async def _worker_count(db: Database) -> int:
    try:
        async with db.engine.connect() as conn:
            return int(await conn.scalar(text("SELECT count(*) FROM procrastinate_workers")) or 0)
    except Exception:
        return 0  # The schema is not there yet.


async def _enqueue_sleep(db: Database, marker_dir: Path, owner_id: uuid.UUID | None) -> Job:
    async with db.transaction() as session:
        return await enqueue(
            session,
            kind="test.sleep",
            payload={"seconds": 4, "steps": 8, "marker_dir": str(marker_dir)},
            owner_id=owner_id,
        )


async def _job(db: Database, job_id: uuid.UUID) -> Job:
    async with db.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def _outcomes(db: Database, job_id: uuid.UUID) -> list[tuple[str | None, str]]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(JobAttempt).where(JobAttempt.job_id == job_id).order_by(JobAttempt.number)
        )
        return [(row.outcome, row.worker) for row in rows]


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def test_job_of_a_killed_worker_completes_once_on_another(
    workers: Workers, tmp_path: Path
) -> None:
    first = workers.start()
    db = Database(workers.database_url, pool_size=2)
    markers = tmp_path / "markers"
    markers.mkdir()
    try:
        await _wait(lambda: _worker_count(db), "the first worker", 40, workers.logs)
        job = await _enqueue_sleep(db, markers, None)
        await _wait(lambda: _progressing(db, job.id), "the job to make progress", 20, workers.logs)
        first.kill()  # kill -9: no goodbye, no unregistering, heartbeats just stop.
        first.wait(5)
        assert (await _job(db, job.id)).status == "running"

        workers.start()
        await _wait(lambda: _finished(db, job.id), "the job to finish", 40, workers.logs)
        done = await _job(db, job.id)
        assert done.status == "succeeded", done.last_error
        assert done.attempts == 2
        outcomes = await _outcomes(db, job.id)
        assert [outcome for outcome, _ in outcomes] == ["interrupted", "succeeded"]
        assert outcomes[0][1].endswith(f":{first.pid}")
        assert not outcomes[1][1].endswith(f":{first.pid}")
        # Started twice, completed exactly once.
        assert len(_lines(markers / "starts")) == 2
        assert len(_lines(markers / "dones")) == 1
    finally:
        await db.dispose()


async def test_worker_with_other_queues_does_not_take_default_jobs(
    workers: Workers, tmp_path: Path
) -> None:
    workers.start("--queues", "ml", "--concurrency", "1")
    db = Database(workers.database_url, pool_size=2)
    try:
        await _wait(lambda: _worker_count(db), "the ml worker", 40, workers.logs)
        async with db.transaction() as session:
            default_job = await enqueue(session, kind="test.sleep", payload={"seconds": 0})
            ml_job = await enqueue(session, kind="test.ml", payload={})
        await _wait(lambda: _finished(db, ml_job.id), "the ml job", 20, workers.logs)
        await asyncio.sleep(1.5)
        assert (await _job(db, default_job.id)).status == "queued"
    finally:
        await db.dispose()


async def _progressing(db: Database, job_id: uuid.UUID) -> bool:
    job = await _job(db, job_id)
    return job.status == "running" and job.progress > 0


async def _finished(db: Database, job_id: uuid.UUID) -> bool:
    return (await _job(db, job_id)).status in ("succeeded", "failed", "cancelled")


async def test_job_of_a_killed_server_completes_after_restart(
    database_factory: Callable[[], str],
    spawn_server: Callable[..., ServerProcess],
    tmp_path: Path,
) -> None:
    database_url = database_factory()
    env = {
        **FAST_RECOVERY,
        "MEADHALL_WORKERS_IN_PROCESS": "true",
        "MEADHALL_JOB_MODULES": "tests.platform.jobs.kinds",
        "PYTHONPATH": str(ROOT),
    }
    data_dir = tmp_path / "data"
    first = spawn_server(database_url, data_dir, **env)
    db = Database(database_url, pool_size=2)
    markers = tmp_path / "markers"
    markers.mkdir()
    try:
        async with db.transaction() as session:
            user = User(
                email="gm@example.com",
                display_name="gm",
                password_hash=hash_password("correct horse battery"),
                is_admin=False,
            )
            session.add(user)
            await session.flush()
            user_id = user.id
        token, _ = create_access_token(
            key=TEST_SECRET, user_id=user_id, token_version=0, minutes=15
        )
        job = await _enqueue_sleep(db, markers, user_id)
        await _wait(lambda: _progressing(db, job.id), "the job to start", 20, first.output)
        first.process.kill()
        first.process.wait(5)

        second = spawn_server(database_url, data_dir, **env)
        await _wait(lambda: _finished(db, job.id), "the job to finish", 40, second.output)
        async with httpx.AsyncClient(base_url=second.url) as client:
            response = await client.get(
                f"/api/jobs/{job.id}", headers={"Authorization": f"Bearer {token}"}
            )
        assert response.status_code == 200
        detail = response.json()
        assert detail["status"] == "succeeded", detail["last_error"]
        assert [a["outcome"] for a in detail["attempts_history"]] == ["interrupted", "succeeded"]
        assert detail["attempts_history"][0]["worker"].endswith(f":{first.process.pid}")
        assert detail["attempts_history"][1]["worker"].endswith(f":{second.process.pid}")
        assert len(_lines(markers / "starts")) == 2
        assert len(_lines(markers / "dones")) == 1
    finally:
        await db.dispose()
