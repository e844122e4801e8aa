"""A worker killed with SIGKILL mid-pipeline: another worker finishes the asset."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from meadhall import wings as _wings  # noqa: F401  (knows every wing's job kinds)
from meadhall.library.models import Asset, AssetStep
from meadhall.library.storage import LibraryStorage
from meadhall.platform.accounts.models import User
from meadhall.platform.db import Database
from meadhall.platform.jobs.models import Job, JobAttempt
from tests.conftest import make_settings, meadhall_env
from tests.library.pipeline.conftest import store_pending
from tests.library.pipeline.images import encode, picture

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]


class _Workers:
    def __init__(self, database_url: str, folder: Path) -> None:
        self.database_url = database_url
        self.folder = folder
        self.markers = folder / "markers"
        self.markers.mkdir()
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        env = meadhall_env(
            self.database_url,
            self.folder / "data",
            MEADHALL_WORKER_STALLED_SECONDS="3",
            MEADHALL_WORKER_HEARTBEAT_SECONDS="1",
            PIPELINE_TEST_MARKERS=str(self.markers),
            PIPELINE_TEST_SLEEP="4",
        )
        with (self.folder / f"worker-{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "meadhall",
                    "worker",
                    "--import",
                    "tests.library.pipeline.slow_pipeline",
                ],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.folder.glob("worker-*.log"))

    def lines(self, name: str) -> list[str]:
        path = self.markers / name
        return path.read_text().splitlines() if path.exists() else []

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
def workers(database_factory: Callable[[], str], tmp_path: Path) -> Iterator[_Workers]:
    pool = _Workers(database_factory(), tmp_path)
    yield pool
    pool.stop_all()


async def _until(
    check: Callable[[], Any], what: str, within: float, logs: Callable[[], str]
) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{logs()}")


class _Shim:
    """Just enough of a Runtime for ``store_pending``."""

    def __init__(self, db: Database, settings: Any) -> None:
        self.db = db
        self.settings = settings


async def test_killed_worker_mid_pipeline_asset_still_ends_ready(
    workers: _Workers, tmp_path: Path
) -> None:
    first = workers.start()
    db = Database(workers.database_url, pool_size=2)

    async def worker_up() -> bool:
        try:
            async with db.engine.connect() as conn:
                return bool(await conn.scalar(text("SELECT count(*) FROM procrastinate_workers")))
        except Exception:
            return False

    try:
        await _until(worker_up, "the first worker", 60, workers.logs)
        async with db.transaction() as session:
            user = User(email="gm@example.com", display_name="gm", password_hash="x")
            session.add(user)
        settings = make_settings(workers.database_url, tmp_path / "data")
        asset_id = await store_pending(
            _Shim(db, settings),  # type: ignore[arg-type]
            owner_id=user.id,
            data=encode(picture(1600, 1200), "JPEG", quality=90),
        )

        async def started() -> bool:
            return bool(workers.lines("starts"))

        await _until(started, "the pipeline to start", 30, workers.logs)
        first.kill()  # SIGKILL mid-analysis: no cleanup, heartbeats just stop.
        first.wait(5)

        async def asset() -> Asset:
            async with db.sessionmaker() as session:
                row = await session.get(Asset, asset_id)
                assert row is not None
                return row

        assert (await asset()).status == "pending"
        workers.start()

        async def ready() -> bool:
            return (await asset()).status == "ready"

        await _until(ready, "the asset to be processed", 60, workers.logs)

        # The asset is committed by the handler; the attempt is closed just after it returns.
        async def job_done() -> bool:
            async with db.sessionmaker() as session:
                status = await session.scalar(
                    select(Job.status).where(Job.dedup_key == f"asset:{asset_id}")
                )
            return status == "succeeded"

        await _until(job_done, "the job to be marked succeeded", 30, workers.logs)
        async with db.sessionmaker() as session:
            steps = list(
                await session.scalars(select(AssetStep).where(AssetStep.asset_id == asset_id))
            )
            job = await session.scalar(select(Job).where(Job.dedup_key == f"asset:{asset_id}"))
            assert job is not None
            outcomes = [
                row.outcome
                for row in await session.scalars(
                    select(JobAttempt)
                    .where(JobAttempt.job_id == job.id)
                    .order_by(JobAttempt.number)
                )
            ]
        assert len(steps) == 10 and {step.status for step in steps} == {"done"}
        assert (await asset()).width == 1600
        storage = LibraryStorage(settings)
        for name in ("thumbnail.webp", "preview.webp"):
            assert storage.derivative_path(asset_id, name).is_file()
        assert outcomes == ["interrupted", "succeeded"]
        assert len(workers.lines("starts")) == 2
        assert workers.lines("dones") == [str(workers.processes[1].pid)]
    finally:
        await db.dispose()
