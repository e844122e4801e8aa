"""Helpers of the tag and album tests."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from meadhall.library.models import Asset
from meadhall.platform.runtime import Runtime
from tests.library.factories import image_bytes, make_asset

_serial = itertools.count()


async def new_asset(runtime: Runtime, *, owner_id: uuid.UUID, **fields: Any) -> Asset:
    """A ready asset whose bytes are certainly new: a JPEG comment carries a serial number.

    (Random colours alone can collide, and one owner never stores the same bytes twice.)
    """
    data = image_bytes(comment=f"asset {next(_serial)} {uuid.uuid4()}".encode())
    return await make_asset(runtime, owner_id=owner_id, data=data, **fields)
