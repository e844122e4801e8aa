"""Thumbnails and previews: WebP, orientation applied, never larger than the original.

The pipeline makes both from one decode (see ``analysis.analyse``); the files API calls
:func:`render_derivative` to rebuild a missing one on request. A video's derivatives are drawn
from its poster frame (see ``video``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from meadhall.library.models import MediaKind
from meadhall.library.pipeline.decode import decode, draft_size
from meadhall.library.pipeline.video import open_video

if TYPE_CHECKING:
    from meadhall.library.models import Asset

THUMBNAIL = "thumbnail.webp"
PREVIEW = "preview.webp"
# Longest side of each derivative, in pixels.
SIZES: dict[str, int] = {THUMBNAIL: 256, PREVIEW: 1440}
# WebP effort: 4 (the encoder's default) for small thumbnails; 1 for previews, which encodes
# in under half the time of 4 for a few percent more bytes (measured on 1440 px photos).
_METHOD: dict[str, int] = {THUMBNAIL: 4, PREVIEW: 1}
QUALITY = 80
# Same default as ``Settings.max_image_pixels``, for callers without settings at hand.
DEFAULT_MAX_PIXELS = 250_000_000


def fit(image: Image.Image, longest: int) -> Image.Image:
    """``image`` scaled down to ``longest`` px on its longest side; never scaled up."""
    size = draft_size(image.width, image.height, longest)
    if size == image.size:
        return image
    # Bicubic with Pillow's antialiasing support looks the same as Lanczos at these ratios
    # for two thirds of the time; reducing_gap does a cheap box reduction first when the
    # picture is more than twice the target.
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def encode_webp(image: Image.Image, *, name: str, icc_profile: bytes | None = None) -> bytes:
    """The WebP bytes of ``image`` (alpha kept) with the settings of derivative ``name``."""
    out = io.BytesIO()
    options: dict[str, object] = {"quality": QUALITY, "method": _METHOD.get(name, 4)}
    if icc_profile:
        options["icc_profile"] = icc_profile
    image.save(out, "WEBP", **options)
    return out.getvalue()


def render_derivative(
    asset: Asset, original_path: Path, name: str, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> bytes:
    """Rebuild derivative ``name`` (``thumbnail.webp`` or ``preview.webp``) of ``asset``.

    Blocking CPU work: call it in a thread. Raises ``KeyError`` for an unknown name,
    :class:`~meadhall.library.pipeline.decode.DecodeError` when the original cannot be decoded
    and ``OSError`` when it cannot be read.
    """
    longest = SIZES[name]
    if asset.media == MediaKind.VIDEO:
        # Opened from the path: a video is never read into memory whole.
        clip = open_video(original_path, max_pixels=max_pixels, target=longest)
        return encode_webp(fit(clip.poster, longest), name=name)
    data = original_path.read_bytes()
    decoded = decode(data, max_pixels=max_pixels, target=longest)
    return encode_webp(fit(decoded.image, longest), name=name, icc_profile=decoded.icc_profile)
