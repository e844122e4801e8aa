"""The missing-work sweep: lost jobs, retryable failures and deleted derivatives come back."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from meadhall.library.pipeline.repository import mark_steps_pending
from meadhall.library.storage import LibraryStorage
from meadhall.platform.runtime import Runtime
from tests.library.pipeline.conftest import (
    jobs_of,
    load_steps,
    run_sweep,
    store_pending,
    wait_processed,
)
from tests.library.pipeline.images import encode, picture, truncated_jpeg


async def _age_steps(runtime: Runtime, asset_id: uuid.UUID, minutes: int = 30) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(
            text(
                "UPDATE asset_steps SET updated_at = now() - make_interval(mins => :m) "
                "WHERE asset_id = :id"
            ),
            {"m": minutes, "id": asset_id},
        )


async def test_sweep_requeues_lost_and_missing_work(
    runtime: Runtime, owner: Any, worker: Any
) -> None:
    # Lost: the asset and its steps exist, but its job never made it.
    lost = await store_pending(
        runtime, owner_id=owner.id, data=encode(picture(seed=1), "JPEG"), queue=False
    )
    async with runtime.db.transaction() as session:
        await mark_steps_pending(session, asset_id=lost)
    # Recent: pending but young; the sweep leaves it to the queue.
    recent = await store_pending(
        runtime, owner_id=owner.id, data=encode(picture(seed=2), "JPEG"), queue=False
    )
    async with runtime.db.transaction() as session:
        await mark_steps_pending(session, asset_id=recent)
    done = await store_pending(runtime, owner_id=owner.id, data=encode(picture(seed=3), "PNG"))
    broken = await store_pending(runtime, owner_id=owner.id, data=truncated_jpeg())
    storage = LibraryStorage(runtime.settings)
    async with worker():
        await wait_processed(runtime, done, broken)
        await _age_steps(runtime, lost)
        await _age_steps(runtime, broken)
        thumbnail = storage.derivative_path(done, "thumbnail.webp")
        thumbnail.unlink()

        await run_sweep(runtime)
        lost_asset, _ = await wait_processed(runtime, lost, done)

    assert lost_asset.status == "ready"
    assert all(row.status == "done" for row in (await load_steps(runtime, lost)).values())
    # The deleted thumbnail was rebuilt by a second run.
    assert thumbnail.is_file()
    assert [job.status for job in await jobs_of(runtime, done)] == ["succeeded"] * 2
    # A file that cannot be decoded is final: never queued again.
    assert len(await jobs_of(runtime, broken)) == 1
    assert await jobs_of(runtime, recent) == []


async def test_failed_steps_are_retried_a_few_times_only(
    runtime: Runtime, owner: Any, worker: Any
) -> None:
    asset_id = await store_pending(runtime, owner_id=owner.id, data=encode(picture(), "JPEG"))
    async with worker():
        await wait_processed(runtime, asset_id)
        async with runtime.db.transaction() as session:
            await session.execute(
                text(
                    "UPDATE asset_steps SET status = 'failed', error = 'boom', attempts = 3 "
                    "WHERE asset_id = :id AND step = 'palette'"
                ),
                {"id": asset_id},
            )
        await _age_steps(runtime, asset_id)
        await run_sweep(runtime)
        assert len(await jobs_of(runtime, asset_id)) == 1  # out of retries: left alone
        async with runtime.db.transaction() as session:
            await session.execute(
                text("UPDATE asset_steps SET attempts = 1 WHERE asset_id = :id"),
                {"id": asset_id},
            )
        await _age_steps(runtime, asset_id)
        await run_sweep(runtime)
        await wait_processed(runtime, asset_id)
    steps = await load_steps(runtime, asset_id)
    assert steps["palette"].status == "done" and steps["palette"].attempts == 0
    assert len(await jobs_of(runtime, asset_id)) == 2
