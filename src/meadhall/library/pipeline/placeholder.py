"""The blurred placeholder a timeline paints while the thumbnail loads: a ThumbHash."""

from __future__ import annotations

import base64

import thumbhash
from PIL import Image

# ThumbHash keeps only a handful of low frequencies, so a 32 px source looks the same once
# decoded as a 100 px one, at a twentieth of the cost of this pure-Python encoder.
PLACEHOLDER_SOURCE = 32


def placeholder(image: Image.Image) -> str:
    """Base64 ThumbHash (about 25-35 characters) of ``image``, alpha included."""
    tiny = image.convert("RGBA")
    if max(tiny.size) > PLACEHOLDER_SOURCE:
        tiny.thumbnail((PLACEHOLDER_SOURCE, PLACEHOLDER_SOURCE), Image.Resampling.BILINEAR)
    encoded = thumbhash.rgba_to_thumb_hash(tiny.width, tiny.height, list(tiny.tobytes()))
    return base64.b64encode(bytes(encoded)).decode("ascii")
