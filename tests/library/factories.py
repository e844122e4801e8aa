"""Test data for the Library: real image files, and asset rows that point at them."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from meadhall.library.models import Asset, AssetStatus, Origin
from meadhall.library.storage import LibraryStorage
from meadhall.platform.runtime import Runtime


def image_bytes(
    width: int = 64,
    height: int = 48,
    color: tuple[int, int, int] = (200, 40, 40),
    fmt: str = "JPEG",
    **save: Any,
) -> bytes:
    """A real encoded image (a coloured rectangle with a white square, so it is not flat)."""
    image = Image.new("RGB", (width, height), color)
    image.paste((255, 255, 255), (width // 4, height // 4, width // 2, height // 2))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


async def make_asset(
    runtime: Runtime,
    *,
    owner_id: uuid.UUID,
    data: bytes | None = None,
    filename: str = "photo.jpg",
    when: datetime | None = None,
    **fields: Any,
) -> Asset:
    """Store ``data`` as a managed original and insert a processed asset row for it."""
    if data is None:
        # A unique comment: two default assets of one owner must never share their bytes.
        data = image_bytes(color=(200, 90, 160), comment=uuid.uuid4().hex.encode())
    when = when or datetime.now(UTC)
    storage = LibraryStorage(runtime.settings)
    with storage.temp_writer() as (temp, handle):
        handle.write(data)
    path = storage.store_original(
        temp, planned=storage.planned_path(user=str(owner_id), when=when, filename=filename)
    )
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    values: dict[str, Any] = {
        "owner_id": owner_id,
        "origin": Origin.UPLOAD,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_bytes": len(data),
        "mime_type": "image/jpeg",
        "original_filename": filename,
        "storage_path": path,
        "name": filename.rsplit(".", 1)[0],
        "status": AssetStatus.READY,
        "media": "image",
        "width": width,
        "height": height,
        "captured_local": when.replace(tzinfo=None),
        "captured_at": when,
        "capture_tz": "UTC",
        "capture_tz_source": "server_default",
        "local_at": when.replace(tzinfo=None),
        "sort_at": when,
    }
    values.update(fields)
    async with runtime.db.transaction() as session:
        asset = Asset(**values)
        session.add(asset)
        await session.flush()
    return asset


async def make_album(
    runtime: Runtime,
    *,
    owner_id: uuid.UUID,
    name: str = "Album",
    assets: list[Asset] | tuple[Asset, ...] = (),
    members: dict[uuid.UUID, str] | None = None,
) -> uuid.UUID:
    """An album holding ``assets``, shared with ``members`` (user id -> role)."""
    from meadhall.library.models import Album, AlbumAsset, AlbumMember

    async with runtime.db.transaction() as session:
        album = Album(owner_id=owner_id, name=name)
        session.add(album)
        await session.flush()
        for asset in assets:
            session.add(AlbumAsset(album_id=album.id, asset_id=asset.id, added_by_id=owner_id))
        for user_id, role in (members or {}).items():
            session.add(AlbumMember(album_id=album.id, user_id=user_id, role=role))
        await session.flush()
        return album.id


async def make_tag(
    runtime: Runtime,
    *,
    owner_id: uuid.UUID,
    name: str,
    assets: list[Asset] | tuple[Asset, ...] = (),
) -> uuid.UUID:
    """A tag of ``owner_id`` put on ``assets``."""
    from meadhall.library.models import AssetTag, Tag

    async with runtime.db.transaction() as session:
        tag = Tag(owner_id=owner_id, name=name)
        session.add(tag)
        await session.flush()
        for asset in assets:
            session.add(AssetTag(asset_id=asset.id, tag_id=tag.id))
        await session.flush()
        return tag.id
