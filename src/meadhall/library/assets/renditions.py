"""Images drawn from an original on request: derivatives, resized copies, and the cache.

Everything here is blocking CPU or disk work; the router calls it through ``asyncio.to_thread``.
Resized copies go to the asset's derivative folder under a name made of the request's
parameters, so the same request is decoded once and then served from disk.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from meadhall.library.assets.schemas import ImageFormat
from meadhall.library.pipeline.decode import decode

# Longest side a resized copy may have, and the smallest scale factor.
MAX_SIDE = 4096
MIN_SCALE = 0.05

MIME_TYPES: dict[ImageFormat, str] = {
    ImageFormat.WEBP: "image/webp",
    ImageFormat.JPEG: "image/jpeg",
    ImageFormat.PNG: "image/png",
}
_PIL_FORMATS: dict[ImageFormat, str] = {
    ImageFormat.WEBP: "WEBP",
    ImageFormat.JPEG: "JPEG",
    ImageFormat.PNG: "PNG",
}


@dataclass(frozen=True)
class ResizeRequest:
    """A resized copy: fit within ``width`` x ``height`` and ``scale`` of the original."""

    width: int | None
    height: int | None
    # Thousandths of the original size (1000 = full size), so that the cache name and the
    # computation use the same rounded number.
    scale_permille: int
    format: ImageFormat

    @classmethod
    def of(
        cls, *, width: int | None, height: int | None, scale: float | None, format: ImageFormat
    ) -> ResizeRequest:
        permille = 1000 if scale is None else max(50, min(1000, round(scale * 1000)))
        return cls(width=width, height=height, scale_permille=permille, format=format)

    @property
    def cache_name(self) -> str:
        return (
            f"image-w{self.width or 0}-h{self.height or 0}-s{self.scale_permille}"
            f".{self.format.value}"
        )

    def target_size(self, width: int, height: int) -> tuple[int, int]:
        """The output size for an original of ``width`` x ``height``: never larger than it."""
        factor = self.scale_permille / 1000
        if self.width is not None:
            factor = min(factor, self.width / width)
        if self.height is not None:
            factor = min(factor, self.height / height)
        factor = min(factor, MAX_SIDE / max(width, height), 1.0)
        return max(1, math.floor(width * factor + 0.5)), max(1, math.floor(height * factor + 0.5))


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int


def render_resized(
    original: Path, request: ResizeRequest, *, size_hint: tuple[int, int], max_pixels: int
) -> Rendition:
    """Decode ``original`` (shrunk on load where the format allows) and encode the copy.

    ``size_hint`` is the displayed size the pipeline recorded; it tells the decoder how small
    it may decode. The final size is computed from what the decoder reports.
    Raises :class:`~meadhall.library.pipeline.decode.DecodeError` for undecodable files.
    """
    wanted = request.target_size(*size_hint)
    decoded = decode(original.read_bytes(), max_pixels=max_pixels, target=max(wanted))
    size = request.target_size(decoded.width, decoded.height)
    image = decoded.image
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    return Rendition(data=encode(image, request.format), width=size[0], height=size[1])


def encode(image: Image.Image, fmt: ImageFormat) -> bytes:
    """``image`` in ``fmt``; JPEG has no alpha, so transparency is laid on white."""
    if fmt == ImageFormat.JPEG and image.mode != "RGB":
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    out = io.BytesIO()
    options: dict[str, object] = {}
    if fmt == ImageFormat.WEBP:
        options = {"quality": 80, "method": 4}
    elif fmt == ImageFormat.JPEG:
        options = {"quality": 85, "optimize": True}
    image.save(out, _PIL_FORMATS[fmt], **options)
    return out.getvalue()


def image_size(path: Path) -> tuple[int, int]:
    """The size of an encoded image from its header (cached copies)."""
    with Image.open(path) as image:
        return image.size
