"""Videos: uploaded through the API, processed by the real worker into a poster and metadata.

The clips are made here with PyAV. Each is 2 s at 10 fps: red for 0.2 s, black for 0.3 s,
then blue, with a white square in the top-left corner of every frame that is not black. The
poster is aimed at 0.2 s (10 % of 2 s comes before 1 s) and passes over the black frames, so
a blue poster with its square where it belongs shows the right frame was drawn upright.
"""

from __future__ import annotations

import asyncio
import io
import math
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import av
import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import text

from meadhall.library.pipeline.analysis import (
    HASHES,
    NO_VIDEO_DECODER,
    NOT_FOR_VIDEO,
    QUALITY,
    STEPS,
)
from meadhall.library.pipeline.decode import DecodeError
from meadhall.library.pipeline.derivatives import render_derivative
from meadhall.library.pipeline.video import (
    display_rotation,
    open_video,
    parse_iso6709,
    read_video_metadata,
    turn_upright,
)
from meadhall.library.storage import LibraryStorage
from meadhall.platform.runtime import Runtime
from tests.library.pipeline.conftest import (
    jobs_of,
    load_asset,
    load_steps,
    run_sweep,
    wait_processed,
)

UPLOAD = "/api/library/assets"
RED = (220, 30, 30)
BLUE = (30, 40, 220)
WHITE = (255, 255, 255)
RECORDED = "2023-06-01T12:34:56.000000Z"
RECORDED_AT = datetime(2023, 6, 1, 12, 34, 56, tzinfo=UTC)
# Every step runs on the poster but the ones that judge a still picture.
EXPECTED_STEPS = {
    **{step: ("done", None) for step in STEPS},
    HASHES: ("skipped", NOT_FOR_VIDEO),
    QUALITY: ("skipped", NOT_FOR_VIDEO),
}


Pixels = np.ndarray[Any, np.dtype[np.uint8]]


