"""The folder watcher: changes in a watched folder lead to a scan once the folder is quiet."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from meadhall.library.ingest.watch import WATCH_KEY, watching_folders
from meadhall.library.models import Asset
from meadhall.platform.runtime import Runtime
from tests.library.ingest.conftest import WorkerFactory, distinct_jpeg, jobs_of

FOLDERS = "/api/library/folders"
SCAN = "library.scan_folder"


async def _paths(runtime: Runtime, folder_id: str) -> set[str]:
    async with runtime.db.sessionmaker() as session:
        rows = await session.scalars(
            select(Asset.storage_path).where(Asset.folder_id == uuid.UUID(folder_id))
        )
        return set(rows)


async def _eventually(check: Callable[[], Any], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.1)


async def test_watched_folder_is_rescanned_after_a_quiet_period(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    worker: WorkerFactory,
    override_settings: Callable[..., None],
    tmp_path: Path,
) -> None:
    override_settings(folder_stability_seconds=0.6)
    admin, owner = await make_user(is_admin=True), await make_user()
    watched, unwatched = tmp_path / "watched", tmp_path / "unwatched"
    watched.mkdir()
    unwatched.mkdir()
    (watched / "first.jpg").write_bytes(distinct_jpeg(1))

    async with watching_folders(runtime, force=True), worker():
        assert WATCH_KEY in runtime.extras
        folder = (
            await client.post(
                FOLDERS,
                json={"path": str(watched), "owner_id": str(owner.id)},
                headers=admin.headers,
            )
        ).json()
        quiet = (
            await client.post(
                FOLDERS,
                json={"path": str(unwatched), "owner_id": str(owner.id), "watch": False},
                headers=admin.headers,
            )
        ).json()
        await _eventually(lambda: _has(runtime, folder["id"], {"first.jpg"}))
        await _eventually(lambda: _scans_done(runtime))
        scans_before = len(await jobs_of(runtime, SCAN))

        # A file written in pieces: no scan while it keeps changing.
        target = watched / "sub" / "growing.jpg"
        target.parent.mkdir()
        data = distinct_jpeg(2, size=(400, 300))
        with target.open("wb") as handle:
            for start in range(0, len(data), len(data) // 4 + 1):
                handle.write(data[start : start + len(data) // 4 + 1])
                handle.flush()
                await asyncio.sleep(0.3)
                assert len(await jobs_of(runtime, SCAN)) == scans_before
        await _eventually(lambda: _has(runtime, folder["id"], {"first.jpg", "sub/growing.jpg"}))

        (watched / "first.jpg").unlink()
        await _eventually(lambda: _has(runtime, folder["id"], {"sub/growing.jpg"}))

        # A folder with watching off is left alone.
        (unwatched / "ignored.jpg").write_bytes(distinct_jpeg(3))
        await asyncio.sleep(1.5)
        assert await _paths(runtime, quiet["id"]) == set()

        # The watched folder vanishing is logged, not fatal; it is watched again when back.
        shutil.rmtree(watched)
        await asyncio.sleep(1.0)
        watched.mkdir()
        (watched / "back.jpg").write_bytes(distinct_jpeg(4))
        # What happened while it was gone is found by the scan that follows its return...
        await _eventually(lambda: _has(runtime, folder["id"], {"back.jpg"}))
        # ...and it is watched again.
        (watched / "later.jpg").write_bytes(distinct_jpeg(5))
        await _eventually(lambda: _has(runtime, folder["id"], {"back.jpg", "later.jpg"}))
    assert WATCH_KEY not in runtime.extras


async def _has(runtime: Runtime, folder_id: str, paths: set[str]) -> bool:
    return await _paths(runtime, folder_id) == paths


async def _scans_done(runtime: Runtime) -> bool:
    return all(job.status == "succeeded" for job in await jobs_of(runtime, SCAN))


async def test_no_watcher_without_in_process_workers(runtime: Runtime) -> None:
    assert runtime.settings.workers_in_process is False
    async with watching_folders(runtime):
        assert WATCH_KEY not in runtime.extras
