"""All eight EXIF orientations: derivatives show the picture upright, sizes as displayed."""

from __future__ import annotations

from typing import Any

from PIL import Image

from meadhall.library.storage import LibraryStorage
from meadhall.platform.runtime import Runtime
from tests.library.pipeline.conftest import store_pending, wait_processed
from tests.library.pipeline.images import oriented_jpeg, picture


def _is_red(pixel: Any) -> bool:
    red, green, blue = pixel
    return bool(red > 170 and green < 90 and blue < 90)


def _is_blue(pixel: Any) -> bool:
    red, _, blue = pixel
    return bool(blue > 160 and red < 90)


async def test_every_orientation_ends_upright(runtime: Runtime, owner: Any, worker: Any) -> None:
    # 900x600 as displayed; a red block marks the top-left corner, blue elsewhere.
    displayed = Image.new("RGB", (900, 600), (20, 40, 220))
    displayed.paste((230, 20, 20), (0, 0, 300, 200))
    ids = {
        orientation: await store_pending(
            runtime,
            owner_id=owner.id,
            data=oriented_jpeg(orientation, displayed),
            filename=f"turned-{orientation}.jpg",
        )
        for orientation in range(1, 9)
    }
    async with worker():
        assets = await wait_processed(runtime, *ids.values())
    storage = LibraryStorage(runtime.settings)
    for orientation, asset in zip(ids, assets, strict=True):
        assert asset.status == "ready", asset.error
        assert (asset.width, asset.height) == (900, 600), orientation
        for name, size in (("thumbnail.webp", (256, 171)), ("preview.webp", (900, 600))):
            with Image.open(storage.derivative_path(asset.id, name)) as image:
                rgb = image.convert("RGB")
            assert rgb.size == size, (orientation, name)
            width, height = rgb.size
            top_left = rgb.getpixel((width // 12, height // 12))
            others = [
                rgb.getpixel((width - width // 12, height // 12)),
                rgb.getpixel((width // 12, height - height // 12)),
                rgb.getpixel((width - width // 12, height - height // 12)),
            ]
            assert _is_red(top_left), (orientation, name, top_left)
            assert all(_is_blue(pixel) for pixel in others), (orientation, name, others)


async def test_stored_pixels_really_are_turned(runtime: Runtime) -> None:
    """The fixtures are honest: without applying EXIF, orientation 6 puts the marker elsewhere."""
    import io

    raw = Image.open(io.BytesIO(oriented_jpeg(6, picture(900, 600))))
    assert raw.size == (600, 900)
    assert not _is_red(raw.convert("RGB").getpixel((20, 20)))


async def test_render_derivative_rebuilds_an_upright_file(
    runtime: Runtime, owner: Any, worker: Any
) -> None:
    import asyncio
    import io

    import pytest

    from meadhall.library.pipeline.decode import DecodeError
    from meadhall.library.pipeline.derivatives import render_derivative
    from tests.library.pipeline.conftest import load_asset

    asset_id = await store_pending(
        runtime, owner_id=owner.id, data=oriented_jpeg(8, picture(1800, 1200)), filename="r.jpg"
    )
    async with worker():
        await wait_processed(runtime, asset_id)
    asset = await load_asset(runtime, asset_id)
    path = LibraryStorage(runtime.settings).original_path(asset.storage_path)
    for name, size in (("thumbnail.webp", (256, 171)), ("preview.webp", (1440, 960))):
        data = await asyncio.to_thread(render_derivative, asset, path, name)
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "WEBP" and image.size == size
            assert _is_red(image.convert("RGB").getpixel((10, 10)))
    with pytest.raises(KeyError):
        render_derivative(asset, path, "poster.webp")
    # A picture taken for a video is not opened as one.
    asset.media = "video"
    with pytest.raises(DecodeError, match="not a video"):
        render_derivative(asset, path, "thumbnail.webp")
