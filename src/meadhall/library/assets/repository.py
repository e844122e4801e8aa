"""SQL of the assets domain: filtered, keyset-paginated lists, random picks, details, purges.

Visibility is always :func:`meadhall.library.repository.asset_visible`. Queries over "what the
caller can see" are split into two branches that are each cheap to index: the caller's own
assets (``owner_id = me``, served by the ``(owner_id, …)`` indexes) and assets of others that
sit in an album shared with the caller (driven from ``album_assets``). The second branch still
applies ``asset_visible`` itself, so the rule is enforced in one place only; the extra
``id IN (…)`` condition merely lets PostgreSQL start from the album links instead of testing
every asset in the table.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from meadhall.library.assets.schemas import AssetSort, SortOrder
from meadhall.library.models import Album, AlbumAsset, Asset, AssetTag, Tag
from meadhall.library.repository import album_visible, asset_visible

SORT_COLUMNS: dict[AssetSort, InstrumentedAttribute[Any]] = {
    AssetSort.CAPTURED: Asset.sort_at,
    AssetSort.CREATED: Asset.created_at,
    AssetSort.NAME: Asset.name,
    AssetSort.SIZE: Asset.size_bytes,
}


def like_escape(value: str) -> str:
    """``value`` with LIKE wildcards escaped (the escape character is a backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class AssetFilters:
    """What a list asks for; ``None`` (or empty) means "any"."""

    types: Sequence[str] = ()
    media: Sequence[str] = ()
    tag_ids: Sequence[uuid.UUID] = ()
    album_id: uuid.UUID | None = None
    local_from: date | None = None
    local_to: date | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    country: str | None = None
    city: str | None = None
    favourite: bool | None = None
    # False: not archived (the default view); True: only archived; None: both.
    archived: bool | None = False
    # True lists the caller's trash (and nothing shared).
    trashed: bool = False
    q: str | None = None


def filter_conditions(filters: AssetFilters) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Asset`` for everything in ``filters`` except visibility and trash."""
    conditions: list[ColumnElement[bool]] = []
    if filters.types:
        conditions.append(Asset.type.in_(list(filters.types)))
    if filters.media:
        conditions.append(Asset.media.in_(list(filters.media)))
    for tag_id in dict.fromkeys(filters.tag_ids):
        conditions.append(exists().where(AssetTag.asset_id == Asset.id, AssetTag.tag_id == tag_id))
    if filters.album_id is not None:
        conditions.append(
            exists().where(AlbumAsset.asset_id == Asset.id, AlbumAsset.album_id == filters.album_id)
        )
    if filters.local_from is not None:
        conditions.append(
            Asset.local_at >= datetime.combine(filters.local_from, datetime.min.time())
        )
    if filters.local_to is not None and filters.local_to < date.max:
        end = datetime.combine(filters.local_to + timedelta(days=1), datetime.min.time())
        conditions.append(Asset.local_at < end)
    if filters.camera_make:
        conditions.append(func.lower(Asset.camera_make) == filters.camera_make.lower())
    if filters.camera_model:
        conditions.append(func.lower(Asset.camera_model) == filters.camera_model.lower())
    if filters.country:
        wanted = filters.country.lower()
        conditions.append(
            or_(func.lower(Asset.country) == wanted, func.lower(Asset.country_code) == wanted)
        )
    if filters.city:
        conditions.append(func.lower(Asset.city) == filters.city.lower())
    # Written as plain boolean tests (not ``IS false``) so PostgreSQL can match them with the
    # predicates of the partial indexes of migration 0007.
    if filters.favourite is not None:
        conditions.append(_flag(Asset.is_favourite, filters.favourite))
    if filters.archived is not None:
        conditions.append(_flag(Asset.is_archived, filters.archived))
    if filters.q:
        # ILIKE uses the trigram indexes of migration 0007 when pg_trgm is installed.
        pattern = "%" + like_escape(filters.q) + "%"
        conditions.append(
            or_(
                Asset.name.ilike(pattern, escape="\\"),
                Asset.description.ilike(pattern, escape="\\"),
            )
        )
    return conditions


def _flag(column: InstrumentedAttribute[bool], value: bool) -> ColumnElement[bool]:
    return column.expression if value else ~column


def shared_asset_ids(user_id: uuid.UUID) -> Select[uuid.UUID]:
    """Ids of assets in albums ``user_id`` owns or is a member of."""
    return (
        select(AlbumAsset.asset_id)
        .join(Album, Album.id == AlbumAsset.album_id)
        .where(album_visible(user_id))
    )


def visible_branches(user_id: uuid.UUID, *, trashed: bool) -> list[list[ColumnElement[bool]]]:
    """Conditions of the branches whose union is what the caller sees (see module doc)."""
    if trashed:
        # The trash is personal: only the owner's trashed assets, never shared ones.
        return [[Asset.owner_id == user_id, Asset.trashed_at.is_not(None)]]
    return [
        [Asset.owner_id == user_id, Asset.trashed_at.is_(None)],
        [
            Asset.owner_id != user_id,
            Asset.trashed_at.is_(None),
            Asset.id.in_(shared_asset_ids(user_id)),
            asset_visible(user_id),
        ],
    ]


@dataclass(frozen=True)
class Keyset:
    """Where the previous page ended: its last sort value and id."""

    value: Any
    id: uuid.UUID


async def list_page(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    filters: AssetFilters,
    sort: AssetSort,
    order: SortOrder,
    after: Keyset | None,
    limit: int,
) -> list[Asset]:
    """Up to ``limit`` visible assets after ``after`` in (sort key, id) order.

    Keyset pagination: the page boundary is a value, not an offset, so assets added or removed
    meanwhile neither repeat nor skip items, and deep pages cost the same as the first.
    """
    column = SORT_COLUMNS[sort]
    descending = order == SortOrder.DESC
    conditions = filter_conditions(filters)
    if after is not None:
        boundary = tuple_(column, Asset.id)
        position = tuple_(literal(after.value, column.type), literal(after.id, Asset.id.type))
        conditions.append(boundary < position if descending else boundary > position)

    def ordered(col: Any) -> list[Any]:
        return [col.desc(), Asset.id.desc()] if descending else [col.asc(), Asset.id.asc()]

    branches = [
        select(Asset.id.label("id"), column.label("key"))
        .where(*branch, *conditions)
        .order_by(*ordered(column))
        .limit(limit)
        for branch in visible_branches(user_id, trashed=filters.trashed)
    ]
    if len(branches) == 1:
        page_ids = branches[0].subquery()
    else:
        page_ids = union_all(*(b.subquery().select() for b in branches)).subquery()
    key = page_ids.c.key
    query = (
        select(Asset)
        .join(page_ids, page_ids.c.id == Asset.id)
        .order_by(*([key.desc(), Asset.id.desc()] if descending else [key.asc(), Asset.id.asc()]))
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


def sort_value(asset: Asset, sort: AssetSort) -> Any:
    """The value of ``asset``'s sort key (what a cursor remembers)."""
    return getattr(asset, SORT_COLUMNS[sort].key)


async def random_picks(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    filters: AssetFilters,
    count: int,
    rng: random.Random | None = None,
) -> list[Asset]:
    """Up to ``count`` distinct random visible assets matching ``filters``.

    ``ORDER BY random()`` would read and sort every matching row. Instead every asset has a
    fixed pseudo-random position, ``uuid_hash(id)`` (uniform over 32-bit integers, indexed per
    owner by ``ix_assets_random``); a pick draws a random point and reads the next ``count``
    positions from there, wrapping around at the end. That costs an index range scan of
    ``count`` entries (more when filters are selective) whatever the library's size.
    Items are not all exactly equally likely (one after a wide gap between positions wins a
    little more often), which is fine for "show me something"; the drawn point changes on
    every call, so repeated calls wander over the whole library.
    """
    rng = rng or random.SystemRandom()
    start = rng.randint(-(2**31), 2**31 - 1)
    position = func.uuid_hash(Asset.id)
    conditions = filter_conditions(filters)
    picked: list[Asset] = []
    for window in (position >= start, position < start):
        wanted = count - len(picked)
        if wanted <= 0:
            break
        branches = [
            select(Asset.id.label("id"), position.label("pos"))
            .where(*branch, *conditions, window)
            .order_by(position)
            .limit(wanted)
            for branch in visible_branches(user_id, trashed=False)
        ]
        ids = union_all(*(b.subquery().select() for b in branches)).subquery()
        query = select(Asset).join(ids, ids.c.id == Asset.id).order_by(ids.c.pos).limit(wanted)
        picked.extend((await session.scalars(query)).all())
    # The two windows are disjoint, so no asset is picked twice.
    rng.shuffle(picked)
    return picked


async def tag_refs(
    session: AsyncSession, *, asset_id: uuid.UUID, owner_id: uuid.UUID
) -> list[tuple[uuid.UUID, str]]:
    """``(id, name)`` of ``owner_id``'s own tags on the asset, by name."""
    rows = await session.execute(
        select(Tag.id, Tag.name)
        .join(AssetTag, AssetTag.tag_id == Tag.id)
        .where(AssetTag.asset_id == asset_id, Tag.owner_id == owner_id)
        .order_by(Tag.name)
    )
    return [(tag_id, name) for tag_id, name in rows.all()]


async def album_refs(
    session: AsyncSession, *, asset_id: uuid.UUID, user_id: uuid.UUID
) -> list[tuple[uuid.UUID, str]]:
    """``(id, name)`` of the albums holding the asset that ``user_id`` can see, by name."""
    rows = await session.execute(
        select(Album.id, Album.name)
        .join(AlbumAsset, AlbumAsset.album_id == Album.id)
        .where(AlbumAsset.asset_id == asset_id, album_visible(user_id))
        .order_by(Album.name, Album.id)
    )
    return [(album_id, name) for album_id, name in rows.all()]


async def trashed_assets_for_purge(session: AsyncSession, *, owner_id: uuid.UUID) -> list[Asset]:
    """The owner's trashed assets, locked; rows another transaction holds are left out."""
    found = await session.scalars(
        select(Asset)
        .where(Asset.owner_id == owner_id, Asset.trashed_at.is_not(None))
        .with_for_update(skip_locked=True)
    )
    return list(found.all())


async def trashed_before_for_purge(
    session: AsyncSession, *, cutoff: datetime, limit: int
) -> list[Asset]:
    """Up to ``limit`` assets of anyone trashed before ``cutoff``, oldest first, locked; rows
    another transaction holds are left out."""
    found = await session.scalars(
        select(Asset)
        .where(Asset.trashed_at.is_not(None), Asset.trashed_at < cutoff)
        .order_by(Asset.trashed_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(found.all())


async def delete_assets(session: AsyncSession, *, asset_ids: Sequence[uuid.UUID]) -> None:
    """Delete the rows (tag and album links cascade). The session is not told: the caller
    expunges the objects it holds."""
    await session.execute(
        delete(Asset).where(Asset.id.in_(asset_ids)).execution_options(synchronize_session=False)
    )
