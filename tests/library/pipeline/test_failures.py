"""Broken, hostile and unsupported files end failed with a reason; the worker carries on."""

from __future__ import annotations

from typing import Any

from meadhall.library.storage import LibraryStorage
from meadhall.platform.runtime import Runtime
from tests.library.pipeline.conftest import jobs_of, load_steps, store_pending, wait_processed
from tests.library.pipeline.images import encode, mp4_head, picture, png_bomb, truncated_jpeg

BAD_FILES: dict[str, tuple[str, bytes, str]] = {
    "truncated": ("cut.jpg", truncated_jpeg(), "truncated"),
    "empty": ("empty.jpg", b"", "empty"),
    "text": ("notes.jpg", b"These are the session notes, not a picture.\n" * 20, "not an image"),
    "bomb": ("bomb.png", png_bomb(), "too large to decode safely"),
    "huge-but-honest-header": ("wide.png", png_bomb(30_000, 30_000), "too large"),
}


async def test_bad_files_fail_cleanly_while_others_go_on(
    runtime: Runtime, owner: Any, worker: Any
) -> None:
    good_before = await store_pending(
        runtime, owner_id=owner.id, data=encode(picture(seed=1), "JPEG"), filename="a.jpg"
    )
    bad = {
        name: await store_pending(runtime, owner_id=owner.id, data=data, filename=filename)
        for name, (filename, data, _) in BAD_FILES.items()
    }
    good_after = await store_pending(
        runtime, owner_id=owner.id, data=encode(picture(seed=2), "PNG"), filename="b.png"
    )
    async with worker(concurrency=1):
        await wait_processed(runtime, good_before, *bad.values(), good_after)
        # The same worker still works afterwards.
        later = await store_pending(
            runtime, owner_id=owner.id, data=encode(picture(seed=3), "WEBP"), filename="c.webp"
        )
        (still_working,) = await wait_processed(runtime, later)
    assert still_working.status == "ready"
    for asset_id in (good_before, good_after):
        (asset,) = await wait_processed(runtime, asset_id)
        assert asset.status == "ready", asset.error
    storage = LibraryStorage(runtime.settings)
    for name, asset_id in bad.items():
        (asset,) = await wait_processed(runtime, asset_id)
        expected = BAD_FILES[name][2]
        assert asset.status == "failed", name
        assert asset.error is not None and expected in asset.error, (name, asset.error)
        steps = await load_steps(runtime, asset_id)
        assert steps["decode"].status == "failed" and steps["decode"].error == asset.error
        assert {row.status for step, row in steps.items() if step != "decode"} == {"skipped"}
        # A final answer, not a crash: one successful job run, no retries.
        jobs = await jobs_of(runtime, asset_id)
        assert [(job.status, job.attempts) for job in jobs] == [("succeeded", 1)], name
        assert not storage.derivative_path(asset_id, "thumbnail.webp").exists()


async def test_missing_original_fails_with_a_reason(
    runtime: Runtime, owner: Any, worker: Any
) -> None:
    asset_id = await store_pending(
        runtime, owner_id=owner.id, data=encode(picture(), "JPEG"), filename="gone.jpg"
    )
    storage = LibraryStorage(runtime.settings)
    (await _storage_path(runtime, asset_id, storage)).unlink()
    async with worker():
        (asset,) = await wait_processed(runtime, asset_id)
    assert asset.status == "failed"
    assert asset.error == "the original file is missing"


async def test_video_without_frames_fails_with_a_reason(
    runtime: Runtime, owner: Any, worker: Any
) -> None:
    asset_id = await store_pending(
        runtime, owner_id=owner.id, data=mp4_head() + b"\x00" * 4096, filename="clip.mp4"
    )
    async with worker():
        (asset,) = await wait_processed(runtime, asset_id)
    assert asset.status == "failed" and asset.media == "video"
    assert asset.error is not None and "damaged or truncated" in asset.error
    steps = await load_steps(runtime, asset_id)
    assert steps["decode"].status == "failed" and steps["decode"].error == asset.error
    assert {row.status for step, row in steps.items() if step != "decode"} == {"skipped"}
    assert [(job.status, job.attempts) for job in await jobs_of(runtime, asset_id)] == [
        ("succeeded", 1)
    ]


async def _storage_path(runtime: Runtime, asset_id: Any, storage: LibraryStorage) -> Any:
    from tests.library.pipeline.conftest import load_asset

    asset = await load_asset(runtime, asset_id)
    return storage.original_path(asset.storage_path)
