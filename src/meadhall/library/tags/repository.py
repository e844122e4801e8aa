"""SQL of the tags domain."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, Select, Uuid, delete, exists, func, literal, select, true
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.models import AssetTag, Tag


def like_escape(value: str) -> str:
    """``value`` with LIKE wildcards escaped (the escape character is a backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def asset_count() -> ColumnElement[int]:
    """Correlated count of the assets carrying ``Tag``."""
    return (
        select(func.count())
        .select_from(AssetTag)
        .where(AssetTag.tag_id == Tag.id)
        .correlate(Tag)
        .scalar_subquery()
    )


def _filtered(
    owner_id: uuid.UUID, *, q: str | None, prefix: str | None, orphans_only: bool
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Tag.owner_id == owner_id]
    if prefix:
        pattern = func.lower(literal(like_escape(prefix))) + "%"
        conditions.append(func.lower(Tag.name).like(pattern, escape="\\"))
    if q:
        pattern = "%" + func.lower(literal(like_escape(q))) + "%"
        conditions.append(func.lower(Tag.name).like(pattern, escape="\\"))
    if orphans_only:
        conditions.append(~exists().where(AssetTag.tag_id == Tag.id))
    return conditions


async def search_tags(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    q: str | None,
    prefix: str | None,
    orphans_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Tag, int]], int]:
    """One page of an owner's tags by name, each with its asset count, and the total."""
    conditions = _filtered(owner_id, q=q, prefix=prefix, orphans_only=orphans_only)
    total = await session.scalar(select(func.count()).select_from(Tag).where(*conditions))
    query: Select[Tag, int] = (
        select(Tag, asset_count())
        .where(*conditions)
        .order_by(func.lower(Tag.name), Tag.id)
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).all()
    return [(tag, count) for tag, count in rows], total or 0


async def tag_with_count(
    session: AsyncSession, *, owner_id: uuid.UUID, tag_id: uuid.UUID
) -> tuple[Tag, int] | None:
    row = (
        await session.execute(
            select(Tag, asset_count()).where(Tag.id == tag_id, Tag.owner_id == owner_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def owned_tags(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    tag_ids: Collection[uuid.UUID],
    for_update: bool = False,
) -> list[Tag]:
    """The tags among ``tag_ids`` that ``owner_id`` owns (locked in id order if asked)."""
    if not tag_ids:
        return []
    query = select(Tag).where(Tag.id.in_(tag_ids), Tag.owner_id == owner_id).order_by(Tag.id)
    if for_update:
        query = query.with_for_update()
    return list((await session.scalars(query)).all())


async def tag_named(session: AsyncSession, *, owner_id: uuid.UUID, name: str) -> Tag | None:
    """The owner's tag whose name equals ``name`` regardless of case."""
    return await session.scalar(
        select(Tag).where(Tag.owner_id == owner_id, func.lower(Tag.name) == func.lower(name))
    )


async def tags_named(
    session: AsyncSession, *, owner_id: uuid.UUID, names: Sequence[str]
) -> list[Tag]:
    """The owner's tags matching any of ``names`` regardless of case."""
    if not names:
        return []
    wanted = [func.lower(literal(name)) for name in names]
    return list(
        (
            await session.scalars(
                select(Tag).where(Tag.owner_id == owner_id, func.lower(Tag.name).in_(wanted))
            )
        ).all()
    )


async def insert_tags(session: AsyncSession, *, owner_id: uuid.UUID, names: Sequence[str]) -> None:
    """Create the tags among ``names`` that do not exist yet (a concurrent twin is fine)."""
    if not names:
        return
    await session.execute(
        insert(Tag)
        .values([{"owner_id": owner_id, "name": name} for name in names])
        .on_conflict_do_nothing(index_elements=[Tag.owner_id, func.lower(Tag.name)])
    )


async def insert_tag(session: AsyncSession, *, owner_id: uuid.UUID, name: str) -> Tag | None:
    """A new tag, or ``None`` when the owner already has one of that name (any case)."""
    return await session.scalar(
        insert(Tag)
        .values(owner_id=owner_id, name=name)
        .on_conflict_do_nothing(index_elements=[Tag.owner_id, func.lower(Tag.name)])
        .returning(Tag)
    )


async def tags_of_asset(session: AsyncSession, *, asset_id: uuid.UUID) -> list[Tag]:
    return list(
        (
            await session.scalars(
                select(Tag)
                .join(AssetTag, AssetTag.tag_id == Tag.id)
                .where(AssetTag.asset_id == asset_id)
                .order_by(func.lower(Tag.name), Tag.id)
            )
        ).all()
    )


async def link(
    session: AsyncSession, *, asset_id: uuid.UUID, tag_ids: Collection[uuid.UUID]
) -> int:
    """Attach tags to an asset; returns how many links are new."""
    if not tag_ids:
        return 0
    added = await session.scalars(
        insert(AssetTag)
        .values([{"asset_id": asset_id, "tag_id": tag_id} for tag_id in tag_ids])
        .on_conflict_do_nothing()
        .returning(AssetTag.tag_id)
    )
    return len(added.all())


async def link_many(
    session: AsyncSession, *, asset_ids: Collection[uuid.UUID], tag_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Attach every tag to every asset in one statement; returns the assets that gained one."""
    if not asset_ids or not tag_ids:
        return set()
    assets = select(func.unnest(literal(list(asset_ids), ARRAY(Uuid))).label("asset_id")).subquery()
    tags = select(func.unnest(literal(list(tag_ids), ARRAY(Uuid))).label("tag_id")).subquery()
    pairs = select(assets.c.asset_id, tags.c.tag_id).select_from(assets.join(tags, true()))
    added = await session.scalars(
        insert(AssetTag)
        .from_select(["asset_id", "tag_id"], pairs)
        .on_conflict_do_nothing()
        .returning(AssetTag.asset_id)
    )
    return set(added.all())


async def unlink(
    session: AsyncSession,
    *,
    asset_id: uuid.UUID,
    tag_ids: Collection[uuid.UUID] | None = None,
    keep: Collection[uuid.UUID] | None = None,
) -> int:
    """Detach ``tag_ids`` from an asset, or every tag not in ``keep``; returns how many went."""
    query = delete(AssetTag).where(AssetTag.asset_id == asset_id)
    if tag_ids is not None:
        if not tag_ids:
            return 0
        query = query.where(AssetTag.tag_id.in_(tag_ids))
    if keep:
        query = query.where(AssetTag.tag_id.not_in(keep))
    removed = await session.scalars(query.returning(AssetTag.tag_id))
    return len(removed.all())


async def move_links(session: AsyncSession, *, source_id: uuid.UUID, target_id: uuid.UUID) -> None:
    """Give every asset of ``source_id`` the tag ``target_id`` (skipping those that have it)."""
    await session.execute(
        insert(AssetTag)
        .from_select(
            ["asset_id", "tag_id"],
            select(AssetTag.asset_id, literal(target_id)).where(AssetTag.tag_id == source_id),
        )
        .on_conflict_do_nothing()
    )


async def delete_orphans(session: AsyncSession, *, owner_id: uuid.UUID) -> int:
    removed = await session.scalars(
        delete(Tag)
        .where(Tag.owner_id == owner_id, ~exists().where(AssetTag.tag_id == Tag.id))
        .returning(Tag.id)
    )
    return len(removed.all())
