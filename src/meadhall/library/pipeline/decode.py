"""Opening an original once, safely, at the smallest size the derivatives need.

- Decompression bombs: ``Image.MAX_IMAGE_PIXELS`` is set to the configured limit, and the size
  read from the header is checked again before any pixel is decoded, so a 100-byte PNG that
  claims 100 000 x 100 000 pixels is refused without allocating anything.
- JPEG (and MPO) use ``draft()``: the decoder itself scales by 1/2, 1/4 or 1/8, which costs a
  fraction of a full decode. Other formats decode fully, then ``reduce()``.
- EXIF orientation is applied once, here; every later step sees the picture as people do.
- Videos are recognised here from their container's magic bytes; ``video`` opens them.
"""

from __future__ import annotations

import io
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from meadhall.library.models import MediaKind

# How many bytes of the head identify a container.
HEAD_BYTES = 64
# Formats whose extra frames are an animation (MPO, TIFF or HEIF frames are other pictures).
ANIMATED_FORMATS = frozenset({"GIF", "WEBP", "PNG", "AVIF"})
# ISO base media brands that are still pictures (HEIF, AVIF), not videos.
_IMAGE_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
    | {b"avif", b"avis", b"mif2"}
)

# Old QuickTime files start straight with an atom instead of ``ftyp`` (as ingest accepts them).
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})

_heif_lock = threading.Lock()
_heif_registered = False


class DecodeError(Exception):
    """The original cannot be turned into pixels; ``str(error)`` says why, for people."""


@dataclass
class DecodedImage:
    """An original as the pipeline works on it."""

    # Oriented (as displayed), at least ``target`` on its longest side unless the original
    # is smaller; RGB or RGBA.
    image: Image.Image
    # The original's displayed size (orientation applied), not the decoded one.
    width: int
    height: int
    media: MediaKind
    format: str
    frame_count: int = 1
    duration_ms: int | None = None
    exif: Image.Exif = field(default_factory=Image.Exif)
    icc_profile: bytes | None = None


def register_heif() -> None:
    """Teach Pillow HEIC/HEIF (once per process). AVIF stays with Pillow's own decoder."""
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_registered = True


def sniff_video(head: bytes) -> str | None:
    """The container name if ``head`` starts a video file (MP4/MOV/3GP, Matroska/WebM, AVI)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            return None
        return "quicktime" if brand == b"qt  " else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if len(head) >= 8 and head[4:8] in _QUICKTIME_ATOMS:
        return "quicktime"
    return None


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise DecodeError(f"the image claims an impossible size ({width}x{height})")
    if width * height > max_pixels:
        raise DecodeError(
            f"the image is too large to decode safely ({width}x{height} = "
            f"{width * height:,} pixels; the limit is {max_pixels:,})"
        )


def _open(data: bytes, max_pixels: int) -> Image.Image:
    if not data:
        raise DecodeError("the file is empty (0 bytes)")
    register_heif()
    # Pillow refuses (error) above twice this and warns above it; the explicit check below
    # refuses everything above the limit itself.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise DecodeError("not an image in a format Meadhall reads") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DecodeError(
            f"the image is too large to decode safely (it claims more than the limit of "
            f"{max_pixels:,} pixels)"
        ) from None
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as error:
        raise DecodeError(f"the image header is damaged ({_short(error)})") from None
    _check_pixels(image.width, image.height, max_pixels)
    return image


def _short(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _frames(image: Image.Image, max_pixels: int) -> tuple[int, int | None]:
    """Frame count and total duration (ms) of an animation; (1, None) for a still."""
    count = int(getattr(image, "n_frames", 1) or 1)
    if count <= 1 or image.format not in ANIMATED_FORMATS:
        return 1, None
    # WebP and AVIF only tell a frame's duration once it is decoded: that is affordable
    # while all frames together stay under the pixel limit; otherwise the duration is unknown.
    decode_frames = image.format in ("WEBP", "AVIF")
    if decode_frames and count * image.width * image.height > max_pixels:
        return count, None
    total = 0
    try:
        for index in range(count):
            image.seek(index)
            if decode_frames:
                image.load()
            total += int(image.info.get("duration", 0) or 0)
    finally:
        image.seek(0)
    return count, total or None


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the picture has transparency; deep and odd modes scaled to 8 bits."""
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        import numpy as np

        values = np.asarray(image, dtype=np.float32)
        top = float(values.max()) if values.size else 0.0
        scale = 255.0 / top if top > 255 else 1.0
        grey = Image.fromarray(np.clip(values * scale, 0, 255).astype(np.uint8), "L")
        return grey.convert("RGB")
    has_alpha = image.mode in ("LA", "PA", "RGBa", "La") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    return image.convert("RGBA" if has_alpha else "RGB")


def draft_size(width: int, height: int, target: int) -> tuple[int, int]:
    """The smallest size keeping ``target`` pixels on the longest side (never upscaling)."""
    longest = max(width, height)
    if longest <= target:
        return width, height
    ratio = target / longest
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def decode(data: bytes, *, max_pixels: int, target: int) -> DecodedImage:
    """Decode ``data`` to a picture at least ``target`` px on its longest side (or full size).

    Raises :class:`DecodeError` with a reason people can read for every file that cannot be
    decoded: empty, truncated, not an image, too large, unsupported.
    """
    image = _open(data, max_pixels)
    try:
        fmt = image.format or "unknown"
        frame_count, duration_ms = _frames(image, max_pixels)
        try:
            exif = image.getexif()
        except Exception:
            # Garbled EXIF must not cost the picture; the metadata step reports it.
            exif = Image.Exif()
        icc = image.info.get("icc_profile")
        orientation = _orientation(exif)
        width, height = image.size
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        if fmt in ("JPEG", "MPO"):
            # The decoder scales by a power of two while still covering the requested size.
            image.draft("RGB", draft_size(image.width, image.height, target))
        image.load()
        working = _to_rgb(image)
        factor = max(working.width, working.height) // max(target, 1)
        if factor >= 2:
            working = working.reduce(factor)
        if orientation in range(2, 9):
            working = _orient(working, orientation)
    except DecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DecodeError(
            f"the image is too large to decode safely (more than {max_pixels:,} pixels)"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error) as error:
        message = _short(error)
        if "truncated" in message or "broken data stream" in message:
            raise DecodeError(f"the file is truncated or damaged ({message})") from None
        raise DecodeError(f"the image data cannot be decoded ({message})") from None
    except MemoryError:
        raise DecodeError("the image needs more memory than the server can give it") from None
    media = MediaKind.ANIMATION if frame_count > 1 else MediaKind.IMAGE
    return DecodedImage(
        image=working,
        width=width,
        height=height,
        media=media,
        format=fmt,
        frame_count=frame_count,
        duration_ms=duration_ms,
        exif=exif,
        icc_profile=icc if isinstance(icc, bytes) else None,
    )


def _orientation(exif: Image.Exif) -> int:
    try:
        value = int(exif.get(0x0112, 1) or 1)
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


_TRANSPOSE: dict[int, Any] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orient(image: Image.Image, orientation: int) -> Image.Image:
    # ImageOps.exif_transpose's table, applied to the already reduced picture: transposing
    # the small copy is cheaper, and garbled EXIF cannot make it raise.
    return image.transpose(_TRANSPOSE[orientation])


def open_oriented(data: bytes, *, max_pixels: int, target: int) -> Image.Image:
    """Just the oriented picture (for one derivative rendered on request)."""
    return decode(data, max_pixels=max_pixels, target=target).image
