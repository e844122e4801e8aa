"""Every supported format goes through the real job engine and ends ready with its files."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from meadhall.library.storage import LibraryStorage
from meadhall.platform.runtime import Runtime
from tests.library.pipeline.conftest import jobs_of, load_steps, store_pending, wait_processed
from tests.library.pipeline.images import animated_gif, encode, mpo, picture

FORMATS: dict[str, tuple[str, bytes]] = {
    "jpeg": ("photo.jpg", encode(picture(2000, 1500), "JPEG", quality=90)),
    "png": ("drawing.png", encode(picture(640, 480), "PNG")),
    "webp": ("web.webp", encode(picture(640, 480), "WEBP")),
    "avif": ("modern.avif", encode(picture(640, 480), "AVIF")),
    "heic": ("phone.heic", encode(picture(640, 480), "HEIF")),
    "tiff": ("scan.tiff", encode(picture(640, 480), "TIFF")),
    "gif": ("still.gif", encode(picture(640, 480), "GIF")),
    "animated-gif": ("loop.gif", animated_gif(frames=4, size=300)),
    "animated-webp": ("loop.webp", b""),
    "mpo": ("stereo.mpo", mpo(640, 480)),
}


def _animated_webp() -> bytes:
    frames = [Image.new("RGB", (200, 120), (40 * i, 80, 160)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return out.getvalue()


FORMATS["animated-webp"] = ("loop.webp", _animated_webp())


def _webp(path: Any) -> Image.Image:
    with Image.open(path) as image:
        assert image.format == "WEBP"
        image.load()
        return image


async def test_every_format_is_processed(runtime: Runtime, owner: Any, worker: Any) -> None:
    ids = {
        name: await store_pending(runtime, owner_id=owner.id, data=data, filename=filename)
        for name, (filename, data) in FORMATS.items()
    }
    async with worker():
        assets = dict(zip(ids, await wait_processed(runtime, *ids.values()), strict=True))
    storage = LibraryStorage(runtime.settings)
    for name, asset in assets.items():
        assert asset.status == "ready", (name, asset.error)
        assert asset.error is None
        steps = await load_steps(runtime, asset.id)
        assert {step: row.status for step, row in steps.items() if row.status != "done"} == {}, name
        thumbnail = _webp(storage.derivative_path(asset.id, "thumbnail.webp"))
        preview = _webp(storage.derivative_path(asset.id, "preview.webp"))
        assert max(thumbnail.size) == min(256, max(asset.width, asset.height)), name
        # Never upscaled: small originals keep their size in the preview.
        assert max(preview.size) == min(1440, max(asset.width, asset.height)), name
        assert asset.placeholder and len(asset.placeholder) < 100
        assert asset.palette and all(c.startswith("#") and len(c) == 7 for c in asset.palette)
        assert isinstance(asset.phash, int) and isinstance(asset.dhash, int)
        assert -(2**63) <= asset.phash < 2**63
        assert asset.quality is not None and 0 <= asset.quality <= 1
        assert asset.capture_tz_source == "server_default"
        # Processed once, by one successful job.
        assert [job.status for job in await jobs_of(runtime, asset.id)] == ["succeeded"]

    assert (assets["jpeg"].width, assets["jpeg"].height) == (2000, 1500)
    assert max(_webp(storage.derivative_path(assets["jpeg"].id, "preview.webp")).size) == 1440
    for name in ("png", "webp", "avif", "heic", "tiff", "gif", "mpo"):
        assert (assets[name].width, assets[name].height, assets[name].media) == (640, 480, "image")
        assert assets[name].frame_count == 1
        # The red marker stays top-left and the blue ground dominates the palette.
        thumb = _webp(storage.derivative_path(assets[name].id, "thumbnail.webp")).convert("RGB")
        red, _, blue = thumb.getpixel((8, 8))  # type: ignore[misc]
        assert red > 150 and blue < 100, name
    gif = assets["animated-gif"]
    assert (gif.media, gif.frame_count, gif.duration_ms) == ("animation", 4, 480)
    webp = assets["animated-webp"]
    assert (webp.media, webp.frame_count, webp.width, webp.height) == ("animation", 3, 200, 120)
    assert webp.duration_ms == 150
    assert assets["heic"].exif is not None and assets["heic"].exif["format"] == "HEIF"
    assert assets["mpo"].exif is not None and assets["mpo"].exif["format"] == "MPO"


async def test_processing_is_announced(
    runtime: Runtime, owner: Any, worker: Any, recording_bus: Any
) -> None:
    asset_id = await store_pending(
        runtime, owner_id=owner.id, data=encode(picture(), "PNG"), filename="a.png"
    )
    async with worker():
        await wait_processed(runtime, asset_id)
    processed = [
        (topic, data)
        for topic, kind, data in recording_bus.events
        if kind == "asset.processed" and data["id"] == str(asset_id)
    ]
    assert len(processed) == 1
    topic, data = processed[0]
    assert topic == f"library:{owner.id}"
    assert data["status"] == "ready" and data["width"] == 640 and data["placeholder"]


async def test_a_second_delivery_of_finished_work_does_nothing(
    runtime: Runtime, owner: Any, worker: Any
) -> None:
    from meadhall.library.models import Asset
    from meadhall.library.pipeline.service import queue_processing

    asset_id = await store_pending(
        runtime, owner_id=owner.id, data=encode(picture(), "JPEG"), filename="b.jpg"
    )
    async with worker():
        (first,) = await wait_processed(runtime, asset_id)
        async with runtime.db.transaction() as session:
            asset = await session.get(Asset, asset_id)
            assert asset is not None
            await queue_processing(session, asset=asset)
        await wait_processed(runtime, asset_id)
    again = await wait_processed(runtime, asset_id)
    assert [job.status for job in await jobs_of(runtime, asset_id)] == ["succeeded"] * 2
    # Nothing was rewritten by the no-op run.
    assert again[0].updated_at == first.updated_at
