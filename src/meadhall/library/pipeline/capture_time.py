"""When a photo was taken: local wall time, UTC instant, time zone and where the zone came from.

Sources, most trusted first:

1. ``exif_offset`` — the camera wrote ``OffsetTimeOriginal`` (or a phone's video its local
   creation date with the offset): the instant is exact.
2. ``gps`` — the photo has a position: its zone (looked up offline) turns the wall time into
   an instant. A video's container instead records the instant (``creation_time``, in UTC):
   the position's zone, else ``default_timezone``, gives its wall time.
3. ``file_time`` — no capture date in the file: the file's modification time (indexed folders,
   scans), shown in the server's zone.
4. ``server_default`` — a date without zone or position is read in ``default_timezone``; with
   no date at all, the upload time is used, shown in that zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from meadhall.library.models import TimeSource
from meadhall.library.pipeline.places import zone_at


@dataclass(frozen=True)
class CaptureTime:
    # Wall clock where the picture was taken (naive); ``None`` when no capture time is known.
    local: datetime | None
    # The instant (aware, UTC); ``None`` when no capture time is known.
    instant: datetime | None
    zone: str
    source: TimeSource
    # What the timeline uses: the capture time, or the fallback instant in ``zone``.
    local_at: datetime
    sort_at: datetime


def load_zone(name: str) -> ZoneInfo | None:
    """The zone called ``name``, or ``None`` when this system does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def offset_name(offset: timedelta) -> str:
    """``+02:00`` style name of a fixed offset."""
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _wall_time(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def resolve_capture_time(
    *,
    taken: datetime | None,
    offset: timedelta | None,
    latitude: float | None,
    longitude: float | None,
    file_mtime: datetime | None,
    fallback: datetime,
    default_zone: str,
    recorded_at: datetime | None = None,
) -> CaptureTime:
    """Combine what is known into one :class:`CaptureTime` (see the module's source order).

    ``taken`` is the naive EXIF wall time; ``recorded_at`` (a video's recording time),
    ``file_mtime`` and ``fallback`` (the upload time) are aware instants.
    """
    default = load_zone(default_zone) or ZoneInfo("UTC")
    default_name = default.key
    gps_zone_name = (
        zone_at(latitude, longitude) if latitude is not None and longitude is not None else None
    )
    gps_zone = load_zone(gps_zone_name) if gps_zone_name else None

    if taken is not None and offset is not None:
        instant = (taken - offset).replace(tzinfo=UTC)
        name = offset_name(offset)
        # A named zone reads better, when the position's zone agrees with the camera.
        if gps_zone is not None and instant.astimezone(gps_zone).utcoffset() == offset:
            name = gps_zone.key
        return _known(taken, instant, name, TimeSource.EXIF_OFFSET)
    if recorded_at is not None:
        moment = recorded_at.astimezone(UTC)
        if gps_zone is not None:
            return _known(_wall_time(moment, gps_zone), moment, gps_zone.key, TimeSource.GPS)
        return _known(_wall_time(moment, default), moment, default_name, TimeSource.SERVER_DEFAULT)
    if taken is not None and gps_zone is not None:
        instant = taken.replace(tzinfo=gps_zone).astimezone(UTC)
        return _known(taken, instant, gps_zone.key, TimeSource.GPS)
    if taken is None and file_mtime is not None:
        instant = file_mtime.astimezone(UTC)
        return _known(_wall_time(instant, default), instant, default_name, TimeSource.FILE_TIME)
    if taken is not None:
        instant = taken.replace(tzinfo=default).astimezone(UTC)
        return _known(taken, instant, default_name, TimeSource.SERVER_DEFAULT)
    moment = fallback.astimezone(UTC)
    return CaptureTime(
        local=None,
        instant=None,
        zone=default_name,
        source=TimeSource.SERVER_DEFAULT,
        local_at=_wall_time(moment, default),
        sort_at=moment,
    )


def _known(local: datetime, instant: datetime, zone: str, source: TimeSource) -> CaptureTime:
    return CaptureTime(
        local=local, instant=instant, zone=zone, source=source, local_at=local, sort_at=instant
    )
