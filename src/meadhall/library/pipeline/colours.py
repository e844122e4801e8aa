"""The colours of a picture, most dominant first, from its thumbnail."""

from __future__ import annotations

import numpy as np
from PIL import Image

PALETTE_SIZE = 6


def palette(image: Image.Image, *, count: int = PALETTE_SIZE) -> list[str]:
    """Up to ``count`` hex colours (``#rrggbb``), ordered by how many pixels they cover.

    Fast octree quantisation of the thumbnail costs well under a millisecond. Pixels that are
    mostly transparent are left out (they would otherwise count as black).
    """
    quantised = image.convert("RGB").quantize(colors=count, method=Image.Quantize.FASTOCTREE)
    indices = np.asarray(quantised, dtype=np.uint8)
    if image.mode == "RGBA":
        indices = indices[np.asarray(image.getchannel("A")) >= 128]
    counts = np.bincount(indices.ravel(), minlength=256)
    colours = quantised.getpalette() or []
    result: list[str] = []
    # Most pixels first; the lower index breaks ties so the order is stable.
    for index in np.lexsort((np.arange(counts.size), -counts)):
        if counts[index] == 0:
            break
        red, green, blue = colours[index * 3 : index * 3 + 3]
        code = f"#{red:02x}{green:02x}{blue:02x}"
        if code not in result:
            result.append(code)
    return result[:count]
