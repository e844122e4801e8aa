"""SQL of the albums domain."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, and_, case, delete, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.models import Album, AlbumAsset, AlbumMember, AlbumRole, Asset
from meadhall.library.repository import album_visible, asset_visible
from meadhall.library.tags.repository import like_escape
from meadhall.platform.accounts.models import User


@dataclass(frozen=True)
class AlbumView:
    """An album as one caller sees it."""

    album: Album
    owner_id: uuid.UUID
    owner_name: str
    role: AlbumRole
    asset_count: int
    cover_asset_id: uuid.UUID | None
    explicit_cover: bool
    cover_placeholder: str | None
    member_count: int


@dataclass(frozen=True)
class MemberView:
    user_id: uuid.UUID
    display_name: str
    role: AlbumRole
    added_at: datetime


@dataclass(frozen=True)
class AlbumItem:
    asset: Asset
    added_by_id: uuid.UUID | None
    added_at: datetime


@dataclass(frozen=True)
class AlbumLink:
    """One asset's place in an album, with who added it and who owns it."""

    asset_id: uuid.UUID
    added_by_id: uuid.UUID | None
    owner_id: uuid.UUID


def _view_columns(user_id: uuid.UUID) -> tuple[Any, ...]:
    count = (
        select(func.count())
        .select_from(AlbumAsset)
        .join(Asset, Asset.id == AlbumAsset.asset_id)
        .where(AlbumAsset.album_id == Album.id, Asset.trashed_at.is_(None))
        .correlate(Album)
        .scalar_subquery()
    )
    explicit = exists(
        select(AlbumAsset.asset_id)
        .join(Asset, Asset.id == AlbumAsset.asset_id)
        .where(
            AlbumAsset.album_id == Album.id,
            AlbumAsset.asset_id == Album.cover_asset_id,
            Asset.trashed_at.is_(None),
        )
        .correlate(Album)
    )
    newest = (
        select(AlbumAsset.asset_id)
        .join(Asset, Asset.id == AlbumAsset.asset_id)
        .where(AlbumAsset.album_id == Album.id, Asset.trashed_at.is_(None))
        .order_by(Asset.sort_at.desc(), Asset.id.desc())
        .limit(1)
        .correlate(Album)
        .scalar_subquery()
    )
    member_role = (
        select(AlbumMember.role)
        .where(AlbumMember.album_id == Album.id, AlbumMember.user_id == user_id)
        .correlate(Album)
        .scalar_subquery()
    )
    role = case((Album.owner_id == user_id, literal(AlbumRole.OWNER.value)), else_=member_role)
    cover = case((explicit, Album.cover_asset_id), else_=newest)
    cover_placeholder = select(Asset.placeholder).where(Asset.id == cover).scalar_subquery()
    members = (
        select(func.count())
        .select_from(AlbumMember)
        .where(AlbumMember.album_id == Album.id)
        .correlate(Album)
        .scalar_subquery()
    )
    return (
        User.display_name,
        role.label("role"),
        count.label("asset_count"),
        cover.label("cover"),
        explicit.label("explicit"),
        cover_placeholder.label("cover_placeholder"),
        members.label("member_count"),
    )


def _view(row: Row[Any]) -> AlbumView:
    album: Album = row[0]
    return AlbumView(
        album=album,
        owner_id=album.owner_id,
        owner_name=row.display_name,
        role=AlbumRole(row.role),
        asset_count=row.asset_count,
        cover_asset_id=row.cover,
        explicit_cover=bool(row.explicit),
        cover_placeholder=row.cover_placeholder,
        member_count=row.member_count or 0,
    )


