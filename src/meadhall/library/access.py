"""Who may see and change which assets and albums — the one place these rules live.

- An owner sees and changes their own assets, trashed ones included.
- An album's owner and members see the album's assets that are not in the trash.
  Contributors may add assets they can see to the album and remove what they added;
  viewers only look. Only the owner changes or deletes the album itself.
- Everything else answers 404, exactly like an id that does not exist.

The same rules as SQL conditions (``asset_visible``, ``album_visible``) are in
:mod:`meadhall.library.repository`, which every query over "what the caller can see" uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library import repository
from meadhall.library.assets.schemas import BulkError
from meadhall.library.errors import AlbumNotFound, AssetNotFound, NotAlbumOwner, NotAssetOwner
from meadhall.library.models import Album, AlbumRole, Asset


async def viewable_asset(
    session: AsyncSession, *, asset_id: uuid.UUID, user_id: uuid.UUID
) -> Asset:
    """The asset if ``user_id`` may see it; :class:`AssetNotFound` otherwise."""
    asset = await repository.visible_asset(session, asset_id=asset_id, user_id=user_id)
    if asset is None:
        raise AssetNotFound("no such asset")
    return asset


@dataclass(frozen=True)
class BulkTarget:
    """One id of a bulk request: the caller's own asset (locked), or why it is refused."""

    id: uuid.UUID
    asset: Asset | None
    error: BulkError | None


async def bulk_targets(
    session: AsyncSession, *, asset_ids: Sequence[uuid.UUID], user_id: uuid.UUID, verb: str
) -> list[BulkTarget]:
    """Each distinct id of ``asset_ids`` in order, with the rules of the one-asset routes: an
    asset the caller cannot see is ``asset_not_found``, one they only see through an album is
    ``not_asset_owner`` ("only the owner may <verb> this"). Owned assets are locked."""
    unique = list(dict.fromkeys(asset_ids))
    found = {
        asset.id: asset
        for asset in await repository.visible_assets(
            session, asset_ids=unique, user_id=user_id, for_update=True
        )
    }
    targets: list[BulkTarget] = []
    for asset_id in unique:
        asset = found.get(asset_id)
        if asset is None:
            error = BulkError(code=AssetNotFound.code, message="no such asset")
            targets.append(BulkTarget(asset_id, None, error))
        elif asset.owner_id != user_id:
            error = BulkError(code=NotAssetOwner.code, message=f"only the owner may {verb} this")
            targets.append(BulkTarget(asset_id, None, error))
        else:
            targets.append(BulkTarget(asset_id, asset, None))
    return targets


async def owned_asset(
    session: AsyncSession, *, asset_id: uuid.UUID, user_id: uuid.UUID, for_update: bool = False
) -> Asset:
    """The asset if ``user_id`` owns it; 404 if they cannot see it, 403 if they only see it."""
    asset = await repository.visible_asset(
        session, asset_id=asset_id, user_id=user_id, for_update=for_update
    )
    if asset is None:
        raise AssetNotFound("no such asset")
    if asset.owner_id != user_id:
        raise NotAssetOwner("only the owner may change this asset")
    return asset


async def album_role(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Album, AlbumRole]:
    """The album and the caller's role in it; :class:`AlbumNotFound` when they have none."""
    album = await session.get(Album, album_id)
    if album is None:
        raise AlbumNotFound("no such album")
    if album.owner_id == user_id:
        return album, AlbumRole.OWNER
    role = await repository.member_role(session, album_id=album_id, user_id=user_id)
    if role is None:
        raise AlbumNotFound("no such album")
    return album, AlbumRole(role)


async def require_album_role(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID, at_least: AlbumRole
) -> tuple[Album, AlbumRole]:
    """Like :func:`album_role`, but 403 when the caller's role is below ``at_least``."""
    album, role = await album_role(session, album_id=album_id, user_id=user_id)
    order = [AlbumRole.VIEWER, AlbumRole.CONTRIBUTOR, AlbumRole.OWNER]
    if order.index(role) < order.index(at_least):
        raise NotAlbumOwner(f"this needs the {at_least.value} role in the album")
    return album, role
