"""Every step of one asset, from the original's bytes, in one pass (pure CPU, no database).

The original is decoded once, at preview size; every other step works from that picture or
from its thumbnail. A video's picture is its poster frame, and its metadata comes from the
container's tags instead of EXIF. Each step's outcome is recorded on its own: a garbled EXIF
block fails the ``metadata`` step and nothing else. Only a picture (or video) that cannot be
decoded at all fails the asset, with the reason people will see.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image

from meadhall.library.models import AssetStatus, MediaKind, StepStatus
from meadhall.library.pipeline.capture_time import resolve_capture_time
from meadhall.library.pipeline.colours import palette
from meadhall.library.pipeline.decode import HEAD_BYTES, DecodeError, decode, sniff_video
from meadhall.library.pipeline.derivatives import PREVIEW, SIZES, THUMBNAIL, encode_webp, fit
from meadhall.library.pipeline.hashes import perceptual_hashes
from meadhall.library.pipeline.metadata import PhotoMetadata, read_metadata
from meadhall.library.pipeline.placeholder import placeholder
from meadhall.library.pipeline.places import reverse_geocode
from meadhall.library.pipeline.quality import assess
from meadhall.library.pipeline.video import VideoMetadata, open_video, read_video_metadata

logger = logging.getLogger("meadhall.library.pipeline")

DECODE = "decode"
METADATA = "metadata"
CAPTURE_TIME = "capture_time"
PLACE = "place"
PLACEHOLDER = "placeholder"
PALETTE = "palette"
HASHES = "hashes"
QUALITY = "quality"
# Derivative steps carry the file's name without its extension.
THUMBNAIL_STEP = "thumbnail"
PREVIEW_STEP = "preview"
STEPS: tuple[str, ...] = (
    DECODE,
    PREVIEW_STEP,
    THUMBNAIL_STEP,
    PLACEHOLDER,
    METADATA,
    CAPTURE_TIME,
    PLACE,
    PALETTE,
    HASHES,
    QUALITY,
)
DERIVATIVE_STEPS = {PREVIEW_STEP: PREVIEW, THUMBNAIL_STEP: THUMBNAIL}

# The reason that steps of videos were skipped with before the server could decode videos;
# the sweep queues such videos again so they get their poster (see ``service``).
NO_VIDEO_DECODER = (
    "no video decoder is installed on the server: the video is stored without a poster frame"
)
NOT_DECODED = "not run: the original could not be decoded"
# Hashes and scores judge one still picture: for a video they would describe whichever frame
# became the poster (a re-encoded copy may pick another), so they are not computed.
NOT_FOR_VIDEO = "not run for videos: it judges a still picture, not a moving one"

# Every column the pipeline owns; a run sets each of them (None when its step failed).
PIPELINE_COLUMNS = (
    "media",
    "width",
    "height",
    "frame_count",
    "duration_ms",
    "captured_local",
    "captured_at",
    "capture_tz",
    "capture_tz_source",
    "camera_make",
    "camera_model",
    "lens",
    "iso",
    "f_number",
    "exposure_seconds",
    "focal_length_mm",
    "latitude",
    "longitude",
    "altitude",
    "country",
    "country_code",
    "city",
    "palette",
    "phash",
    "dhash",
    "quality",
    "sharpness",
    "exposure",
    "placeholder",
    "exif",
)

T = TypeVar("T")


@dataclass(frozen=True)
class Original:
    """What the analysis needs to know about an asset besides its bytes."""

    data: bytes
    file_mtime: datetime | None
    # The upload time: the timeline's position when nothing better is known.
    fallback_time: datetime
    default_timezone: str
    max_pixels: int
    # Where the original can be read again. A video is opened from here (``data`` may then
    # hold only its first bytes), so a large one is never read into memory whole.
    path: Path | None = None


@dataclass(frozen=True)
class StepOutcome:
    status: StepStatus
    error: str | None = None


@dataclass
class Analysis:
    """The result of one run: asset columns, derivative files and each step's outcome."""

    status: AssetStatus
    error: str | None = None
    columns: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    steps: dict[str, StepOutcome] = field(default_factory=dict)


