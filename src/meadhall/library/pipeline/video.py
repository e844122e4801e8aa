"""Videos: one poster frame and what the container says, read with PyAV (FFmpeg's libraries).

- Only the demuxer of the container that the magic bytes announced is used (MP4/QuickTime,
  Matroska/WebM, AVI), and the file is handed to FFmpeg as a Python file object: FFmpeg never
  guesses a format or opens a URL, so a file cannot steer it to a playlist or network demuxer.
- The frame size is checked against ``max_pixels`` before a frame is decoded, and the decoder
  is given the same limit (a bitstream may claim another size than its container). Every
  decoded frame is checked again.
- Work is bounded: at most :data:`MAX_PACKETS` packets are decoded looking for the poster, and
  at most as many again for the fallback to the first frame. Whatever FFmpeg raises about the
  file becomes a :class:`~meadhall.library.pipeline.decode.DecodeError` with a reason.
- The poster is shown as players show the video: the display matrix's rotation (or an old
  ``rotate`` tag) and a non-square sample aspect ratio are applied.

Blocking CPU and disk work: call :func:`open_video` in a thread.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import av.error
from av.container import InputContainer
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from meadhall.library.pipeline.decode import HEAD_BYTES, DecodeError, sniff_video

# The poster comes from this far in, or from this fraction of the duration when that is earlier.
POSTER_SECONDS = 1.0
POSTER_FRACTION = 0.1
# Packets decoded at most while looking for the poster (and again for the first-frame fallback).
MAX_PACKETS = 300
# A frame whose brightest sampled pixel stays below this luma (0-255) counts as black.
_BLACK_LUMA = 40
# FFmpeg's demuxer for each container :func:`sniff_video` names.
_DEMUXERS = {"mp4": "mov", "quicktime": "mov", "matroska": "matroska", "avi": "avi"}
# ``duration_ms`` is a 32-bit column; anything longer is not a real recording.
_MAX_DURATION_MS = 2**31 - 1
_MAX_TAG = 1000
_MAX_TEXT = 200

_ROTATE_TO_UPRIGHT: dict[int, Image.Transpose] = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


@dataclass
class VideoClip:
    """What the pipeline keeps of a video."""

    # The poster, upright and in display proportions, at most ``target`` px on its longest
    # side (smaller when the video is); RGB.
    poster: Image.Image
    # The size as players show it (rotation and sample aspect ratio applied).
    width: int
    height: int
    container: str
    codec: str
    duration_ms: int | None
    frame_rate: float | None
    frame_count: int | None
    # Clockwise degrees (0, 90, 180, 270) turned to show the frames upright.
    rotation: int
    # Container and video stream tags (the container's win), keys in lower case.
    tags: dict[str, str]


@dataclass
class VideoMetadata:
    """What a video's container tags say about where, when and with what it was recorded."""

    camera_make: str | None = None
    camera_model: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    # The recording's instant (aware, UTC), from ``creation_time``.
    created_at: datetime | None = None
    # Local wall time and its offset, when the device wrote both (Apple's ``creationdate``).
    taken: datetime | None = None
    offset: timedelta | None = None


