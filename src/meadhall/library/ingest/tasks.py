"""Ingest jobs: folder scans, the periodic rescan, and cleaning up abandoned uploads."""

from __future__ import annotations

import uuid
from typing import Any

from meadhall.library.ingest import repository
from meadhall.library.ingest.folders import SCAN_KIND, queue_scan, scan_folder
from meadhall.library.ingest.uploads import clean_uploads
from meadhall.library.settings import library_settings
from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.registry import job_kind


# Every later trigger (the watcher, the periodic rescan, an admin) runs a whole scan again,
# so one quick retry is enough; a long backoff would hold the folder's dedup key meanwhile.
@job_kind(SCAN_KIND, max_attempts=2, backoff_seconds=5.0)
async def scan_folder_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Reconcile one indexed folder with its assets (new, changed, removed files)."""
    await scan_folder(ctx.runtime, folder_id=uuid.UUID(payload["folder_id"]), progress=ctx.progress)


@job_kind("library.rescan_folders", cron="0 */6 * * *", max_attempts=1)
async def rescan_folders(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Queue a scan of every indexed folder: catches what a watcher missed (or had off)."""
    async with ctx.transaction() as session:
        for folder in await repository.all_folders(session):
            await queue_scan(session, folder=folder)


@job_kind("library.clean_uploads", cron="*/15 * * * *", max_attempts=3)
async def clean_uploads_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Remove expired resumable uploads and temp files left behind by crashes."""
    async with ctx.transaction() as session:
        report = await clean_uploads(session, settings=library_settings(ctx.runtime.settings))
    await ctx.progress(
        1.0, f"{report.expired} expired uploads, {report.stray_files} stray temp files removed"
    )
