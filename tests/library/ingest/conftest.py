"""Fixtures of the ingest tests: changed settings on the running app, a worker, DB helpers."""

from __future__ import annotations

import asyncio
import io
import random
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from meadhall.library.models import Asset
from meadhall.platform.jobs.models import Job
from meadhall.platform.jobs.worker import running_worker
from meadhall.platform.runtime import Runtime
from tests.library.factories import image_bytes

FINISHED = ("succeeded", "failed", "cancelled")


@pytest.fixture
def override_settings(runtime: Runtime) -> Iterator[Callable[..., None]]:
    """``override_settings(upload_max_bytes=2048)``: the running app sees the new values."""
    original = runtime.settings

    def apply(**values: Any) -> None:
        runtime.settings = runtime.settings.model_copy(update=values)

    yield apply
    runtime.settings = original


WorkerFactory = Callable[..., AbstractAsyncContextManager[Any]]


@pytest.fixture
def worker(runtime: Runtime) -> WorkerFactory:
    """``async with worker():`` runs a job worker inside the test."""

    @asynccontextmanager
    async def start(concurrency: int = 2) -> AsyncIterator[Any]:
        async with running_worker(runtime, concurrency=concurrency) as w:
            yield w

    return start


async def assets_of(runtime: Runtime, owner_id: uuid.UUID) -> list[Asset]:
    async with runtime.db.sessionmaker() as session:
        rows = await session.scalars(
            select(Asset).where(Asset.owner_id == owner_id).order_by(Asset.created_at, Asset.id)
        )
        return list(rows)


async def jobs_of(runtime: Runtime, kind: str) -> list[Job]:
    async with runtime.db.sessionmaker() as session:
        rows = await session.scalars(select(Job).where(Job.kind == kind).order_by(Job.created_at))
        return list(rows)


async def wait_for_job(
    runtime: Runtime, kind: str, *, payload: dict[str, Any] | None = None, within: float = 30.0
) -> Job:
    """The newest job of ``kind`` (matching ``payload``) once it has finished."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        jobs = [
            job
            for job in await jobs_of(runtime, kind)
            if payload is None or all(job.payload.get(k) == v for k, v in payload.items())
        ]
        if jobs and jobs[-1].status in FINISHED:
            return jobs[-1]
        if asyncio.get_running_loop().time() > deadline:
            state = jobs[-1].status if jobs else "missing"
            raise AssertionError(f"no finished {kind} job (last: {state})")
        await asyncio.sleep(0.1)


@pytest.fixture(autouse=True)
def _empty_temp_folder(runtime: Runtime) -> None:
    """Each test starts with an empty temp folder, so leftovers are its own."""
    shutil.rmtree(runtime.settings.tmp_dir, ignore_errors=True)


async def wait_for_job_id(runtime: Runtime, job_id: uuid.UUID, within: float = 30.0) -> Job:
    """The job once it has finished."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with runtime.db.sessionmaker() as session:
            job = await session.get(Job, job_id)
        assert job is not None
        if job.status in FINISHED:
            return job
        assert asyncio.get_running_loop().time() < deadline, f"job stayed {job.status}"
        await asyncio.sleep(0.1)


async def wait_until_idle(runtime: Runtime, within: float = 60.0) -> None:
    """Until no job is queued or running (processing included)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with runtime.db.sessionmaker() as session:
            busy = await session.scalar(
                select(Job.id).where(Job.status.in_(("queued", "running"))).limit(1)
            )
        if busy is None:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("jobs still pending")
        await asyncio.sleep(0.1)


def library_files(runtime: Runtime, owner_id: uuid.UUID) -> list[Path]:
    """Every original stored for ``owner_id`` in the managed library folder."""
    root = runtime.settings.library_dir / str(owner_id)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def temp_files(runtime: Runtime) -> list[Path]:
    root = runtime.settings.tmp_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def distinct_jpeg(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG whose bytes differ for every seed."""
    return image_bytes(*size, color=(seed % 256, (seed * 7) % 256, (seed * 13) % 256))


def noisy_jpeg(seed: int, size: tuple[int, int] = (200, 150)) -> bytes:
    """A JPEG of random noise: it barely compresses, so its size is predictable."""
    noise = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, noise).save(out, "JPEG", quality=90)
    return out.getvalue()


def encoded(fmt: str, seed: int = 1, **save: Any) -> bytes:
    """A small image in ``fmt`` (HEIF through pillow-heif)."""
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    image = Image.new("RGB", (40, 30), (seed % 256, 120, 200))
    image.paste((255, 255, 255), (10, 10, 20, 20))
    out = io.BytesIO()
    if fmt == "MPO":
        second = Image.new("RGB", (40, 30), (10, 10, 10))
        image.save(out, "MPO", save_all=True, append_images=[second])
    else:
        image.save(out, fmt, **save)
    return out.getvalue()


# The smallest MP4 a sniffer must accept: an ``ftyp`` box and an empty ``mdat``.
MP4_BYTES = (
    b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08mdat" + b"\x00" * 64
)
