"""Pipeline jobs: process one asset; every ten minutes, queue again whatever was lost.

``library.process_asset`` reads the original once, runs every step in a thread, writes the
derivatives atomically and then stores all results in one transaction. It is idempotent: a run
that was interrupted (a killed worker) is simply run again. A file that cannot be decoded is a
final answer (the asset ends ``failed`` with the reason), not an error: the job succeeds and is
never retried. Only infrastructure trouble (database, disk) raises, and the jobs engine retries.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from meadhall.library import repository as library_repository
from meadhall.library.events import ASSET_PROCESSED, announce_asset
from meadhall.library.models import Asset, AssetStatus, StepStatus
from meadhall.library.pipeline import repository, service
from meadhall.library.pipeline.analysis import (
    DECODE,
    DERIVATIVE_STEPS,
    NOT_DECODED,
    STEPS,
    Analysis,
    Original,
    StepOutcome,
    analyse,
)
from meadhall.library.pipeline.decode import HEAD_BYTES, sniff_video
from meadhall.library.settings import library_settings
from meadhall.library.storage import LibraryStorage, UnsafePath
from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.registry import job_kind

logger = logging.getLogger("meadhall.library.pipeline")

# How long a step may stay pending or failed before the sweep queues its asset again: longer
# than a busy queue normally takes, so the sweep does not chase work that is on its way.
SWEEP_AFTER = timedelta(minutes=10)
SWEEP_BATCH = 1000
# At most this many assets are queued again per sweep; the next sweep does the rest.
SWEEP_MAX_QUEUED = 10_000


@dataclass(frozen=True)
class _Loaded:
    asset_id: uuid.UUID
    path: Path | None
    path_error: str | None
    file_mtime: datetime | None
    created_at: datetime
    complete: bool


class _OriginalUnreadable(Exception):
    """The original is gone or unreadable: a final state for the asset, not a retry."""


def _read_original(path: Path) -> bytes:
    """The original's bytes; only the first ones of a video, which is opened from its path."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
            return head if sniff_video(head) is not None else head + handle.read()
    except (FileNotFoundError, NotADirectoryError):
        raise _OriginalUnreadable("the original file is missing") from None
    except IsADirectoryError:
        raise _OriginalUnreadable("the original path is a folder, not a file") from None
    except PermissionError:
        raise _OriginalUnreadable("the server may not read the original file") from None


def _derivatives_present(storage: LibraryStorage, asset_id: uuid.UUID) -> bool:
    return all(
        storage.derivative_path(asset_id, name).is_file() for name in DERIVATIVE_STEPS.values()
    )


async def _load(ctx: JobContext, storage: LibraryStorage, asset_id: uuid.UUID) -> _Loaded | None:
    async with ctx.runtime.db.sessionmaker() as session:
        asset = await session.get(Asset, asset_id)
        if asset is None:
            return None
        folder_path: str | None = None
        if asset.folder_id is not None:
            folder_path = await library_repository.folder_path(session, folder_id=asset.folder_id)
        steps = {row.step: row for row in await repository.asset_steps(session, asset_id=asset_id)}
    path: Path | None = None
    path_error: str | None = None
    if asset.folder_id is not None and folder_path is None:
        path_error = "the asset's indexed folder no longer exists"
    else:
        try:
            path = storage.original_path(asset.storage_path, folder_path)
        except UnsafePath:
            path_error = "the original's stored path leaves its folder; refused"
    finished = {StepStatus.DONE, StepStatus.SKIPPED}
    complete = asset.status != AssetStatus.PENDING and all(
        name in steps and steps[name].status in finished for name in STEPS
    )
    if complete and asset.status == AssetStatus.READY:
        # Videos included: they have a poster's derivatives like any picture.
        complete = _derivatives_present(storage, asset_id)
    return _Loaded(
        asset_id=asset.id,
        path=path,
        path_error=path_error,
        file_mtime=asset.file_mtime,
        created_at=asset.created_at,
        complete=complete,
    )


def _unreadable(reason: str) -> Analysis:
    result = Analysis(status=AssetStatus.FAILED, error=reason)
    result.steps = {name: StepOutcome(StepStatus.SKIPPED, NOT_DECODED) for name in STEPS}
    result.steps[DECODE] = StepOutcome(StepStatus.FAILED, reason)
    return result


