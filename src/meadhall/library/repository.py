"""SQL shared by the Library's parts: the visibility conditions behind ``access.py``'s rules,
and lookups of assets, album links and folders that several parts need.

``asset_visible`` and ``album_visible`` are the privacy rules written as SQL conditions; every
query over "what the caller can see" applies them, so the rule lives in one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.models import Album, AlbumAsset, AlbumMember, Asset, LibraryFolder


def album_visible(user_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition: ``Album`` is owned by or shared with ``user_id``."""
    return or_(
        Album.owner_id == user_id,
        exists().where(AlbumMember.album_id == Album.id, AlbumMember.user_id == user_id),
    )


def asset_visible(user_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition: ``Asset`` is owned by ``user_id`` or in an album shared with them."""
    shared = (
        select(AlbumAsset.asset_id)
        .join(Album, Album.id == AlbumAsset.album_id)
        .where(AlbumAsset.asset_id == Asset.id, album_visible(user_id))
        .exists()
    )
    return or_(Asset.owner_id == user_id, and_(Asset.trashed_at.is_(None), shared))


async def visible_asset(
    session: AsyncSession, *, asset_id: uuid.UUID, user_id: uuid.UUID, for_update: bool = False
) -> Asset | None:
    """The asset if ``user_id`` may see it (locked if asked)."""
    query = select(Asset).where(Asset.id == asset_id, asset_visible(user_id))
    if for_update:
        query = query.with_for_update(of=Asset)
    return await session.scalar(query)


async def visible_assets(
    session: AsyncSession,
    *,
    asset_ids: Sequence[uuid.UUID],
    user_id: uuid.UUID,
    for_update: bool = False,
) -> list[Asset]:
    """Those of ``asset_ids`` that ``user_id`` may see (locked in id order when updating, so two
    bulk requests over overlapping selections never deadlock)."""
    query = select(Asset).where(Asset.id.in_(asset_ids), asset_visible(user_id)).order_by(Asset.id)
    if for_update:
        query = query.with_for_update(of=Asset)
    return list((await session.scalars(query)).all())


async def member_role(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID
) -> str | None:
    """``user_id``'s role as a member of the album (``None``: not a member; owners are not
    members)."""
    return await session.scalar(
        select(AlbumMember.role).where(
            AlbumMember.album_id == album_id, AlbumMember.user_id == user_id
        )
    )


async def asset_for_update(session: AsyncSession, *, asset_id: uuid.UUID) -> Asset | None:
    """The asset, locked for the rest of the transaction."""
    return await session.scalar(select(Asset).where(Asset.id == asset_id).with_for_update(of=Asset))


async def assets_by_ids(session: AsyncSession, *, asset_ids: Collection[uuid.UUID]) -> list[Asset]:
    """The assets among ``asset_ids`` that still exist, in no particular order."""
    return list((await session.scalars(select(Asset).where(Asset.id.in_(asset_ids)))).all())


async def album_ids_of_asset(session: AsyncSession, *, asset_id: uuid.UUID) -> list[uuid.UUID]:
    """Every album holding the asset, whoever can see it."""
    found = await session.scalars(
        select(AlbumAsset.album_id).where(AlbumAsset.asset_id == asset_id)
    )
    return list(found.all())


async def album_ids_by_asset(
    session: AsyncSession, *, asset_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """``{asset id: ids of the albums holding it}`` for those of ``asset_ids`` in any album."""
    rows = await session.execute(
        select(AlbumAsset.asset_id, AlbumAsset.album_id).where(AlbumAsset.asset_id.in_(asset_ids))
    )
    albums: dict[uuid.UUID, list[uuid.UUID]] = {}
    for asset_id, album_id in rows.all():
        albums.setdefault(asset_id, []).append(album_id)
    return albums


async def folder_path(session: AsyncSession, *, folder_id: uuid.UUID) -> str | None:
    """The server path of an indexed folder (``None``: no longer indexed)."""
    return await session.scalar(select(LibraryFolder.path).where(LibraryFolder.id == folder_id))