def open_video(source: Path | bytes, *, max_pixels: int, target: int) -> VideoClip:
    """Open a video (a path, or its whole bytes) and draw its poster frame.

    Raises :class:`DecodeError` with a reason for people when the file is not a video in a
    supported container, is damaged, holds no decodable frame or is too large, and ``OSError``
    when a path cannot be read.
    """
    container_name = sniff_video(_head(source))
    if container_name is None:
        raise DecodeError("not a video in a container Meadhall reads (MP4, QuickTime, WebM, AVI)")
    demuxer = _DEMUXERS[container_name]
    with _opened(source, demuxer) as container:
        stream = _video_stream(container)
        _check_pixels(stream.codec_context.width, stream.codec_context.height, max_pixels)
        start = _seconds(stream.start_time, stream.time_base) or 0.0
        duration = _duration(container, stream)
        at = start + min(POSTER_SECONDS, duration * POSTER_FRACTION) if duration else None
        tags = _tags(container, stream)
        codec = stream.codec_context.name
        frame_rate = _frame_rate(stream)
        frame_count = stream.frames if stream.frames > 0 else None
        sample_aspect = _sample_aspect(stream.sample_aspect_ratio)
        frame = _poster_frame(container, stream, max_pixels, at=at) if at is not None else None
    if frame is None:
        # No duration to aim at, or nothing decodable around the aim: the first frame will do.
        with _opened(source, demuxer) as container:
            stream = _video_stream(container)
            frame = _poster_frame(container, stream, max_pixels, at=None)
    if frame is None:
        raise DecodeError(
            "no frame of the video could be decoded (the file is truncated or damaged)"
        )
    rotation = display_rotation(_matrix_rotation(frame), tags.get("rotate"))
    poster = _picture(frame, sample_aspect, target)
    shown_width = max(1, round(frame.width * sample_aspect))
    width, height = (
        (frame.height, shown_width) if rotation in (90, 270) else (shown_width, frame.height)
    )
    return VideoClip(
        poster=turn_upright(poster, rotation),
        width=width,
        height=height,
        container=container_name,
        codec=codec,
        duration_ms=_milliseconds(duration),
        frame_rate=frame_rate,
        frame_count=frame_count,
        rotation=rotation,
        tags=tags,
    )


def display_rotation(matrix_degrees: float, rotate_tag: str | None = None) -> int:
    """Clockwise degrees (0, 90, 180 or 270) that show the stored frames upright.

    ``matrix_degrees`` is FFmpeg's reading of the display matrix (counter-clockwise, as
    ``av_display_rotation_get`` and PyAV's ``VideoFrame.rotation`` give it): players turn the
    frames clockwise by its negation. Older files carry a ``rotate`` tag instead, already
    clockwise. Angles that are not a quarter turn are rounded to the nearest one.
    """
    clockwise: float = -matrix_degrees
    if matrix_degrees == 0 and rotate_tag is not None:
        try:
            clockwise = float(rotate_tag.strip())
        except ValueError:
            clockwise = 0.0
    if not math.isfinite(clockwise):
        return 0
    return (round(clockwise / 90) * 90) % 360


def turn_upright(image: Image.Image, clockwise: int) -> Image.Image:
    """``image`` turned clockwise by ``clockwise`` degrees (a multiple of 90)."""
    method = _ROTATE_TO_UPRIGHT.get(clockwise % 360)
    return image if method is None else image.transpose(method)


_ISO6709 = re.compile(
    r"^(?P<lat>[+-]\d+(?:\.\d+)?)(?P<lon>[+-]\d+(?:\.\d+)?)(?P<alt>[+-]\d+(?:\.\d+)?)?"
    r"(?:CRS[^/]*)?/?$"
)


def parse_iso6709(text: str | None) -> tuple[float, float, float | None] | None:
    """``"+48.8577+002.2950+035.000/"`` -> ``(48.8577, 2.295, 35.0)``; junk -> ``None``.

    ISO 6709 as phones write it: latitude, longitude, an optional altitude in metres and an
    optional ``CRS`` name; degrees may be decimal, or degrees-minutes(-seconds) run together
    (``+4851.46+00217.70/``). ``0,0`` (no fix) reads as ``None`` too.
    """
    if text is None:
        return None
    match = _ISO6709.match(text.strip())
    if match is None:
        return None
    latitude = _iso_angle(match["lat"], degree_digits=2, limit=90)
    longitude = _iso_angle(match["lon"], degree_digits=3, limit=180)
    if latitude is None or longitude is None or (latitude, longitude) == (0.0, 0.0):
        return None
    altitude: float | None = None
    if match["alt"] is not None:
        value = float(match["alt"])
        altitude = round(value, 2) if abs(value) < 100_000 else None
    return round(latitude, 7), round(longitude, 7), altitude