class _Run:
    def __init__(self) -> None:
        self.analysis = Analysis(status=AssetStatus.READY)
        self.analysis.columns = dict.fromkeys(PIPELINE_COLUMNS)

    def step(self, name: str, work: Callable[[], T]) -> T | None:
        """Run one step; record done, or failed with its reason, and carry on."""
        try:
            result = work()
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"[:500]
            logger.warning("library step failed", extra={"step": name, "error": reason})
            self.analysis.steps[name] = StepOutcome(StepStatus.FAILED, reason)
            return None
        self.analysis.steps[name] = StepOutcome(StepStatus.DONE)
        return result

    def skip(self, names: tuple[str, ...] | list[str], reason: str) -> None:
        for name in names:
            self.analysis.steps[name] = StepOutcome(StepStatus.SKIPPED, reason)


def analyse(original: Original) -> Analysis:
    """Run every step on ``original``. Never raises for a bad file: see the result's status."""
    run = _Run()
    columns = run.analysis.columns
    container = sniff_video(original.data[:HEAD_BYTES])
    if container is not None:
        _analyse_video(run, original, container)
        return run.analysis
    try:
        decoded = decode(original.data, max_pixels=original.max_pixels, target=SIZES[PREVIEW])
    except Exception as error:
        # Decoding reads nothing but the file's bytes: whatever it raises is about the file
        # (Pillow has more exception types than it documents), and retrying cannot help.
        _undecodable(run, error, "the image data cannot be decoded")
        return run.analysis
    run.analysis.steps[DECODE] = StepOutcome(StepStatus.DONE)
    columns.update(
        media=decoded.media,
        width=decoded.width,
        height=decoded.height,
        frame_count=decoded.frame_count,
        duration_ms=decoded.duration_ms,
    )

    small, source = _pictures(run, decoded.image, decoded.icc_profile)
    hashes = run.step(HASHES, lambda: perceptual_hashes(small))
    if hashes is not None:
        columns["phash"], columns["dhash"] = hashes
    score = run.step(QUALITY, lambda: assess(source))
    if score is not None:
        columns.update(quality=score.quality, sharpness=score.sharpness, exposure=score.exposure)

    meta = run.step(METADATA, lambda: read_metadata(decoded.exif)) or PhotoMetadata()
    if meta.garbled and run.analysis.steps[METADATA].status == StepStatus.DONE:
        # Kept what could be read; the rest is reported but does not fail the step.
        logger.info("garbled EXIF values dropped", extra={"tags": meta.garbled})
    columns.update(
        camera_make=meta.camera_make,
        camera_model=meta.camera_model,
        lens=meta.lens,
        iso=meta.iso,
        f_number=meta.f_number,
        exposure_seconds=meta.exposure_seconds,
        focal_length_mm=meta.focal_length_mm,
        latitude=meta.latitude,
        longitude=meta.longitude,
        altitude=meta.altitude,
    )
    extra: dict[str, Any] = {"format": decoded.format, **meta.extra}
    if meta.garbled:
        extra["unreadable"] = sorted(set(meta.garbled))
    columns["exif"] = extra
    _capture(run, original, meta)
    _place(run, meta.latitude, meta.longitude)
    return run.analysis