async def album_views(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    role: Literal["owner", "shared"] | None,
    limit: int,
    offset: int,
) -> tuple[list[AlbumView], int]:
    """A page of the albums the caller owns or shares, most recently changed first."""
    if role == "owner":
        condition = Album.owner_id == user_id
    elif role == "shared":
        condition = and_(Album.owner_id != user_id, album_visible(user_id))
    else:
        condition = album_visible(user_id)
    total = await session.scalar(select(func.count()).select_from(Album).where(condition))
    query = (
        select(Album, *_view_columns(user_id))
        .join(User, User.id == Album.owner_id)
        .where(condition)
        .order_by(Album.updated_at.desc(), Album.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).all()
    return [_view(row) for row in rows], total or 0


async def album_view(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID
) -> AlbumView | None:
    row = (
        await session.execute(
            select(Album, *_view_columns(user_id))
            .join(User, User.id == Album.owner_id)
            .where(Album.id == album_id, album_visible(user_id))
        )
    ).first()
    return None if row is None else _view(row)


async def lock_album(session: AsyncSession, *, album_id: uuid.UUID) -> bool:
    """Lock the album row for this transaction; False if it is gone (deleted meanwhile)."""
    found = await session.scalar(
        select(Album.id).where(Album.id == album_id).with_for_update(key_share=True)
    )
    return found is not None


async def members(session: AsyncSession, *, album: Album) -> list[MemberView]:
    """The owner first, then the members by display name."""
    owner = await session.scalar(select(User.display_name).where(User.id == album.owner_id))
    rows = (
        await session.execute(
            select(AlbumMember.user_id, User.display_name, AlbumMember.role, AlbumMember.added_at)
            .join(User, User.id == AlbumMember.user_id)
            .where(AlbumMember.album_id == album.id)
            .order_by(func.lower(User.display_name), User.id)
        )
    ).all()
    result = [MemberView(album.owner_id, owner or "", AlbumRole.OWNER, album.created_at)]
    result += [MemberView(uid, name, AlbumRole(role), added) for uid, name, role, added in rows]
    return result


async def member(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID
) -> MemberView | None:
    row = (
        await session.execute(
            select(AlbumMember.user_id, User.display_name, AlbumMember.role, AlbumMember.added_at)
            .join(User, User.id == AlbumMember.user_id)
            .where(AlbumMember.album_id == album_id, AlbumMember.user_id == user_id)
        )
    ).first()
    if row is None:
        return None
    return MemberView(row[0], row[1], AlbumRole(row[2]), row[3])


async def upsert_member(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> None:
    await session.execute(
        insert(AlbumMember)
        .values(album_id=album_id, user_id=user_id, role=role)
        .on_conflict_do_update(
            index_elements=[AlbumMember.album_id, AlbumMember.user_id], set_={"role": role}
        )
    )


async def delete_member(session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    removed = await session.scalar(
        delete(AlbumMember)
        .where(AlbumMember.album_id == album_id, AlbumMember.user_id == user_id)
        .returning(AlbumMember.user_id)
    )
    return removed is not None


async def active_user(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    return await session.scalar(select(User).where(User.id == user_id, User.is_active.is_(True)))


async def visible_assets(
    session: AsyncSession, *, user_id: uuid.UUID, asset_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """The ids among ``asset_ids`` that ``user_id`` can see and that are not in the trash."""
    found = await session.scalars(
        select(Asset.id).where(
            Asset.id.in_(asset_ids), asset_visible(user_id), Asset.trashed_at.is_(None)
        )
    )
    return set(found.all())


async def link_assets(
    session: AsyncSession,
    *,
    album_id: uuid.UUID,
    asset_ids: Collection[uuid.UUID],
    added_by_id: uuid.UUID,
) -> set[uuid.UUID]:
    """Put assets in the album; returns the ids that were not in it yet."""
    if not asset_ids:
        return set()
    added = await session.scalars(
        insert(AlbumAsset)
        .values(
            [
                {"album_id": album_id, "asset_id": asset_id, "added_by_id": added_by_id}
                for asset_id in asset_ids
            ]
        )
        .on_conflict_do_nothing()
        .returning(AlbumAsset.asset_id)
    )
    return set(added.all())


async def links(
    session: AsyncSession, *, album_id: uuid.UUID, asset_ids: Collection[uuid.UUID]
) -> list[AlbumLink]:
    rows = (
        await session.execute(
            select(AlbumAsset.asset_id, AlbumAsset.added_by_id, Asset.owner_id)
            .join(Asset, Asset.id == AlbumAsset.asset_id)
            .where(AlbumAsset.album_id == album_id, AlbumAsset.asset_id.in_(asset_ids))
        )
    ).all()
    return [AlbumLink(asset_id, added_by, owner) for asset_id, added_by, owner in rows]


async def unlink_assets(
    session: AsyncSession, *, album_id: uuid.UUID, asset_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    if not asset_ids:
        return set()
    removed = await session.scalars(
        delete(AlbumAsset)
        .where(AlbumAsset.album_id == album_id, AlbumAsset.asset_id.in_(asset_ids))
        .returning(AlbumAsset.asset_id)
    )
    return set(removed.all())


async def live_count(session: AsyncSession, *, album_id: uuid.UUID) -> int:
    """Assets in the album that are not in the trash."""
    count = await session.scalar(
        select(func.count())
        .select_from(AlbumAsset)
        .join(Asset, Asset.id == AlbumAsset.asset_id)
        .where(AlbumAsset.album_id == album_id, Asset.trashed_at.is_(None))
    )
    return count or 0


async def live_link_exists(
    session: AsyncSession, *, album_id: uuid.UUID, asset_id: uuid.UUID
) -> bool:
    found = await session.scalar(
        select(AlbumAsset.asset_id)
        .join(Asset, Asset.id == AlbumAsset.asset_id)
        .where(
            AlbumAsset.album_id == album_id,
            AlbumAsset.asset_id == asset_id,
            Asset.trashed_at.is_(None),
        )
    )
    return found is not None


async def album_items(
    session: AsyncSession, *, album_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[AlbumItem], int]:
    """A page of the album's assets (not in the trash), newest first."""
    total = await live_count(session, album_id=album_id)
    rows = (
        await session.execute(
            select(Asset, AlbumAsset.added_by_id, AlbumAsset.added_at)
            .join(AlbumAsset, AlbumAsset.asset_id == Asset.id)
            .where(AlbumAsset.album_id == album_id, Asset.trashed_at.is_(None))
            .order_by(Asset.sort_at.desc(), Asset.id.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return [AlbumItem(asset, added_by, added_at) for asset, added_by, added_at in rows], total


async def find_people(
    session: AsyncSession, *, exclude: uuid.UUID, q: str, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """Active users whose display name starts with ``q``, or whose e-mail address is ``q``.

    E-mail addresses match only whole (any case): matching their start would let anyone signed
    in spell out who has an account, one character at a time.
    """
    pattern = func.lower(literal(like_escape(q))) + "%"
    rows = (
        await session.execute(
            select(User.id, User.display_name)
            .where(
                User.is_active.is_(True),
                User.id != exclude,
                func.lower(User.display_name).like(pattern, escape="\\")
                | (func.lower(User.email) == q.lower()),
            )
            .order_by(func.lower(User.display_name), User.id)
            .limit(limit)
        )
    ).all()
    return [(user_id, name) for user_id, name in rows]
