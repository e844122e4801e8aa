"""Queuing an asset's processing and recording what each step did.

Functions take the caller's session and only flush. The step rows are what the missing-work
sweep reads: a step left ``pending`` (its job was lost) or ``failed`` (a retry may help) for a
while, with no job on the way, gets its asset queued again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.models import Asset, AssetStatus, AssetStep, MediaKind, StepStatus
from meadhall.library.pipeline.analysis import (
    DERIVATIVE_STEPS,
    NO_VIDEO_DECODER,
    STEPS,
    StepOutcome,
)
from meadhall.platform.jobs.models import PENDING_STATUSES, Job
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
    await session.execute(
        insert(AssetStep)
        .values(
            [{"asset_id": asset.id, "step": step, "status": StepStatus.PENDING} for step in STEPS]
        )
        .on_conflict_do_nothing(index_elements=[AssetStep.asset_id, AssetStep.step])
    )
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


async def mark_steps_pending(
    session: AsyncSession, *, asset_id: uuid.UUID, steps: Sequence[str] = STEPS
) -> None:
    """Set ``steps`` of the asset back to ``pending`` (creating missing rows)."""
    statement = insert(AssetStep).values(
        [{"asset_id": asset_id, "step": step, "status": StepStatus.PENDING} for step in steps]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[AssetStep.asset_id, AssetStep.step],
            set_={"status": StepStatus.PENDING, "error": None, "updated_at": func.now()},
        )
    )


async def record_steps(
    session: AsyncSession, *, asset_id: uuid.UUID, outcomes: Mapping[str, StepOutcome]
) -> None:
    """Store each step's outcome; a failure counts one more attempt, success resets the count."""
    if not outcomes:
        return
    statement = insert(AssetStep).values(
        [
            {
                "asset_id": asset_id,
                "step": step,
                "status": outcome.status,
                "error": outcome.error,
                "attempts": 1 if outcome.status == StepStatus.FAILED else 0,
            }
            for step, outcome in outcomes.items()
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[AssetStep.asset_id, AssetStep.step],
            set_={
                "status": statement.excluded.status,
                "error": statement.excluded.error,
                "attempts": case(
                    (
                        statement.excluded.status == StepStatus.FAILED,
                        AssetStep.attempts + 1,
                    ),
                    else_=0,
                ),
                "updated_at": func.now(),
            },
        )
    )


async def step_states(session: AsyncSession, *, asset_id: uuid.UUID) -> dict[str, AssetStep]:
    """The asset's step rows by step name."""
    rows = await session.scalars(select(AssetStep).where(AssetStep.asset_id == asset_id))
    return {row.step: row for row in rows}


def _no_pending_job() -> Any:
    return ~exists().where(
        Job.dedup_key == func.concat("asset:", cast(Asset.id, String)),
        Job.status.in_([status.value for status in PENDING_STATUSES]),
    )


async def assets_with_unfinished_steps(
    session: AsyncSession, *, older_than: timedelta, limit: int
) -> list[Asset]:
    """Assets with a step pending or failed (retries left) for a while and no job on the way.

    Videos stored while the server had no video decoder (their steps skipped for that reason)
    come back once too, to get their poster. Assets whose original could not be decoded are
    final and never come back here.
    """
    cutoff = datetime.now(UTC) - older_than
    unfinished = exists().where(
        AssetStep.asset_id == Asset.id,
        AssetStep.updated_at < cutoff,
        or_(
            AssetStep.status == StepStatus.PENDING,
            and_(
                AssetStep.status == StepStatus.FAILED,
                AssetStep.attempts < MAX_STEP_ATTEMPTS,
            ),
            and_(
                AssetStep.status == StepStatus.SKIPPED,
                AssetStep.error == NO_VIDEO_DECODER,
            ),
        ),
    )
    query = (
        select(Asset)
        .where(Asset.status != AssetStatus.FAILED, unfinished, _no_pending_job())
        .order_by(Asset.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def assets_with_derivatives(
    session: AsyncSession, *, after: uuid.UUID | None, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``(id, owner_id)`` of ready assets whose derivative steps are done, by id (keyset)."""
    not_done = exists().where(
        AssetStep.asset_id == Asset.id,
        AssetStep.step.in_(list(DERIVATIVE_STEPS)),
        AssetStep.status != StepStatus.DONE,
    )
    query = (
        select(Asset.id, Asset.owner_id)
        .where(
            Asset.status == AssetStatus.READY,
            Asset.media.in_([MediaKind.IMAGE, MediaKind.ANIMATION, MediaKind.VIDEO]),
            ~not_done,
        )
        .order_by(Asset.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Asset.id > after)
    return [(row[0], row[1]) for row in await session.execute(query)]