def read_video_metadata(tags: Mapping[str, str]) -> VideoMetadata:
    """Camera, position and recording time from a video's tags (keys in lower case)."""
    meta = VideoMetadata()
    meta.camera_make = _first_text(
        tags, "com.apple.quicktime.make", "make", "com.android.manufacturer"
    )
    meta.camera_model = _first_text(tags, "com.apple.quicktime.model", "model", "com.android.model")
    place = parse_iso6709(tags.get("com.apple.quicktime.location.iso6709"))
    if place is None:
        place = parse_iso6709(tags.get("location"))
    if place is not None:
        meta.latitude, meta.longitude, meta.altitude = place
    meta.created_at = _creation_instant(tags.get("creation_time"))
    local = _parse_time(tags.get("com.apple.quicktime.creationdate"))
    if local is not None and local.tzinfo is not None:
        offset = local.utcoffset()
        if offset is not None and abs(offset) <= timedelta(hours=14):
            meta.taken, meta.offset = local.replace(tzinfo=None), offset
    return meta


def _head(source: Path | bytes) -> bytes:
    if isinstance(source, bytes):
        return source[:HEAD_BYTES]
    with source.open("rb") as handle:
        return handle.read(HEAD_BYTES)


@contextmanager
def _opened(source: Path | bytes, demuxer: str) -> Iterator[InputContainer]:
    handle: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    try:
        try:
            container = av.open(handle, mode="r", format=demuxer, metadata_errors="replace")
        except av.error.FFmpegError as error:
            raise DecodeError(
                f"the video container is damaged or truncated ({_reason(error)})"
            ) from None
        try:
            yield container
        finally:
            container.close()
    finally:
        handle.close()


def _video_stream(container: InputContainer) -> VideoStream:
    for stream in container.streams.video:
        # Cover art travels as a one-picture video stream; it is not the recording.
        if not stream.disposition & Disposition.attached_pic:
            if stream.codec_context is None:
                raise DecodeError(
                    f"the video's codec ({stream.codec_tag or 'unknown'}) cannot be decoded "
                    "on this server"
                )
            return stream
    raise DecodeError("the file holds no video stream")


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width < 0 or height < 0:
        raise DecodeError(f"the video claims an impossible frame size ({width}x{height})")
    if width * height > max_pixels:
        raise DecodeError(
            f"the video's frames are too large to decode safely ({width}x{height} = "
            f"{width * height:,} pixels; the limit is {max_pixels:,})"
        )


def _poster_frame(
    container: InputContainer, stream: VideoStream, max_pixels: int, *, at: float | None
) -> VideoFrame | None:
    """The first frame shown at or after ``at`` seconds (the very first when ``None``).

    Seeks to the keyframe before ``at`` and decodes forward. A black frame is passed over
    while the packet budget lasts (fades from black are common); if nothing lighter comes,
    the first black one is kept. ``None`` when no frame could be decoded within the budget.
    """
    stream.codec_context.options = {"max_pixels": str(max_pixels)}
    if at is not None and stream.time_base:
        try:
            container.seek(int(at / stream.time_base), stream=stream, backward=True)
        except av.error.FFmpegError:
            return None
    black: VideoFrame | None = None
    before: VideoFrame | None = None
    packets = 0
    try:
        for packet in container.demux(stream):
            packets += 1
            if packets > MAX_PACKETS:
                break
            try:
                frames = stream.decode(packet)
            except av.error.FFmpegError:
                # One damaged packet; the ones after it may decode.
                continue
            for frame in frames:
                _check_pixels(frame.width, frame.height, max_pixels)
                if frame.width == 0 or frame.height == 0:
                    continue
                if at is not None and frame.time is not None and frame.time < at - 1e-3:
                    before = frame
                    continue
                if not _is_black(frame):
                    return frame
                black = black or frame
    except av.error.FFmpegError:
        # Reading stopped (a truncated or garbled file): keep what was decoded so far.
        pass
    # A video shorter than its header said ends before ``at``: its last frame is the closest.
    return black or before


