"""Fixtures of the pipeline tests: stored originals as pending assets, a worker, waiting."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from meadhall.library.models import Asset, AssetStep, Origin
from meadhall.library.pipeline.service import queue_processing
from meadhall.library.storage import LibraryStorage
from meadhall.platform.events.bus import SESSION_BUS_KEY, EventBus
from meadhall.platform.jobs.models import Job
from meadhall.platform.jobs.service import enqueue
from meadhall.platform.jobs.worker import running_worker
from meadhall.platform.runtime import Runtime


async def store_pending(
    runtime: Runtime,
    *,
    owner_id: uuid.UUID,
    data: bytes,
    filename: str = "photo.jpg",
    queue: bool = True,
    **fields: Any,
) -> uuid.UUID:
    """File ``data`` as a managed original, insert a pending asset as ingest does, queue it."""
    storage = LibraryStorage(runtime.settings)
    now = datetime.now(UTC)
    with storage.temp_writer() as (temp, handle):
        handle.write(data)
    path = storage.store_original(
        temp, planned=storage.planned_path(user=str(owner_id), when=now, filename=filename)
    )
    values: dict[str, Any] = {
        "owner_id": owner_id,
        "origin": Origin.UPLOAD,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_bytes": len(data),
        "mime_type": "application/octet-stream",
        "original_filename": filename,
        "storage_path": path,
        "name": filename.rsplit(".", 1)[0],
        "status": "pending",
        "local_at": now.replace(tzinfo=None),
        "sort_at": now,
    }
    values.update(fields)
    async with runtime.db.transaction() as session:
        asset = Asset(**values)
        session.add(asset)
        await session.flush()
        if queue:
            await queue_processing(session, asset=asset)
        return asset.id


async def load_asset(runtime: Runtime, asset_id: uuid.UUID) -> Asset:
    async with runtime.db.sessionmaker() as session:
        asset = await session.get(Asset, asset_id)
        assert asset is not None
        return asset


async def load_steps(runtime: Runtime, asset_id: uuid.UUID) -> dict[str, AssetStep]:
    async with runtime.db.sessionmaker() as session:
        rows = await session.scalars(select(AssetStep).where(AssetStep.asset_id == asset_id))
        return {row.step: row for row in rows}


async def jobs_of(runtime: Runtime, asset_id: uuid.UUID) -> list[Job]:
    async with runtime.db.sessionmaker() as session:
        rows = await session.scalars(
            select(Job).where(Job.dedup_key == f"asset:{asset_id}").order_by(Job.created_at)
        )
        return list(rows)


async def run_sweep(runtime: Runtime) -> None:
    """Queue the missing-files sweep and wait until it succeeded (a worker must be running)."""
    async with runtime.db.transaction() as session:
        job = await enqueue(session, kind="library.sweep_missing", payload={})
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        async with runtime.db.sessionmaker() as session:
            row = await session.get(Job, job.id)
            assert row is not None
        if row.status in ("succeeded", "failed", "cancelled"):
            break
        assert asyncio.get_running_loop().time() < deadline, "the sweep did not finish"
        await asyncio.sleep(0.05)
    assert row.status == "succeeded", row.last_error


async def wait_processed(
    runtime: Runtime, *asset_ids: uuid.UUID, within: float = 60.0
) -> list[Asset]:
    """Poll until every asset has left ``pending`` and has no queued or running job."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        assets = [await load_asset(runtime, asset_id) for asset_id in asset_ids]
        if all(asset.status != "pending" for asset in assets):
            busy = [
                job
                for asset_id in asset_ids
                for job in await jobs_of(runtime, asset_id)
                if job.status in ("queued", "running")
            ]
            if not busy:
                return assets
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still pending: {[(a.id, a.status) for a in assets]}")
        await asyncio.sleep(0.1)


@pytest.fixture
def worker(runtime: Runtime) -> Callable[..., AbstractAsyncContextManager[Any]]:
    """``async with worker():`` runs a job worker in the test's process."""

    @asynccontextmanager
    async def start(*, concurrency: int = 2) -> AsyncIterator[Any]:
        async with running_worker(runtime, concurrency=concurrency) as w:
            yield w

    return start


@pytest.fixture
async def owner(make_user: Callable[..., Any]) -> Any:
    return await make_user()


@dataclass
class RecordingBus:
    """Passes events on to the real bus and keeps a copy for the test to read."""

    inner: EventBus
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def publish(self, topic: str, type: str, data: dict[str, Any]) -> Any:
        self.events.append((topic, type, data))
        return await self.inner.publish(topic, type, data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def recording_bus(runtime: Runtime) -> Any:
    original = runtime.bus
    recorder = RecordingBus(original)
    runtime.bus = recorder  # type: ignore[assignment]
    runtime.db.share_with_sessions(**{SESSION_BUS_KEY: recorder})
    yield recorder
    runtime.bus = original
    runtime.db.share_with_sessions(**{SESSION_BUS_KEY: original})
