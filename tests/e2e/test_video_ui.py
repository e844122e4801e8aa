"""A video in the browser: its poster and duration on the timeline, and it plays in the viewer."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import av
import numpy as np
from playwright.sync_api import expect

from tests.e2e.library import LibraryServer

SIZE = (160, 120)


def webm(seconds: int = 3, fps: int = 10) -> bytes:
    """A real VP8 WebM: teal frames with a light band, so the poster is not flat."""
    width, height = SIZE
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        for index in range(seconds * fps):
            pixels = np.zeros((height, width, 3), np.uint8)
            pixels[:, :] = (20, 140, 150)
            band = (index * 4) % (height - 10)
            pixels[band : band + 10, :] = (230, 230, 200)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def test_a_video_shows_its_poster_and_plays(
    library: LibraryServer, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    (video_id,) = library.upload(("harbour-walk.webm", webm()))
    library.wait_processed([video_id])
    with library.api() as client:
        asset = client.get(f"/api/library/assets/{video_id}").json()
    assert (asset["status"], asset["media"], asset["width"], asset["height"]) == (
        "ready",
        "video",
        *SIZE,
    )

    page = library.open(open_page)
    tile = page.locator(f'a.tile[data-asset-id="{video_id}"]')
    # The poster is the tile's thumbnail, and the badge says it plays and for how long.
    expect(tile).to_have_class(re.compile(r"\btile--video\b"))
    expect(tile).to_have_class(re.compile(r"\bis-loaded\b"))
    expect(tile.locator(".tile__badge--video")).to_have_text("0:03")
    assert "data:image/png" in tile.evaluate("t => t.style.backgroundImage")

    tile.click()
    player = page.locator("[data-viewer] video")
    expect(player).to_have_attribute("src", f"/api/library/assets/{video_id}/original")
    # The browser reads the stored file and can show its frames.
    page.wait_for_function(
        """() => {
            const video = document.querySelector("[data-viewer] video");
            return video && video.readyState >= 2 && video.videoWidth === 160;
        }"""
    )
    # Unlike a photo, a small video is scaled up to the screen (keeping its proportions).
    box = player.bounding_box()
    assert box is not None and box["width"] > 600, box
    assert abs(box["width"] / box["height"] - 160 / 120) < 0.02, box
    duration = player.evaluate("video => video.duration")
    assert 2.5 < duration < 3.5, duration
    screenshot(page, "viewer-video", desktop_only=True)
    page.keyboard.press("Escape")
    expect(page.locator("[data-viewer]")).to_have_count(0)