def _matrix_rotation(frame: VideoFrame) -> float:
    try:
        return float(frame.rotation)
    except (ValueError, OverflowError):
        # A degenerate display matrix has no angle.
        return 0.0


def _is_black(frame: VideoFrame) -> bool:
    luma = frame.reformat(width=16, height=16, format="gray").to_ndarray()
    return int(luma.max()) < _BLACK_LUMA


def _picture(frame: VideoFrame, sample_aspect: float, target: int) -> Image.Image:
    """The frame as an RGB picture in display proportions, scaled down to ``target`` px."""
    shown_width = frame.width * sample_aspect
    scale = min(1.0, target / max(shown_width, frame.height))
    width = max(1, round(shown_width * scale))
    height = max(1, round(frame.height * scale))
    rgb = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA")
    return Image.fromarray(rgb.to_ndarray())


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or not time_base:
        return None
    return float(value * time_base)


def _duration(container: InputContainer, stream: VideoStream) -> float | None:
    """Seconds, from the container, else from the video stream; ``None`` when unknown."""
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    seconds = _seconds(stream.duration, stream.time_base)
    return seconds if seconds is not None and seconds > 0 else None


def _milliseconds(seconds: float | None) -> int | None:
    if seconds is None or not math.isfinite(seconds):
        return None
    value = round(seconds * 1000)
    return value if 0 < value <= _MAX_DURATION_MS else None


def _frame_rate(stream: VideoStream) -> float | None:
    rate = stream.average_rate or stream.guessed_rate
    if not rate or rate <= 0:
        return None
    value = float(rate)
    return round(value, 3) if value < 10_000 else None


def _sample_aspect(ratio: Fraction | None) -> float:
    """Width of one stored pixel as shown; 1 when unknown or absurd."""
    if not ratio or not 0.1 <= ratio <= 10:
        return 1.0
    return float(ratio)


def _tags(container: InputContainer, stream: VideoStream) -> dict[str, str]:
    tags: dict[str, str] = {}
    for source in (stream.metadata, container.metadata):
        for key, value in source.items():
            if isinstance(value, str) and len(value) <= _MAX_TAG:
                tags[key.lower()] = value
    return tags


def _reason(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _iso_angle(text: str, *, degree_digits: int, limit: float) -> float | None:
    sign = -1.0 if text.startswith("-") else 1.0
    whole, _, fraction = text[1:].partition(".")
    fraction = f".{fraction}" if fraction else ""
    if len(whole) == degree_digits:
        value = float(whole + fraction)
    elif len(whole) == degree_digits + 2:
        minutes = float(whole[degree_digits:] + fraction)
        if minutes >= 60:
            return None
        value = int(whole[:degree_digits]) + minutes / 60
    elif len(whole) == degree_digits + 4:
        minutes = int(whole[degree_digits : degree_digits + 2])
        seconds = float(whole[degree_digits + 2 :] + fraction)
        if minutes >= 60 or seconds >= 60:
            return None
        value = int(whole[:degree_digits]) + minutes / 60 + seconds / 3600
    else:
        return None
    return sign * value if value <= limit else None


def _first_text(tags: Mapping[str, str], *keys: str) -> str | None:
    for key in keys:
        value = tags.get(key)
        if value is None:
            continue
        cleaned = "".join(ch for ch in value.replace("\x00", " ") if ch.isprintable()).strip()
        if cleaned:
            return cleaned[:_MAX_TEXT]
    return None


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if 1971 <= moment.year <= 2200 else None


def _creation_instant(text: str | None) -> datetime | None:
    """``creation_time`` as an aware UTC instant (FFmpeg writes it in UTC, with a ``Z``)."""
    moment = _parse_time(text)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