def _analyse_video(run: _Run, original: Original, container: str) -> None:
    """The steps of a video: its poster frame stands in for the picture."""
    columns = run.analysis.columns
    columns["media"] = MediaKind.VIDEO
    source = original.path if original.path is not None else original.data
    try:
        clip = open_video(source, max_pixels=original.max_pixels, target=SIZES[PREVIEW])
    except Exception as error:
        # As for pictures: FFmpeg's complaints are about the file (a read error of the
        # original is too: it was readable a moment ago, when its head was sniffed).
        _undecodable(run, error, "the video cannot be decoded")
        columns["exif"] = {"container": container}
        return
    run.analysis.steps[DECODE] = StepOutcome(StepStatus.DONE)
    columns.update(
        width=clip.width,
        height=clip.height,
        frame_count=clip.frame_count,
        duration_ms=clip.duration_ms,
    )
    _pictures(run, clip.poster, None)
    run.skip([HASHES, QUALITY], NOT_FOR_VIDEO)

    meta = run.step(METADATA, lambda: read_video_metadata(clip.tags)) or VideoMetadata()
    columns.update(
        camera_make=meta.camera_make,
        camera_model=meta.camera_model,
        latitude=meta.latitude,
        longitude=meta.longitude,
        altitude=meta.altitude,
    )
    extra: dict[str, Any] = {"container": container, "codec": clip.codec}
    if clip.frame_rate is not None:
        extra["frame_rate"] = clip.frame_rate
    if clip.rotation:
        extra["rotation"] = clip.rotation
    columns["exif"] = extra
    _capture(
        run,
        original,
        PhotoMetadata(
            latitude=meta.latitude,
            longitude=meta.longitude,
            taken=meta.taken,
            offset=meta.offset,
        ),
        recorded_at=meta.created_at,
    )
    _place(run, meta.latitude, meta.longitude)


def _undecodable(run: _Run, error: Exception, what: str) -> None:
    """End the run as failed: nothing can be drawn from the original."""
    reason = (
        str(error)
        if isinstance(error, DecodeError)
        else f"{what} ({type(error).__name__}: {error})"[:500]
    )
    run.analysis.status = AssetStatus.FAILED
    run.analysis.error = reason
    run.analysis.steps[DECODE] = StepOutcome(StepStatus.FAILED, reason)
    run.skip([s for s in STEPS if s != DECODE], NOT_DECODED)


def _pictures(
    run: _Run, image: Image.Image, icc_profile: bytes | None
) -> tuple[Image.Image, Image.Image]:
    """Preview, thumbnail, placeholder and palette of ``image``.

    Returns the smallest picture made (the thumbnail, if it worked) and the preview-sized one,
    for the steps that follow.
    """
    columns = run.analysis.columns
    preview = run.step(PREVIEW_STEP, lambda: fit(image, SIZES[PREVIEW]))
    if preview is not None:
        encoded = run.step(
            PREVIEW_STEP, lambda: encode_webp(preview, name=PREVIEW, icc_profile=icc_profile)
        )
        if encoded is not None:
            run.analysis.files[PREVIEW] = encoded
    source = preview if preview is not None else image
    thumbnail = run.step(THUMBNAIL_STEP, lambda: fit(source, SIZES[THUMBNAIL]))
    if thumbnail is not None:
        encoded = run.step(
            THUMBNAIL_STEP,
            lambda: encode_webp(thumbnail, name=THUMBNAIL, icc_profile=icc_profile),
        )
        if encoded is not None:
            run.analysis.files[THUMBNAIL] = encoded
    small: Image.Image = thumbnail if thumbnail is not None else source
    columns["placeholder"] = run.step(PLACEHOLDER, lambda: placeholder(small))
    columns["palette"] = run.step(PALETTE, lambda: palette(small))
    return small, source


def _place(run: _Run, latitude: float | None, longitude: float | None) -> None:
    if latitude is None or longitude is None:
        run.analysis.steps[PLACE] = StepOutcome(StepStatus.DONE)
        return
    place = run.step(PLACE, lambda: reverse_geocode(latitude, longitude))
    if place is not None:
        run.analysis.columns.update(
            country=place.country, country_code=place.country_code, city=place.city
        )


def _capture(
    run: _Run, original: Original, meta: PhotoMetadata, *, recorded_at: datetime | None = None
) -> None:
    capture = run.step(
        CAPTURE_TIME,
        lambda: resolve_capture_time(
            taken=meta.taken,
            offset=meta.offset,
            recorded_at=recorded_at,
            latitude=meta.latitude,
            longitude=meta.longitude,
            file_mtime=original.file_mtime,
            fallback=original.fallback_time,
            default_zone=original.default_timezone,
        ),
    )
    if capture is None:
        return
    run.analysis.columns.update(
        captured_local=capture.local,
        captured_at=capture.instant,
        capture_tz=capture.zone,
        capture_tz_source=capture.source,
        local_at=capture.local_at,
        sort_at=capture.sort_at,
    )
