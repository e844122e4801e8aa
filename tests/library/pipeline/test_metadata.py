"""EXIF camera data, GPS -> place and zone, and every capture-time source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from meadhall.library.models import Asset
from meadhall.library.pipeline.capture_time import resolve_capture_time
from meadhall.library.pipeline.metadata import parse_exif_datetime, parse_offset
from meadhall.platform.runtime import Runtime
from tests.library.pipeline.conftest import load_steps, store_pending, wait_processed
from tests.library.pipeline.images import (
    camera_jpeg,
    encode,
    exif_garbage_block_jpeg,
    garbled_exif_jpeg,
    picture,
)

PARIS = (48.8566, 2.3522)
TOKYO = (35.6895, 139.6917)


async def test_camera_gps_and_offset(runtime: Runtime, owner: Any, worker: Any) -> None:
    taken = datetime(2024, 7, 14, 15, 30, 0)
    asset_id = await store_pending(
        runtime,
        owner_id=owner.id,
        data=camera_jpeg(taken=taken, offset="+02:00", gps=PARIS, altitude=35.5),
    )
    async with worker():
        (asset,) = await wait_processed(runtime, asset_id)
    assert asset.status == "ready", asset.error
    assert (asset.camera_make, asset.camera_model) == ("Fujifilm", "X-T5")
    assert asset.lens == "XF16-55mmF2.8 R LM WR"
    assert asset.iso == 400
    assert asset.f_number == 2.8
    assert asset.exposure_seconds == 1 / 250
    assert asset.focal_length_mm == 23
    assert abs(asset.latitude - PARIS[0]) < 1e-4 and abs(asset.longitude - PARIS[1]) < 1e-4
    assert asset.altitude == 35.5
    assert (asset.country, asset.country_code, asset.city) == ("France", "FR", "Paris")
    # The camera's offset wins; the position's zone agrees with it, so its name is kept.
    assert asset.capture_tz_source == "exif_offset"
    assert asset.capture_tz == "Europe/Paris"
    assert asset.captured_local == taken
    assert asset.captured_at == datetime(2024, 7, 14, 13, 30, tzinfo=UTC)
    assert asset.local_at == taken
    assert asset.sort_at == datetime(2024, 7, 14, 13, 30, tzinfo=UTC)
    steps = await load_steps(runtime, asset_id)
    assert {name: row.status for name, row in steps.items()} == dict.fromkeys(steps, "done")


async def test_time_zone_sources(runtime: Runtime, owner: Any, worker: Any) -> None:
    taken = datetime(2023, 1, 5, 9, 0, 0)
    mtime = datetime(2020, 2, 3, 4, 5, 6, tzinfo=UTC)
    gps_only = await store_pending(
        runtime, owner_id=owner.id, data=camera_jpeg(taken=taken, gps=TOKYO), filename="t.jpg"
    )
    offset_only = await store_pending(
        runtime,
        owner_id=owner.id,
        data=camera_jpeg(taken=taken, offset="-05:00", camera=False),
        filename="ny.jpg",
    )
    date_only = await store_pending(
        runtime, owner_id=owner.id, data=camera_jpeg(taken=taken, camera=False), filename="d.jpg"
    )
    scanned = await store_pending(
        runtime,
        owner_id=owner.id,
        data=encode(picture(seed=1), "JPEG"),
        filename="scan.jpg",
        file_mtime=mtime,
    )
    nothing = await store_pending(
        runtime, owner_id=owner.id, data=encode(picture(seed=2), "PNG"), filename="n.png"
    )
    async with worker():
        gps, offset, date, scan, bare = await wait_processed(
            runtime, gps_only, offset_only, date_only, scanned, nothing
        )
    assert (gps.capture_tz_source, gps.capture_tz) == ("gps", "Asia/Tokyo")
    assert gps.captured_at == datetime(2023, 1, 5, 0, 0, tzinfo=UTC)
    assert (gps.country_code, gps.city) == ("JP", "Tokyo")

    assert (offset.capture_tz_source, offset.capture_tz) == ("exif_offset", "-05:00")
    assert offset.captured_at == datetime(2023, 1, 5, 14, 0, tzinfo=UTC)
    assert offset.camera_make is None and offset.country is None

    # No zone, no position: the server's default zone (UTC in the tests).
    assert (date.capture_tz_source, date.capture_tz) == ("server_default", "UTC")
    assert date.captured_local == taken and date.captured_at == taken.replace(tzinfo=UTC)

    assert (scan.capture_tz_source, scan.capture_tz) == ("file_time", "UTC")
    assert scan.captured_at == mtime and scan.sort_at == mtime
    assert scan.local_at == mtime.replace(tzinfo=None)

    # Nothing known: no capture time; the timeline keeps the upload time.
    assert bare.capture_tz_source == "server_default"
    assert bare.captured_at is None and bare.captured_local is None
    assert bare.sort_at == bare.created_at


# Pillow warns about the broken EXIF block (the suite turns warnings into errors).
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
async def test_garbled_exif_keeps_the_picture(runtime: Runtime, owner: Any, worker: Any) -> None:
    garbled = await store_pending(runtime, owner_id=owner.id, data=garbled_exif_jpeg())
    garbage = await store_pending(
        runtime, owner_id=owner.id, data=exif_garbage_block_jpeg(), filename="g.jpg"
    )
    async with worker():
        first, second = await wait_processed(runtime, garbled, garbage)
    for asset in (first, second):
        assert asset.status == "ready", asset.error
        assert (asset.width, asset.height) == (640, 480)
        assert asset.iso is None and asset.f_number is None and asset.latitude is None
        assert asset.capture_tz_source == "server_default" and asset.captured_at is None
        steps = await load_steps(runtime, asset.id)
        assert all(row.status == "done" for row in steps.values()), steps
    assert first.exif is not None
    assert set(first.exif["unreadable"]) >= {"DateTimeOriginal", "FNumber", "GPS"}


async def test_reprocessing_after_a_change_of_default_zone_is_idempotent(
    runtime: Runtime, owner: Any, worker: Any
) -> None:
    asset_id = await store_pending(
        runtime, owner_id=owner.id, data=camera_jpeg(taken=datetime(2022, 5, 1, 12, 0))
    )
    async with worker():
        (before,) = await wait_processed(runtime, asset_id)
        async with runtime.db.transaction() as session:
            # Someone broke the columns; a forced run puts everything back.
            await session.execute(
                update(Asset).where(Asset.id == asset_id).values(iso=None, palette=None)
            )
            from meadhall.library.pipeline.service import queue_processing

            asset = await session.get(Asset, asset_id)
            assert asset is not None
            await queue_processing(session, asset=asset, force=True)
        await wait_processed(runtime, asset_id)
    (after,) = await wait_processed(runtime, asset_id)
    assert after.iso == before.iso == 400
    assert after.palette == before.palette
    assert after.captured_at == before.captured_at


def test_capture_time_rules_with_another_default_zone() -> None:
    taken = datetime(2021, 12, 24, 18, 0)
    fallback = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    default = resolve_capture_time(
        taken=taken,
        offset=None,
        latitude=None,
        longitude=None,
        file_mtime=None,
        fallback=fallback,
        default_zone="America/New_York",
    )
    assert default.source == "server_default" and default.zone == "America/New_York"
    assert default.instant == datetime(2021, 12, 24, 23, 0, tzinfo=UTC)
    unknown_zone = resolve_capture_time(
        taken=None,
        offset=None,
        latitude=None,
        longitude=None,
        file_mtime=None,
        fallback=fallback,
        default_zone="Not/AZone",
    )
    assert unknown_zone.zone == "UTC" and unknown_zone.local_at == datetime(2024, 1, 1, 12, 0)
    file_time = resolve_capture_time(
        taken=None,
        offset=None,
        latitude=None,
        longitude=None,
        file_mtime=fallback,
        fallback=fallback,
        default_zone="Asia/Kolkata",
    )
    assert file_time.source == "file_time"
    assert file_time.local == datetime(2024, 1, 1, 17, 30)
    assert file_time.instant == fallback


def test_exif_text_parsing() -> None:
    assert parse_offset("+05:30") == timedelta(hours=5, minutes=30)
    assert parse_offset("-0800") == timedelta(hours=-8)
    assert parse_offset("+15:00") is None
    assert parse_offset("Z") is None
    assert parse_offset(b"\xff") is None
    assert parse_exif_datetime("2024:02:29 23:59:59", "25") == datetime(
        2024, 2, 29, 23, 59, 59, 250000
    )
    assert parse_exif_datetime("0000:00:00 00:00:00") is None
    assert parse_exif_datetime("    :  :     :  :  ") is None
    assert parse_exif_datetime(12) is None
