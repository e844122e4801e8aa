"""EXIF: camera, lens, exposure, GPS and the capture time as written by the camera.

Cameras, phones and editors write EXIF of every quality. Each value is read on its own and
checked (types, ranges, finite numbers); a garbled one is dropped and noted, never fatal.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from PIL import Image

# Tags of IFD0.
_MAKE, _MODEL, _DATETIME, _SOFTWARE, _ARTIST, _COPYRIGHT = (
    0x010F,
    0x0110,
    0x0132,
    0x0131,
    0x013B,
    0x8298,
)
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
# Tags of the Exif IFD.
_EXPOSURE_TIME, _F_NUMBER, _ISO = 0x829A, 0x829D, 0x8827
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_OFFSET_TIME, _OFFSET_TIME_ORIGINAL = 0x9010, 0x9011
_SUBSEC_ORIGINAL = 0x9291
_FOCAL_LENGTH, _FOCAL_35MM = 0x920A, 0xA405
_LENS_MAKE, _LENS_MODEL = 0xA433, 0xA434
_EXPOSURE_PROGRAM, _EXPOSURE_BIAS, _FLASH, _WHITE_BALANCE = 0x8822, 0x9204, 0x9209, 0xA403
# Tags of the GPS IFD.
_LAT_REF, _LAT, _LON_REF, _LON, _ALT_REF, _ALT = 1, 2, 3, 4, 5, 6

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_MAX_TEXT = 200


@dataclass
class PhotoMetadata:
    """What the EXIF block says, each field ``None`` when absent or unreadable."""

    camera_make: str | None = None
    camera_model: str | None = None
    lens: str | None = None
    iso: int | None = None
    f_number: float | None = None
    exposure_seconds: float | None = None
    focal_length_mm: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    # Wall-clock time of capture, as the camera's clock showed it.
    taken: datetime | None = None
    # UTC offset of ``taken`` when the camera recorded one.
    offset: timedelta | None = None
    # Values shown read-only that have no column.
    extra: dict[str, Any] = field(default_factory=dict)
    # Values present but unreadable (tag names), for the step's record.
    garbled: list[str] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value.replace("\x00", " ") if ch.isprintable()).strip()
    return cleaned[:_MAX_TEXT] or None


def _number(value: Any) -> float | None:
    if isinstance(value, tuple | list):
        if len(value) != 1:
            return None
        value = value[0]
    if isinstance(value, bytes | str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _positive(value: Any, *, upper: float) -> float | None:
    number = _number(value)
    return number if number is not None and 0 < number <= upper else None


def parse_offset(value: Any) -> timedelta | None:
    """``"+02:00"`` -> 2 hours; anything else (or beyond +-14 h) -> ``None``."""
    text = _text(value)
    if text is None:
        return None
    match = _OFFSET.match(text)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14) or int(minutes) >= 60:
        return None
    return -delta if sign == "-" else delta


def parse_exif_datetime(value: Any, subsec: Any = None) -> datetime | None:
    """``"2024:05:01 14:03:22"`` (plus sub-seconds) -> naive datetime; junk -> ``None``."""
    text = _text(value)
    if text is None:
        return None
    text = text.replace("-", ":").replace("T", " ")
    try:
        moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if not 1800 <= moment.year <= 2200:
        return None
    fraction = _text(subsec)
    if fraction is not None and fraction.isdigit():
        moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return moment


def _coordinate(value: Any, ref: Any, *, limit: float, negative: str) -> float | None:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    parts = [_number(part) for part in value]
    if any(part is None or part < 0 for part in parts):
        return None
    degrees, minutes, seconds = (float(part) for part in parts if part is not None)
    result = degrees + minutes / 60 + seconds / 3600
    if result > limit:
        return None
    reference = _text(ref)
    if reference is not None and reference.upper().startswith(negative):
        result = -result
    return round(result, 7)


def _ifd(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:
        return {}


def read_metadata(exif: Image.Exif) -> PhotoMetadata:
    """Everything the pipeline keeps from an EXIF block (empty when there is none)."""
    meta = PhotoMetadata()
    base: dict[int, Any] = {}
    try:
        base = dict(exif.items())
    except Exception:
        meta.garbled.append("IFD0")
    details = _ifd(exif, _EXIF_IFD)
    gps = _ifd(exif, _GPS_IFD)

    def keep(name: str, present: bool, value: Any) -> Any:
        if present and value is None:
            meta.garbled.append(name)
        return value

    meta.camera_make = keep("Make", _MAKE in base, _text(base.get(_MAKE)))
    meta.camera_model = keep("Model", _MODEL in base, _text(base.get(_MODEL)))
    lens_model = _text(details.get(_LENS_MODEL))
    lens_make = _text(details.get(_LENS_MAKE))
    if lens_model and lens_make and not lens_model.lower().startswith(lens_make.lower()):
        lens_model = f"{lens_make} {lens_model}"
    meta.lens = lens_model
    iso = _positive(details.get(_ISO), upper=10_000_000)
    meta.iso = keep("ISOSpeedRatings", _ISO in details, None if iso is None else int(iso))
    meta.f_number = keep(
        "FNumber", _F_NUMBER in details, _positive(details.get(_F_NUMBER), upper=1000)
    )
    meta.exposure_seconds = keep(
        "ExposureTime",
        _EXPOSURE_TIME in details,
        _positive(details.get(_EXPOSURE_TIME), upper=86_400),
    )
    meta.focal_length_mm = keep(
        "FocalLength",
        _FOCAL_LENGTH in details,
        _positive(details.get(_FOCAL_LENGTH), upper=100_000),
    )

    taken_raw = details.get(_DATETIME_ORIGINAL) or details.get(_DATETIME_DIGITIZED)
    taken_raw = taken_raw or base.get(_DATETIME)
    meta.taken = keep(
        "DateTimeOriginal",
        taken_raw is not None,
        parse_exif_datetime(taken_raw, details.get(_SUBSEC_ORIGINAL)),
    )
    offset_raw = details.get(_OFFSET_TIME_ORIGINAL) or details.get(_OFFSET_TIME)
    meta.offset = keep("OffsetTimeOriginal", offset_raw is not None, parse_offset(offset_raw))

    if _LAT in gps or _LON in gps:
        latitude = _coordinate(gps.get(_LAT), gps.get(_LAT_REF), limit=90, negative="S")
        longitude = _coordinate(gps.get(_LON), gps.get(_LON_REF), limit=180, negative="W")
        if latitude is None or longitude is None:
            meta.garbled.append("GPS")
        elif (latitude, longitude) != (0.0, 0.0):
            # 0,0 is what devices write when they had no fix.
            meta.latitude, meta.longitude = latitude, longitude
            altitude = _number(gps.get(_ALT))
            if altitude is not None and abs(altitude) < 100_000:
                below = gps.get(_ALT_REF) in (1, b"\x01")
                meta.altitude = round(-altitude if below else altitude, 2)

    extra: dict[str, Any] = {
        "software": _text(base.get(_SOFTWARE)),
        "artist": _text(base.get(_ARTIST)),
        "copyright": _text(base.get(_COPYRIGHT)),
        "focal_length_35mm": _positive(details.get(_FOCAL_35MM), upper=100_000),
        "exposure_program": _number(details.get(_EXPOSURE_PROGRAM)),
        "exposure_bias": _number(details.get(_EXPOSURE_BIAS)),
        "flash": _number(details.get(_FLASH)),
        "white_balance": _number(details.get(_WHITE_BALANCE)),
    }
    meta.extra = {key: value for key, value in extra.items() if value is not None}
    return meta
