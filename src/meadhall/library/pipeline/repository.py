"""SQL of the pipeline: the step rows of assets, and the sweep's searches for lost work."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
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


async def add_pending_steps(
    session: AsyncSession, *, asset_id: uuid.UUID, steps: Sequence[str]
) -> None:
    """Create the asset's rows of ``steps`` as ``pending``; rows that exist are left alone."""
    await session.execute(
        insert(AssetStep)
        .values(
            [{"asset_id": asset_id, "step": step, "status": StepStatus.PENDING} for step in steps]
        )
        .on_conflict_do_nothing(index_elements=[AssetStep.asset_id, AssetStep.step])
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


async def asset_steps(session: AsyncSession, *, asset_id: uuid.UUID) -> list[AssetStep]:
    """The asset's step rows, by step name."""
    rows = await session.scalars(
        select(AssetStep).where(AssetStep.asset_id == asset_id).order_by(AssetStep.step)
    )
    return list(rows.all())


def _no_pending_job() -> Any:
    # The processing job's dedup key is "asset:<id>" (``service.dedup_key``).
    return ~exists().where(
        Job.dedup_key == func.concat("asset:", cast(Asset.id, String)),
        Job.status.in_([status.value for status in PENDING_STATUSES]),
    )


async def assets_with_unfinished_steps(
    session: AsyncSession, *, cutoff: datetime, max_attempts: int, limit: int
) -> list[Asset]:
    """Assets not ``failed`` with a step, last changed before ``cutoff``, that is pending,
    failed fewer than ``max_attempts`` times, or skipped for want of a video decoder; and no
    processing job queued or running. By id."""
    unfinished = exists().where(
        AssetStep.asset_id == Asset.id,
        AssetStep.updated_at < cutoff,
        or_(
            AssetStep.status == StepStatus.PENDING,
            and_(
                AssetStep.status == StepStatus.FAILED,
                AssetStep.attempts < max_attempts,
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