def _frame(index: int, width: int, height: int) -> Pixels:
    pixels = np.zeros((height, width, 3), np.uint8)
    if 2 <= index < 5:
        return pixels  # fully black: a fade the poster must pass over
    pixels[:, :] = RED if index < 2 else BLUE
    pixels[: height // 4, : width // 4] = WHITE
    return pixels


def clip(
    fmt: str,
    codec: str,
    *,
    size: tuple[int, int] = (320, 240),
    frames: int = 20,
    rotation: float | None = None,
    tags: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
    paint: Callable[[int, int, int], Pixels] = _frame,
) -> bytes:
    """A 10 fps video in container ``fmt`` (see the module's docstring for its pictures)."""
    width, height = size
    out = io.BytesIO()
    with av.open(out, "w", format=fmt, options=options or {}) as container:
        container.metadata.update(tags or {})
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for index in range(frames):
            picture = av.VideoFrame.from_ndarray(paint(index, width, height), format="rgb24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    return out.getvalue()


def _near(pixel: Any, colour: tuple[int, int, int], tolerance: int = 45) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def _derivative(runtime: Runtime, asset_id: uuid.UUID, name: str) -> Image.Image:
    path = LibraryStorage(runtime.settings).derivative_path(asset_id, name)
    with Image.open(path) as image:
        assert image.format == "WEBP"
        return image.convert("RGB")


def _assert_upright_poster(image: Image.Image, *, portrait: bool = False) -> None:
    """Blue, with the white square top-left (top-right once a portrait clip is turned)."""
    width, height = image.size
    assert (height > width) == portrait, image.size
    assert _near(image.getpixel((width * 3 // 4, height * 3 // 4)), BLUE)
    marker = (width - width // 10, height // 10) if portrait else (width // 10, height // 10)
    assert _near(image.getpixel(marker), WHITE)
    assert _near(image.getpixel((width // 10, height - height // 10)), BLUE)


async def _upload(
    client: httpx.AsyncClient, user: Any, files: dict[str, tuple[bytes, str]]
) -> dict[str, uuid.UUID]:
    response = await client.post(
        UPLOAD,
        files=[("files", (name, data, mime)) for name, (data, mime) in files.items()],
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["created"] == len(files), report
    return {item["filename"]: uuid.UUID(item["asset"]["id"]) for item in report["files"]}


async def test_videos_get_a_poster_size_and_duration(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, worker: Any
) -> None:
    user = await make_user()
    ids = await _upload(
        client,
        user,
        {
            "clip.mp4": (clip("mp4", "mpeg4"), "video/mp4"),
            "clip.mov": (clip("mov", "mjpeg"), "video/quicktime"),
            "clip.webm": (clip("webm", "libvpx"), "video/webm"),
        },
    )
    async with worker():
        assets = await wait_processed(runtime, *ids.values())
    for name, asset in zip(ids, assets, strict=True):
        assert asset.status == "ready", (name, asset.error)
        assert (asset.media, asset.width, asset.height) == ("video", 320, 240), name
        assert asset.duration_ms == 2000, name
        steps = await load_steps(runtime, asset.id)
        assert {step: (row.status, row.error) for step, row in steps.items()} == EXPECTED_STEPS
        thumbnail = _derivative(runtime, asset.id, "thumbnail.webp")
        assert thumbnail.size == (256, 192), name
        _assert_upright_poster(thumbnail)
        # Never upscaled: the preview keeps the video's own size.
        preview = _derivative(runtime, asset.id, "preview.webp")
        assert preview.size == (320, 240), name
        _assert_upright_poster(preview)
        assert asset.placeholder and len(asset.placeholder) < 100
        assert asset.palette and asset.palette[0].startswith("#")
        red, green, blue = (int(asset.palette[0][i : i + 2], 16) for i in (1, 3, 5))
        assert blue > 150 and red < 100 and green < 100, (name, asset.palette)
        assert asset.phash is None and asset.quality is None
        assert asset.exif is not None and asset.exif["frame_rate"] == 10.0
        # No recording time in these files: the upload time places them, as for photos.
        assert asset.captured_at is None and asset.capture_tz_source == "server_default"
        assert [job.status for job in await jobs_of(runtime, asset.id)] == ["succeeded"]
    mp4, mov, webm = assets
    assert mp4.exif == {"container": "mp4", "codec": "mpeg4", "frame_rate": 10.0}
    assert mp4.frame_count == 20
    assert mov.exif is not None and (mov.exif["container"], mov.exif["codec"]) == (
        "quicktime",
        "mjpeg",
    )
    assert webm.exif is not None and (webm.exif["container"], webm.exif["codec"]) == (
        "matroska",
        "vp8",
    )


async def test_portrait_phone_video_with_camera_place_and_time(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, worker: Any
) -> None:
    user = await make_user()
    # As a phone records portrait: landscape frames, and a display matrix that turns them a
    # quarter clockwise (FFmpeg reads such a matrix as -90 degrees).
    phone = clip(
        "mov",
        "mjpeg",
        rotation=-90,
        tags={
            "creation_time": RECORDED,
            "com.apple.quicktime.make": "Apple",
            "com.apple.quicktime.model": "iPhone 15",
            "com.apple.quicktime.location.ISO6709": "+48.8566+002.3522+035.000/",
            "com.apple.quicktime.creationdate": "2023-06-01T14:34:56+0200",
        },
        options={"movflags": "use_metadata_tags"},
    )
    # A camera that only writes the recording instant (UTC) and a position.
    camera = clip(
        "mp4", "mpeg4", tags={"creation_time": RECORDED, "location": "-33.8688+151.2093/"}
    )
    plain = clip("mp4", "mpeg4", frames=19, tags={"creation_time": RECORDED})
    ids = await _upload(
        client,
        user,
        {
            "portrait.mov": (phone, "video/quicktime"),
            "sydney.mp4": (camera, "video/mp4"),
            "plain.mp4": (plain, "video/mp4"),
        },
    )
    async with worker():
        portrait, sydney, bare = await wait_processed(runtime, *ids.values())

    assert portrait.status == "ready", portrait.error
    assert (portrait.width, portrait.height) == (240, 320)
    thumbnail = _derivative(runtime, portrait.id, "thumbnail.webp")
    assert thumbnail.size == (192, 256)
    _assert_upright_poster(thumbnail, portrait=True)
    assert portrait.exif is not None and portrait.exif["rotation"] == 90
    assert (portrait.camera_make, portrait.camera_model) == ("Apple", "iPhone 15")
    assert portrait.latitude == 48.8566 and portrait.longitude == 2.3522
    assert portrait.altitude == 35.0
    assert (portrait.country_code, portrait.city) == ("FR", "Paris")
    # The phone's local date with its offset: the exact instant and the wall time.
    assert portrait.capture_tz_source == "exif_offset"
    assert portrait.capture_tz == "Europe/Paris"
    assert portrait.captured_local == datetime(2023, 6, 1, 14, 34, 56)
    assert portrait.captured_at == RECORDED_AT
    assert portrait.sort_at == RECORDED_AT

    # creation_time is the instant; the position's zone gives the local wall time.
    assert sydney.status == "ready", sydney.error
    assert sydney.captured_at == RECORDED_AT
    assert (sydney.capture_tz_source, sydney.capture_tz) == ("gps", "Australia/Sydney")
    assert sydney.captured_local == datetime(2023, 6, 1, 22, 34, 56)
    assert (sydney.country_code, sydney.city) == ("AU", "Sydney")
    assert sydney.camera_make is None

    # No position: the instant is kept, shown in the server's zone (UTC in the tests).
    assert bare.captured_at == RECORDED_AT
    assert (bare.capture_tz_source, bare.capture_tz) == ("server_default", "UTC")
    assert bare.local_at == datetime(2023, 6, 1, 12, 34, 56)
    assert bare.duration_ms == 1900


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+48.8577+002.2950+035.000/", (48.8577, 2.295, 35.0)),
        ("-33.8688+151.2093/", (-33.8688, 151.2093, None)),
        ("+40.7484-073.9857+010.123/", (40.7484, -73.9857, 10.12)),
        ("+27.5916+086.5640+8850CRSWGS_84/", (27.5916, 86.564, 8850.0)),
        # Degrees and minutes, then degrees, minutes and seconds, run together.
        ("+4851.462+00217.700/", (48.8577, 2.2950, None)),
        ("-335207.68+1511233.48/", (-33.8688, 151.2093, None)),
        ("  +35.6895+139.6917/ ", (35.6895, 139.6917, None)),
        ("+00.0000+000.0000/", None),
        ("+91.0000+000.0000/", None),
        ("+48.8577/", None),
        ("+4870.000+00217.700/", None),
        ("48.8577,2.2950", None),
        ("", None),
        (None, None),
    ],
)
def test_iso6709_locations(value: str | None, expected: Any) -> None:
    parsed = parse_iso6709(value)
    if expected is None:
        assert parsed is None
        return
    assert parsed is not None
    for got, want in zip(parsed[:2], expected[:2], strict=True):
        assert math.isclose(got, want, abs_tol=1e-4), (value, parsed)
    assert parsed[2] == expected[2]


def test_rotation_helper() -> None:
    # FFmpeg's matrix angle is counter-clockwise; players turn by its negation.
    assert display_rotation(-90) == 90
    assert display_rotation(90) == 270
    assert display_rotation(180) == 180 and display_rotation(-180) == 180
    assert display_rotation(-89.6) == 90
    assert display_rotation(0) == 0
    assert display_rotation(float("nan")) == 0
    # The old ``rotate`` tag is already clockwise; the matrix wins when both are there.
    assert display_rotation(0, "90") == 90
    assert display_rotation(0, "270") == 270
    assert display_rotation(0, "sideways") == 0
    assert display_rotation(-180, "90") == 180
    landscape = Image.new("RGB", (40, 30), BLUE)
    landscape.paste(WHITE, (0, 0, 10, 10))
    turned = turn_upright(landscape, 90)
    assert turned.size == (30, 40)
    assert turned.getpixel((29, 0)) == WHITE and turned.getpixel((0, 0)) == BLUE
    assert turn_upright(landscape, 0) is landscape


def test_container_tags_case_and_junk() -> None:
    meta = read_video_metadata(
        {
            "creation_time": "1904-01-01T00:00:00.000000Z",
            "com.apple.quicktime.make": "  \x00",
            "make": "Google",
            "model": "Pixel 8",
            "location": "+91.0000+000.0000/",
            "com.apple.quicktime.creationdate": "yesterday",
        }
    )
    assert (meta.camera_make, meta.camera_model) == ("Google", "Pixel 8")
    assert meta.latitude is None and meta.created_at is None and meta.taken is None
    naive = read_video_metadata({"creation_time": "2024-02-03 04:05:06"})
    assert naive.created_at == datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_limits_and_fallbacks() -> None:
    data = clip("mp4", "mpeg4", size=(160, 120))
    with pytest.raises(DecodeError, match="too large to decode safely"):
        open_video(data, max_pixels=160 * 120 - 1, target=256)
    with pytest.raises(DecodeError, match="not a video"):
        open_video(b"\x89PNG\r\n\x1a\n" + bytes(100), max_pixels=10**8, target=256)
    # One frame, shorter than the poster's aim: that frame is the poster.
    single = open_video(clip("mp4", "mpeg4", frames=1), max_pixels=10**8, target=256)
    assert single.duration_ms == 100 and _near(single.poster.getpixel((200, 150)), RED)
    # All black: a black frame is kept rather than nothing.
    black = clip("webm", "libvpx", frames=5, paint=lambda _, w, h: np.zeros((h, w, 3), np.uint8))
    dark = open_video(black, max_pixels=10**8, target=64)
    assert dark.poster.size == (64, 48) and max(dark.poster.getextrema()[0]) < 40


async def test_broken_videos_fail_with_a_reason_and_stay_listed(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, worker: Any
) -> None:
    user = await make_user()
    whole = clip("mp4", "mpeg4")
    webm = clip("webm", "libvpx")
    files = {
        # FFmpeg writes the index (moov) last: half a file has none.
        "cut.mp4": (whole[: len(whole) // 2], "video/mp4"),
        "noise.mp4": (whole[:32] + os.urandom(8000), "video/mp4"),
        # Headers intact, but the frames are gone.
        "cut.webm": (webm[: len(webm) // 3], "video/webm"),
    }
    ids = await _upload(client, user, files)
    async with worker(concurrency=1):
        assets = await wait_processed(runtime, *ids.values())
    storage = LibraryStorage(runtime.settings)
    for name, asset in zip(ids, assets, strict=True):
        assert asset.status == "failed" and asset.media == "video", name
        assert asset.error is not None, name
        assert "truncated or damaged" in asset.error or "damaged or truncated" in asset.error, (
            name,
            asset.error,
        )
        steps = await load_steps(runtime, asset.id)
        assert steps["decode"].status == "failed" and steps["decode"].error == asset.error
        assert {row.status for step, row in steps.items() if step != "decode"} == {"skipped"}
        # A final answer: one job run, no retries, no derivative.
        assert [(j.status, j.attempts) for j in await jobs_of(runtime, asset.id)] == [
            ("succeeded", 1)
        ]
        assert not storage.derivative_path(asset.id, "thumbnail.webp").exists()
    response = await client.get(UPLOAD, headers=user.headers)
    assert response.status_code == 200, response.text
    listed = {item["id"]: item for item in response.json()["items"]}
    assert {str(asset_id) for asset_id in ids.values()} <= set(listed)
    assert {listed[str(i)]["status"] for i in ids.values()} == {"failed"}


async def test_timeline_and_events_carry_the_video(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_user: Any,
    worker: Any,
    recording_bus: Any,
) -> None:
    user = await make_user()
    ids = await _upload(
        client,
        user,
        {"party.mp4": (clip("mp4", "mpeg4", tags={"creation_time": RECORDED}), "video/mp4")},
    )
    (asset_id,) = ids.values()
    async with worker():
        (asset,) = await wait_processed(runtime, asset_id)
    assert asset.status == "ready", asset.error
    response = await client.get(
        "/api/library/timeline/months", params={"months": "2023-06"}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    [month] = response.json()["months"]
    [item] = month["items"]
    assert item["id"] == str(asset_id)
    assert item["media"] == "video" and item["duration_ms"] == 2000
    assert (item["width"], item["height"]) == (320, 240)
    assert item["placeholder"] == asset.placeholder and item["placeholder"]
    assert item["local_at"].startswith("2023-06-01T12:34:56")
    processed = [
        data
        for topic, kind, data in recording_bus.events
        if kind == "asset.processed" and data["id"] == str(asset_id)
    ]
    assert len(processed) == 1
    event = processed[0]
    assert (event["media"], event["duration_ms"], event["width"], event["height"]) == (
        "video",
        2000,
        320,
        240,
    )
    assert event["placeholder"] == asset.placeholder and event["status"] == "ready"
    thumbnail = await client.get(f"{UPLOAD}/{asset_id}/thumbnail", headers=user.headers)
    assert thumbnail.status_code == 200 and thumbnail.content[:4] == b"RIFF"


async def test_lost_posters_are_drawn_again(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, worker: Any
) -> None:
    user = await make_user()
    ids = await _upload(
        client,
        user,
        {
            "a.mp4": (clip("mp4", "mpeg4"), "video/mp4"),
            "b.mov": (clip("mov", "mjpeg", rotation=-90), "video/quicktime"),
        },
    )
    missing, legacy = ids.values()
    storage = LibraryStorage(runtime.settings)
    async with worker():
        await wait_processed(runtime, missing, legacy)
        asset = await load_asset(runtime, missing)
        original = storage.original_path(asset.storage_path)
        # Rebuilt on request from the original (what the files API does for pictures).
        data = await asyncio.to_thread(render_derivative, asset, original, "thumbnail.webp")
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (256, 192)
            _assert_upright_poster(image.convert("RGB"))
        # Derivatives deleted: the sweep has the video processed again.
        storage.remove_derivatives(missing)
        # A video stored before the server could decode videos: its steps were skipped.
        storage.remove_derivatives(legacy)
        async with runtime.db.transaction() as session:
            await session.execute(
                text(
                    "UPDATE asset_steps SET status = 'skipped', error = :reason, "
                    "updated_at = now() - interval '1 hour' "
                    "WHERE asset_id = :id AND step NOT IN ('decode', 'capture_time')"
                ),
                {"reason": NO_VIDEO_DECODER, "id": legacy},
            )
            await session.execute(
                text("UPDATE assets SET placeholder = NULL, width = NULL WHERE id = :id"),
                {"id": legacy},
            )
        await run_sweep(runtime)
        again, upgraded = await wait_processed(runtime, missing, legacy)
    assert storage.derivative_path(missing, "thumbnail.webp").is_file()
    assert [job.status for job in await jobs_of(runtime, missing)] == ["succeeded"] * 2
    assert again.status == "ready"
    assert upgraded.status == "ready" and upgraded.placeholder
    assert (upgraded.width, upgraded.height) == (240, 320)
    _assert_upright_poster(_derivative(runtime, legacy, "thumbnail.webp"), portrait=True)
    steps = await load_steps(runtime, legacy)
    assert all(row.error != NO_VIDEO_DECODER for row in steps.values())


async def test_files_api_draws_a_lost_poster_again(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, worker: Any
) -> None:
    user = await make_user()
    ids = await _upload(client, user, {"scene.mp4": (clip("mp4", "mpeg4"), "video/mp4")})
    (asset_id,) = ids.values()
    async with worker():
        await wait_processed(runtime, asset_id)
    storage = LibraryStorage(runtime.settings)
    storage.remove_derivatives(asset_id)
    url = f"/api/library/assets/{asset_id}"
    thumbnail = await client.get(f"{url}/thumbnail", headers=user.headers)
    assert thumbnail.status_code == 200, thumbnail.text
    with Image.open(io.BytesIO(thumbnail.content)) as image:
        assert image.format == "WEBP"
        _assert_upright_poster(image.convert("RGB"))
    assert storage.derivative_path(asset_id, "thumbnail.webp").is_file()
    preview = await client.get(f"{url}/preview", headers=user.headers)
    assert preview.status_code == 200
    # Arbitrary sizes are made from still pictures only: a clear refusal, not a crash.
    resized = await client.get(f"{url}/image", params={"width": 40}, headers=user.headers)
    assert resized.status_code == 422
    assert "video" in resized.json()["error"]["message"]
