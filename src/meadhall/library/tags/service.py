"""Tag rules: names unique per owner regardless of case; only an asset's owner tags it.

Functions flush, never commit: the request's session commits once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library import access
from meadhall.library.assets.schemas import BulkItem, BulkResult
from meadhall.library.errors import TagNameTaken, TagNotFound
from meadhall.library.events import ASSET_CHANGED, announce_asset
from meadhall.library.models import Asset, Tag
from meadhall.library.tags import repository
from meadhall.library.tags.errors import MergeIntoItself


class TagChange(StrEnum):
    ATTACH = "attach"
    DETACH = "detach"
    REPLACE = "replace"


def _name_taken(name: str, existing: Tag | None) -> TagNameTaken:
    details = {"tag_id": str(existing.id), "name": existing.name} if existing else None
    return TagNameTaken(f"you already have a tag named {name!r}", details=details)


async def create_tag(session: AsyncSession, *, owner_id: uuid.UUID, name: str) -> Tag:
    """A new tag; :class:`TagNameTaken` (with the existing tag's id) if the name is in use."""
    tag = await repository.insert_tag(session, owner_id=owner_id, name=name)
    if tag is None:
        existing = await repository.tag_named(session, owner_id=owner_id, name=name)
        raise _name_taken(name, existing)
    return tag


async def search_tags(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    q: str | None = None,
    prefix: str | None = None,
    orphans_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[tuple[Tag, int]], int]:
    """The owner's tags by name (``prefix``: name starts with; ``q``: name contains)."""
    return await repository.search_tags(
        session,
        owner_id=owner_id,
        q=q,
        prefix=prefix,
        orphans_only=orphans_only,
        limit=limit,
        offset=offset,
    )


async def get_tag(
    session: AsyncSession, *, owner_id: uuid.UUID, tag_id: uuid.UUID
) -> tuple[Tag, int]:
    """The owner's tag with its asset count; someone else's tag is :class:`TagNotFound`."""
    found = await repository.tag_with_count(session, owner_id=owner_id, tag_id=tag_id)
    if found is None:
        raise TagNotFound("no such tag", details={"tag_ids": [str(tag_id)]})
    return found


async def _owned_tag(session: AsyncSession, *, owner_id: uuid.UUID, tag_id: uuid.UUID) -> Tag:
    tags = await repository.owned_tags(
        session, owner_id=owner_id, tag_ids=[tag_id], for_update=True
    )
    if not tags:
        raise TagNotFound("no such tag", details={"tag_ids": [str(tag_id)]})
    return tags[0]


async def rename_tag(
    session: AsyncSession, *, owner_id: uuid.UUID, tag_id: uuid.UUID, name: str
) -> Tag:
    """Rename a tag; :class:`TagNameTaken` if another of the owner's tags has that name."""
    tag = await _owned_tag(session, owner_id=owner_id, tag_id=tag_id)
    if tag.name == name:
        return tag
    try:
        # A savepoint, so a collision (also one with a concurrent rename) is a 409, not a
        # broken transaction.
        async with session.begin_nested():
            tag.name = name
            await session.flush()
    except IntegrityError:
        existing = await repository.tag_named(session, owner_id=owner_id, name=name)
        raise _name_taken(name, existing) from None
    return tag


async def delete_tag(session: AsyncSession, *, owner_id: uuid.UUID, tag_id: uuid.UUID) -> None:
    """Delete a tag; its links to assets go with it (the foreign key cascades)."""
    tag = await _owned_tag(session, owner_id=owner_id, tag_id=tag_id)
    await session.delete(tag)
    await session.flush()


async def merge_tags(
    session: AsyncSession, *, owner_id: uuid.UUID, source_id: uuid.UUID, into_id: uuid.UUID
) -> Tag:
    """Move every asset of ``source_id`` to ``into_id`` (no duplicate links), then delete it."""
    if source_id == into_id:
        raise MergeIntoItself("a tag cannot be merged into itself")
    # Both rows locked, in id order, so two opposite merges cannot deadlock or lose links.
    tags = await repository.owned_tags(
        session, owner_id=owner_id, tag_ids=[source_id, into_id], for_update=True
    )
    found = {tag.id: tag for tag in tags}
    missing = [str(tag_id) for tag_id in (source_id, into_id) if tag_id not in found]
    if missing:
        raise TagNotFound("no such tag", details={"tag_ids": missing})
    await repository.move_links(session, source_id=source_id, target_id=into_id)
    await session.delete(found[source_id])
    await session.flush()
    return found[into_id]


async def delete_orphans(session: AsyncSession, *, owner_id: uuid.UUID) -> int:
    """Delete every tag of the owner that no asset carries; returns how many."""
    return await repository.delete_orphans(session, owner_id=owner_id)


async def _resolve(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    tag_ids: Sequence[uuid.UUID],
    names: Sequence[str],
    create: bool,
) -> list[uuid.UUID]:
    """The ids of the tags named by id and by name; unknown or foreign ids are a 404."""
    wanted = list(dict.fromkeys(tag_ids))
    found = {
        tag.id for tag in await repository.owned_tags(session, owner_id=owner_id, tag_ids=wanted)
    }
    missing = [str(tag_id) for tag_id in wanted if tag_id not in found]
    if missing:
        raise TagNotFound("unknown tags", details={"tag_ids": missing})
    ids = list(wanted)
    if names:
        # The first spelling wins when one request names a new tag twice in different cases.
        first: dict[str, str] = {}
        for name in names:
            first.setdefault(name.lower(), name)
        unique_names = list(first.values())
        if create:
            await repository.insert_tags(session, owner_id=owner_id, names=unique_names)
        for tag in await repository.tags_named(session, owner_id=owner_id, names=unique_names):
            if tag.id not in found:
                found.add(tag.id)
                ids.append(tag.id)
    return ids


async def change_asset_tags(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    asset_id: uuid.UUID,
    change: TagChange,
    tag_ids: Sequence[uuid.UUID] = (),
    names: Sequence[str] = (),
) -> tuple[Asset, list[Tag]]:
    """Attach, detach or replace an asset's tags; returns the asset and its tags after.

    Only the asset's owner may tag it (404 if they cannot see it, 403 if they only see it
    through an album). Unknown or foreign tag ids are a :class:`TagNotFound` listing them.
    An ``asset.changed`` event goes out when the tags really changed.
    """
    # The row lock serialises concurrent changes of one asset's tags (a replace is two steps).
    asset = await access.owned_asset(session, asset_id=asset_id, user_id=user_id, for_update=True)
    ids = await _resolve(
        session,
        owner_id=user_id,
        tag_ids=tag_ids,
        names=names,
        create=change is not TagChange.DETACH,
    )
    if change is TagChange.ATTACH:
        changed = await repository.link(session, asset_id=asset.id, tag_ids=ids)
    elif change is TagChange.DETACH:
        changed = await repository.unlink(session, asset_id=asset.id, tag_ids=ids)
    else:
        changed = await repository.unlink(session, asset_id=asset.id, keep=ids)
        changed += await repository.link(session, asset_id=asset.id, tag_ids=ids)
    if changed:
        asset.updated_at = datetime.now(UTC)
        await session.flush()
        await announce_asset(session, asset, ASSET_CHANGED)
    return asset, await repository.tags_of_asset(session, asset_id=asset.id)


async def attach_to_assets(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    asset_ids: Sequence[uuid.UUID],
    tag_ids: Sequence[uuid.UUID] = (),
    names: Sequence[str] = (),
) -> BulkResult:
    """Attach the tags to each of the caller's assets in one go; report every id on its own.

    The rules of the one-asset route: an asset the caller cannot see is ``asset_not_found``,
    one they only see through an album is ``not_asset_owner``. Unknown tag ids fail the whole
    request (:class:`TagNotFound`); names are created as needed. Assets that gained a tag get
    an ``asset.changed`` event.
    """
    ids = await _resolve(session, owner_id=user_id, tag_ids=tag_ids, names=names, create=True)
    targets = await access.bulk_targets(session, asset_ids=asset_ids, user_id=user_id, verb="tag")
    results = [BulkItem(id=t.id, ok=t.error is None, error=t.error) for t in targets]
    owned = {t.id: t.asset for t in targets if t.asset is not None}
    changed = await repository.link_many(session, asset_ids=list(owned), tag_ids=ids)
    now = datetime.now(UTC)
    for asset_id, asset in owned.items():
        if asset_id in changed:
            asset.updated_at = now
    await session.flush()
    for asset_id, asset in owned.items():
        if asset_id in changed:
            await announce_asset(session, asset, ASSET_CHANGED)
    done = len(owned)
    return BulkResult(done=done, failed=len(results) - done, results=results)


async def asset_tags(
    session: AsyncSession, *, user_id: uuid.UUID, asset_id: uuid.UUID
) -> list[Tag]:
    """The tags of an asset; tags are the owner's own labels, so only the owner reads them."""
    asset = await access.owned_asset(session, asset_id=asset_id, user_id=user_id)
    return await repository.tags_of_asset(session, asset_id=asset.id)
