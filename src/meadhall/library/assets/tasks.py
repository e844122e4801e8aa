"""Periodic work of the assets domain: the trash empties itself after the retention period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from meadhall.library.assets import service
from meadhall.library.settings import library_settings
from meadhall.library.storage import LibraryStorage
from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.registry import job_kind

# Assets purged per transaction: short transactions, and progress that survives a crash.
BATCH = 200


@job_kind("library.empty_trash", cron="41 3 * * *", max_attempts=3)
async def empty_trash_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Daily: purge assets that have been in the trash longer than ``trash_retention_days``."""
    settings = library_settings(ctx.runtime.settings)
    storage = LibraryStorage(settings)
    older_than = timedelta(days=settings.trash_retention_days)
    purged = 0
    while True:
        async with ctx.transaction() as session:
            batch = await service.purge_expired_trash(
                session, older_than=older_than, storage=storage, limit=BATCH
            )
        purged += batch
        if batch < BATCH or ctx.should_stop():
            break
    await ctx.progress(1.0, f"{purged} assets purged from the trash")
