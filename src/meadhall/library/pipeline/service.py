"""Queuing an asset's processing, and which assets the missing-work sweep takes up again.

Functions take the caller's session and only flush. The step rows are what the missing-work
sweep reads: a step left ``pending`` (its job was lost) or ``failed`` (a retry may help) for a
while, with no job on the way, gets its asset queued again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.models import Asset
from meadhall.library.pipeline import repository
from meadhall.library.pipeline.analysis import STEPS
from meadhall.platform.jobs.models import Job
from meadhall.platform.jobs.service import enqueue

PROCESS_KIND = "library.process_asset"
SWEEP_KIND = "library.sweep_missing"
# A failed step is retried by the sweep at most this many times (runs, not sweeps).
MAX_STEP_ATTEMPTS = 3


def dedup_key(asset_id: uuid.UUID) -> str:
    """The one key that keeps a single processing job per asset queued or running."""
    return f"asset:{asset_id}"


async def queue_processing(session: AsyncSession, *, asset: Asset, force: bool = False) -> Job:
    """Queue ``library.process_asset`` for ``asset`` in the caller's transaction.

    Creates the asset's step rows (``pending``) when they do not exist yet. An identical job
    already queued or running is returned instead of a second one. ``force`` re-runs every
    step even when the asset looks complete.
    """
    if asset.id is None:
        await session.flush()
    await repository.add_pending_steps(session, asset_id=asset.id, steps=STEPS)
    payload: dict[str, Any] = {"asset_id": str(asset.id)}
    if force:
        payload["force"] = True
    return await enqueue(
        session,
        kind=PROCESS_KIND,
        payload=payload,
        owner_id=asset.owner_id,
        dedup_key=dedup_key(asset.id),
    )


async def assets_with_unfinished_steps(
    session: AsyncSession, *, older_than: timedelta, limit: int
) -> list[Asset]:
    """Assets with a step pending or failed (retries left) for a while and no job on the way.

    Videos stored while the server had no video decoder (their steps skipped for that reason)
    come back once too, to get their poster. Assets whose original could not be decoded are
    final and never come back here.
    """
    return await repository.assets_with_unfinished_steps(
        session,
        cutoff=datetime.now(UTC) - older_than,
        max_attempts=MAX_STEP_ATTEMPTS,
        limit=limit,
    )
