"""Helpers of the assets and timeline tests."""

from __future__ import annotations

import itertools
from typing import Any

from meadhall.library.models import Asset
from meadhall.platform.runtime import Runtime
from tests.library import factories

_COLOURS = itertools.count(1)


def distinct_image() -> bytes:
    """A JPEG unlike any other this function made in the run (colours far apart).

    The same bytes twice for one owner would be a duplicate, which the database refuses.
    """
    n = next(_COLOURS)
    colour = ((n * 37) % 256, (n * 91 + n // 256 * 17) % 256, (n * 53 + n // 65536) % 256)
    return factories.image_bytes(width=64 + n % 7, height=48, color=colour)


async def make_asset(runtime: Runtime, **fields: Any) -> Asset:
    """``factories.make_asset`` with a distinct picture unless ``data`` is given."""
    fields.setdefault("data", distinct_image())
    return await factories.make_asset(runtime, **fields)