def _analyse_file(path: Path, loaded: _Loaded, default_zone: str, max_pixels: int) -> Analysis:
    """Read once, analyse once (runs in a worker thread)."""
    try:
        data = _read_original(path)
    except _OriginalUnreadable as error:
        return _unreadable(str(error))
    return analyse(
        Original(
            data=data,
            file_mtime=loaded.file_mtime,
            fallback_time=loaded.created_at,
            default_timezone=default_zone,
            max_pixels=max_pixels,
            path=path,
        )
    )


def _write_files(storage: LibraryStorage, asset_id: uuid.UUID, result: Analysis) -> None:
    if result.status == AssetStatus.FAILED:
        # Derivatives of an older, decodable version of the file must not linger.
        storage.remove_derivatives(asset_id)
        return
    for name, data in result.files.items():
        storage.write_derivative(asset_id, name, data)


async def _store(
    ctx: JobContext, storage: LibraryStorage, asset_id: uuid.UUID, result: Analysis
) -> None:
    async with ctx.transaction() as session:
        asset = await library_repository.asset_for_update(session, asset_id=asset_id)
        if asset is None:
            # Purged while we worked: what we wrote belongs to nobody.
            await ctx.run_in_thread(storage.remove_derivatives, asset_id)
            return
        for column, value in result.columns.items():
            if column in ("local_at", "sort_at") and value is None:
                continue
            setattr(asset, column, value)
        asset.status = result.status
        asset.error = result.error
        await repository.record_steps(session, asset_id=asset_id, outcomes=result.steps)
        await session.flush()
        await announce_asset(session, asset, ASSET_PROCESSED)


@job_kind(service.PROCESS_KIND, max_attempts=5, backoff_seconds=10.0, backoff_cap_seconds=600.0)
async def process_asset(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Run every step of one asset (``{"asset_id": ..., "force": bool}``)."""
    try:
        asset_id = uuid.UUID(str(payload["asset_id"]))
    except (KeyError, ValueError):
        logger.error("process_asset job without a valid asset id", extra={"payload": payload})
        return
    storage = LibraryStorage(library_settings(ctx.runtime.settings))
    loaded = await _load(ctx, storage, asset_id)
    if loaded is None:
        return
    if loaded.complete and not payload.get("force"):
        # A duplicate delivery of finished work.
        return
    settings = library_settings(ctx.runtime.settings)
    if loaded.path is None:
        result = _unreadable(loaded.path_error or "the original cannot be located")
    else:
        result = await ctx.run_in_thread(
            _analyse_file, loaded.path, loaded, settings.default_timezone, settings.max_image_pixels
        )
    await ctx.run_in_thread(_write_files, storage, asset_id, result)
    await _store(ctx, storage, asset_id, result)


def _missing_derivatives(storage: LibraryStorage, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    return [asset_id for asset_id in ids if not _derivatives_present(storage, asset_id)]


@dataclass(frozen=True)
class SweepReport:
    unfinished: int
    missing_files: int


async def sweep_missing(ctx: JobContext) -> SweepReport:
    """Queue again assets with lost or retryable steps, and pictures whose files are gone."""
    runtime = ctx.runtime
    storage = LibraryStorage(library_settings(runtime.settings))
    unfinished = 0
    async with runtime.db.transaction() as session:
        for asset in await service.assets_with_unfinished_steps(
            session, older_than=SWEEP_AFTER, limit=SWEEP_MAX_QUEUED
        ):
            await service.queue_processing(session, asset=asset)
            unfinished += 1
    missing = 0
    after: uuid.UUID | None = None
    while missing + unfinished < SWEEP_MAX_QUEUED:
        async with runtime.db.sessionmaker() as session:
            batch = await repository.assets_with_derivatives(
                session, after=after, limit=SWEEP_BATCH
            )
        if not batch:
            break
        after = batch[-1][0]
        lost = set(await ctx.run_in_thread(_missing_derivatives, storage, [i for i, _ in batch]))
        if lost:
            async with runtime.db.transaction() as session:
                for asset in await library_repository.assets_by_ids(session, asset_ids=lost):
                    await service.queue_processing(session, asset=asset, force=True)
                    missing += 1
        if ctx.should_stop():
            break
    if unfinished or missing:
        logger.info(
            "library work queued again", extra={"unfinished": unfinished, "missing_files": missing}
        )
    return SweepReport(unfinished=unfinished, missing_files=missing)


@job_kind(service.SWEEP_KIND, cron="*/10 * * * *", max_attempts=1, priority=5)
async def sweep_missing_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Every ten minutes: re-queue lost pipeline work and rebuild missing derivatives."""
    report = await sweep_missing(ctx)
    await ctx.progress(
        1.0, f"{report.unfinished} unfinished, {report.missing_files} with missing files"
    )
