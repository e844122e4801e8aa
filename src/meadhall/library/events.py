"""Library events on the gateway: an open page updates live as assets come and go."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.models import Asset
from meadhall.library.repository import album_ids_of_asset
from meadhall.library.topics import album_topic, library_topic
from meadhall.platform.events.bus import publish_after_commit, session_bus

ASSET_ADDED = "asset.added"
ASSET_PROCESSED = "asset.processed"
ASSET_CHANGED = "asset.changed"
ASSET_DELETED = "asset.deleted"
ALBUM_CHANGED = "album.changed"


def asset_summary(asset: Asset) -> dict[str, Any]:
    """What every asset event carries: enough for a timeline to place or drop the item."""
    return {
        "id": str(asset.id),
        "owner_id": str(asset.owner_id),
        "name": asset.name,
        "status": asset.status,
        "type": asset.type,
        "media": asset.media,
        "local_at": asset.local_at.isoformat() if asset.local_at else None,
        "width": asset.width,
        "height": asset.height,
        "duration_ms": asset.duration_ms,
        "placeholder": asset.placeholder,
        "is_favourite": asset.is_favourite,
        "is_archived": asset.is_archived,
        "trashed": asset.trashed_at is not None,
    }


async def announce_asset(
    session: AsyncSession, asset: Asset, event: str, *, extra: dict[str, Any] | None = None
) -> None:
    """Publish ``event`` about ``asset`` after commit, to its owner and the albums holding it."""
    bus = session_bus(session)
    if bus is None:
        return
    data = {**asset_summary(asset), **(extra or {})}
    publish_after_commit(session, bus, library_topic(asset.owner_id), event, data)
    for album_id in await album_ids_of_asset(session, asset_id=asset.id):
        publish_after_commit(session, bus, album_topic(album_id), event, data)
