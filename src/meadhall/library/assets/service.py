"""Asset rules: listing, details, user edits, favourite/archive, trash, purge, random picks.

Every function takes the caller's session and only flushes; the caller commits. Changes are
announced (``asset.changed`` / ``asset.deleted``) once that commit happens, and files of purged
assets are removed only after it: a rolled-back purge keeps its files.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library import repository as library_repository
from meadhall.library.access import album_role, bulk_targets, owned_asset, viewable_asset
from meadhall.library.assets import repository
from meadhall.library.assets.errors import (
    AssetNotReady,
    AssetNotTrashed,
    AssetUnreadable,
    InvalidCursor,
    OriginalMissing,
)
from meadhall.library.assets.renditions import Rendition, ResizeRequest, render_resized
from meadhall.library.assets.repository import AssetFilters, Keyset
from meadhall.library.assets.schemas import (
    AssetDetail,
    AssetSort,
    AssetUpdate,
    BulkAction,
    BulkError,
    BulkItem,
    BulkResult,
    Camera,
    CaptureTime,
    FocusRead,
    Hashes,
    NamedRef,
    Place,
    Quality,
    SortOrder,
    StepRead,
    hash_hex,
)
from meadhall.library.errors import TagNotFound
from meadhall.library.events import ASSET_CHANGED, ASSET_DELETED, announce_asset
from meadhall.library.models import Asset, AssetStatus, MediaKind
from meadhall.library.pipeline import repository as pipeline_repository
from meadhall.library.pipeline.decode import DecodeError
from meadhall.library.pipeline.derivatives import render_derivative
from meadhall.library.storage import LibraryStorage, UnsafePath
from meadhall.library.tags import repository as tags_repository
from meadhall.platform.db.database import on_commit

logger = logging.getLogger("meadhall.library")

MAX_CURSOR = 1024


# Lists ---------------------------------------------------------------------------------------


def encode_cursor(sort: AssetSort, order: SortOrder, asset: Asset) -> str:
    """An opaque cursor for the page after ``asset`` in this sort."""
    value = repository.sort_value(asset, sort)
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = orjson.dumps({"s": sort.value, "o": order.value, "v": value, "i": str(asset.id)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, sort: AssetSort, order: SortOrder) -> Keyset:
    """The position a cursor names; :class:`InvalidCursor` if it is garbled or for another sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        if data.get("s") != sort.value or data.get("o") != order.value:
            raise InvalidCursor("this cursor belongs to another sort order; start over")
        asset_id = uuid.UUID(str(data["i"]))
        value: Any = data["v"]
        if sort in (AssetSort.CAPTURED, AssetSort.CREATED):
            value = datetime.fromisoformat(str(value))
            if value.tzinfo is None:
                raise ValueError("naive time")
        elif sort == AssetSort.SIZE:
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError("not a size")
        elif not isinstance(value, str) or len(value) > 1000:
            raise ValueError("not a name")
    except InvalidCursor:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidCursor("the cursor is not valid; start over without it") from None
    return Keyset(value=value, id=asset_id)


async def check_filters(
    session: AsyncSession, *, user_id: uuid.UUID, filters: AssetFilters
) -> None:
    """404 for an album the caller cannot see or a tag that is not theirs."""
    if filters.album_id is not None:
        await album_role(session, album_id=filters.album_id, user_id=user_id)
    wanted = set(filters.tag_ids)
    if wanted:
        owned = await tags_repository.owned_tags(session, owner_id=user_id, tag_ids=wanted)
        found = {tag.id for tag in owned}
        if found != wanted:
            raise TagNotFound("no such tag", details={"tag_ids": sorted(map(str, wanted - found))})


async def list_assets(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    filters: AssetFilters,
    sort: AssetSort,
    order: SortOrder,
    limit: int,
    cursor: str | None,
) -> tuple[list[Asset], str | None]:
    """One page of the assets the caller can see, and the cursor of the next page (if any)."""
    after = decode_cursor(cursor, sort=sort, order=order) if cursor else None
    await check_filters(session, user_id=user_id, filters=filters)
    rows = await repository.list_page(
        session,
        user_id=user_id,
        filters=filters,
        sort=sort,
        order=order,
        after=after,
        limit=limit + 1,
    )
    items = rows[:limit]
    next_cursor = encode_cursor(sort, order, items[-1]) if len(rows) > limit else None
    return items, next_cursor


# One asset ----------------------------------------------------------------------------------


async def viewable(session: AsyncSession, *, asset_id: uuid.UUID, user_id: uuid.UUID) -> Asset:
    """The asset if the caller can see it (404 otherwise)."""
    return await viewable_asset(session, asset_id=asset_id, user_id=user_id)


async def describe_asset(
    session: AsyncSession, *, asset_id: uuid.UUID, user_id: uuid.UUID
) -> AssetDetail:
    """Everything about one visible asset: metadata, steps, the caller's tags, albums."""
    asset = await viewable(session, asset_id=asset_id, user_id=user_id)
    return await detail_of(session, asset=asset, user_id=user_id)


async def detail_of(session: AsyncSession, *, asset: Asset, user_id: uuid.UUID) -> AssetDetail:
    """:class:`AssetDetail` of an asset already known to be visible to ``user_id``."""
    steps = await pipeline_repository.asset_steps(session, asset_id=asset.id)
    # Tags are the owner's own way of filing things; others see the album, not the tags.
    tags = await repository.tag_refs(session, asset_id=asset.id, owner_id=user_id)
    albums = await repository.album_refs(session, asset_id=asset.id, user_id=user_id)
    focus = (
        FocusRead(x=asset.focus_x, y=asset.focus_y)
        if asset.focus_x is not None and asset.focus_y is not None
        else None
    )
    return AssetDetail.model_validate(
        {
            **{key: getattr(asset, key) for key in _READ_FIELDS},
            "description": asset.description,
            "attribution": asset.attribution,
            "origin": asset.origin,
            "source_url": asset.source_url,
            "original_filename": asset.original_filename,
            "indexed": asset.folder_id is not None,
            "file_mtime": asset.file_mtime,
            "frame_count": asset.frame_count,
            "focus": focus,
            "capture": CaptureTime(
                local=asset.captured_local,
                at=asset.captured_at,
                timezone=asset.capture_tz,
                source=asset.capture_tz_source,
            ),
            "camera": Camera(
                make=asset.camera_make,
                model=asset.camera_model,
                lens=asset.lens,
                iso=asset.iso,
                f_number=asset.f_number,
                exposure_seconds=asset.exposure_seconds,
                focal_length_mm=asset.focal_length_mm,
            ),
            "place": Place(
                latitude=asset.latitude,
                longitude=asset.longitude,
                altitude=asset.altitude,
                country=asset.country,
                country_code=asset.country_code,
                city=asset.city,
            ),
            "palette": asset.palette,
            "hashes": Hashes(
                sha256=asset.sha256, phash=hash_hex(asset.phash), dhash=hash_hex(asset.dhash)
            ),
            "quality": Quality(
                score=asset.quality, sharpness=asset.sharpness, exposure=asset.exposure
            ),
            "exif": asset.exif,
            "error": asset.error,
            "steps": [StepRead.model_validate(step) for step in steps],
            "tags": [NamedRef(id=ref_id, name=name) for ref_id, name in tags],
            "albums": [NamedRef(id=ref_id, name=name) for ref_id, name in albums],
            "updated_at": asset.updated_at,
        }
    )


_READ_FIELDS = (
    "id",
    "owner_id",
    "name",
    "type",
    "media",
    "status",
    "mime_type",
    "size_bytes",
    "width",
    "height",
    "duration_ms",
    "local_at",
    "sort_at",
    "placeholder",
    "is_favourite",
    "is_archived",
    "trashed_at",
    "created_at",
)


async def update_asset(
    session: AsyncSession, *, asset_id: uuid.UUID, user_id: uuid.UUID, changes: AssetUpdate
) -> Asset:
    """Apply the fields sent in ``changes`` (owner only)."""
    asset = await owned_asset(session, asset_id=asset_id, user_id=user_id, for_update=True)
    sent = changes.model_fields_set
    if "name" in sent and changes.name is not None:
        asset.name = changes.name
    if "description" in sent:
        asset.description = changes.description or None
    if "attribution" in sent:
        asset.attribution = changes.attribution or None
    if "type" in sent and changes.type is not None:
        asset.type = changes.type.value
    if "focus" in sent:
        asset.focus_x = changes.focus.x if changes.focus else None
        asset.focus_y = changes.focus.y if changes.focus else None
    if session.is_modified(asset):
        await session.flush()
        await announce_asset(session, asset, ASSET_CHANGED)
    return asset


async def set_flags(
    session: AsyncSession,
    *,
    asset_id: uuid.UUID,
    user_id: uuid.UUID,
    favourite: bool | None = None,
    archived: bool | None = None,
    trashed: bool | None = None,
) -> Asset:
    """Favourite, archive or trash an asset, or undo that (owner only); idempotent."""
    asset = await owned_asset(session, asset_id=asset_id, user_id=user_id, for_update=True)
    await _apply_flags(session, asset, favourite=favourite, archived=archived, trashed=trashed)
    return asset


async def _apply_flags(
    session: AsyncSession,
    asset: Asset,
    *,
    favourite: bool | None = None,
    archived: bool | None = None,
    trashed: bool | None = None,
) -> None:
    changed = False
    if favourite is not None and asset.is_favourite != favourite:
        asset.is_favourite = favourite
        changed = True
    if archived is not None and asset.is_archived != archived:
        asset.is_archived = archived
        changed = True
    if trashed is not None and (asset.trashed_at is not None) != trashed:
        asset.trashed_at = datetime.now(UTC) if trashed else None
        changed = True
    if changed:
        await session.flush()
        await announce_asset(session, asset, ASSET_CHANGED)


# Purge --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FilesOf:
    asset_id: uuid.UUID
    original: Path | None


async def purge_assets(
    session: AsyncSession, *, assets: Sequence[Asset], storage: LibraryStorage
) -> int:
    """Delete ``assets`` for good: rows (tag and album links cascade), then files after commit.

    Managed originals and derivatives are removed once the transaction commits; originals in
    indexed folders are never touched (those folders are read-only to Meadhall).
    """
    if not assets:
        return 0
    files: list[_FilesOf] = []
    for asset in assets:
        # Announced first: the album links that route the event are about to cascade away.
        await announce_asset(session, asset, ASSET_DELETED)
        original = None
        if asset.folder_id is None:
            try:
                original = storage.original_path(asset.storage_path)
            except UnsafePath:
                logger.warning("purged asset had an unsafe path", extra={"asset": str(asset.id)})
        files.append(_FilesOf(asset_id=asset.id, original=original))
    ids = [asset.id for asset in assets]
    await repository.delete_assets(session, asset_ids=ids)
    for asset in assets:
        session.expunge(asset)

    async def remove_files() -> None:
        await asyncio.to_thread(_remove_files, storage, files)

    on_commit(session, remove_files)
    return len(ids)


def _remove_files(storage: LibraryStorage, files: Sequence[_FilesOf]) -> None:
    for item in files:
        try:
            if item.original is not None:
                item.original.unlink(missing_ok=True)
            storage.remove_derivatives(item.asset_id)
        except OSError:
            # The row is gone; a file left behind costs disk space, not correctness.
            logger.exception("could not remove the files of a purged asset")


async def purge_asset(
    session: AsyncSession,
    *,
    asset_id: uuid.UUID,
    user_id: uuid.UUID,
    force: bool,
    storage: LibraryStorage,
) -> None:
    """Delete one asset for good (owner only); it must be in the trash unless ``force``."""
    asset = await owned_asset(session, asset_id=asset_id, user_id=user_id, for_update=True)
    if asset.trashed_at is None and not force:
        raise AssetNotTrashed("move the asset to the trash first, or purge with force=true")
    await purge_assets(session, assets=[asset], storage=storage)


async def empty_trash(session: AsyncSession, *, user_id: uuid.UUID, storage: LibraryStorage) -> int:
    """Purge everything in the caller's trash; returns how many assets went."""
    assets = await repository.trashed_assets_for_purge(session, owner_id=user_id)
    return await purge_assets(session, assets=assets, storage=storage)


async def purge_expired_trash(
    session: AsyncSession, *, older_than: timedelta, storage: LibraryStorage, limit: int
) -> int:
    """Purge up to ``limit`` assets (anyone's) trashed longer ago than ``older_than``."""
    cutoff = datetime.now(UTC) - older_than
    assets = await repository.trashed_before_for_purge(session, cutoff=cutoff, limit=limit)
    return await purge_assets(session, assets=assets, storage=storage)


# Bulk ---------------------------------------------------------------------------------------

_BULK_FLAGS: dict[BulkAction, dict[str, bool]] = {
    BulkAction.FAVOURITE: {"favourite": True},
    BulkAction.UNFAVOURITE: {"favourite": False},
    BulkAction.ARCHIVE: {"archived": True},
    BulkAction.UNARCHIVE: {"archived": False},
    BulkAction.TRASH: {"trashed": True},
    BulkAction.RESTORE: {"trashed": False},
}


async def bulk_action(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    action: BulkAction,
    storage: LibraryStorage,
) -> BulkResult:
    """Apply ``action`` to each asset the caller owns; report every id on its own.

    The same rules as the single-asset routes: an asset the caller cannot see is
    ``asset_not_found``, one they only see through an album is ``not_asset_owner``, and purge
    needs the asset in the trash.
    """
    results: list[BulkItem] = []
    to_purge: list[Asset] = []
    for target in await bulk_targets(session, asset_ids=ids, user_id=user_id, verb="change"):
        asset, error = target.asset, target.error
        if asset is not None and action == BulkAction.PURGE:
            if asset.trashed_at is None:
                error = BulkError(code=AssetNotTrashed.code, message="not in the trash")
            else:
                to_purge.append(asset)
        elif asset is not None:
            await _apply_flags(session, asset, **_BULK_FLAGS[action])
        results.append(BulkItem(id=target.id, ok=error is None, error=error))
    await purge_assets(session, assets=to_purge, storage=storage)
    done = sum(1 for item in results if item.ok)
    return BulkResult(done=done, failed=len(results) - done, results=results)


# Files --------------------------------------------------------------------------------------


async def original_file(session: AsyncSession, *, asset: Asset, storage: LibraryStorage) -> Path:
    """Where ``asset``'s original is on disk; :class:`OriginalMissing` if it is not there."""
    folder_path: str | None = None
    if asset.folder_id is not None:
        folder_path = await library_repository.folder_path(session, folder_id=asset.folder_id)
        if folder_path is None:
            raise OriginalMissing("the folder holding this asset is no longer indexed")
    try:
        path = storage.original_path(asset.storage_path, folder_path)
    except UnsafePath:
        raise OriginalMissing("the original's stored path is not usable") from None
    if not await asyncio.to_thread(path.is_file):
        raise OriginalMissing("the original file is no longer there")
    return path


# Random -------------------------------------------------------------------------------------


async def random_assets(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    types: Sequence[str],
    tag_ids: Sequence[uuid.UUID],
    album_id: uuid.UUID | None,
    count: int,
) -> list[Asset]:
    """Random visible assets, neither trashed nor archived, matching the filters."""
    filters = AssetFilters(types=types, tag_ids=tag_ids, album_id=album_id, archived=False)
    await check_filters(session, user_id=user_id, filters=filters)
    return await repository.random_picks(session, user_id=user_id, filters=filters, count=count)


async def derivative_file(
    session: AsyncSession, *, asset: Asset, name: str, storage: LibraryStorage, max_pixels: int
) -> Path:
    """The cached derivative ``name`` of ``asset``; rebuilt from the original if it is missing.

    The pipeline writes derivatives; a lost one (the cache folder was cleared) is drawn again
    here, in a thread, and written back. While the asset is still being processed there is
    nothing to draw from yet (409); an original that cannot be decoded is a 422.
    """
    path = storage.derivative_path(asset.id, name)
    if await asyncio.to_thread(path.is_file):
        return path
    # A video's thumbnail and preview are drawn from its poster frame.
    original = await _drawable_original(session, asset=asset, storage=storage, poster=True)
    try:
        data = await asyncio.to_thread(
            render_derivative, asset, original, name, max_pixels=max_pixels
        )
    except DecodeError as error:
        raise AssetUnreadable(str(error)) from None
    except OSError:
        raise OriginalMissing("the original file could not be read") from None
    return await asyncio.to_thread(storage.write_derivative, asset.id, name, data)


async def resized_file(
    session: AsyncSession,
    *,
    asset: Asset,
    request: ResizeRequest,
    storage: LibraryStorage,
    max_pixels: int,
) -> tuple[Path | None, Rendition | None]:
    """A resized copy of ``asset``: the cached file, or a fresh rendition (cached if room)."""
    path = storage.derivative_path(asset.id, request.cache_name)
    if await asyncio.to_thread(path.is_file):
        return path, None
    original = await _drawable_original(session, asset=asset, storage=storage)
    assert asset.width is not None and asset.height is not None
    try:
        rendition = await asyncio.to_thread(
            render_resized,
            original,
            request,
            size_hint=(asset.width, asset.height),
            max_pixels=max_pixels,
        )
    except DecodeError as error:
        raise AssetUnreadable(str(error)) from None
    except OSError:
        raise OriginalMissing("the original file could not be read") from None
    if await asyncio.to_thread(_cached_copies, storage, asset.id) < MAX_CACHED_COPIES:
        await asyncio.to_thread(
            storage.write_derivative, asset.id, request.cache_name, rendition.data
        )
    return None, rendition


# Arbitrary sizes could fill the disk one parameter set at a time; beyond this many cached
# copies per asset, further sizes are rendered for each request instead of kept.
MAX_CACHED_COPIES = 24


def _cached_copies(storage: LibraryStorage, asset_id: uuid.UUID) -> int:
    folder = storage.derivative_dir(asset_id)
    if not folder.is_dir():
        return 0
    return sum(1 for child in folder.iterdir() if child.name.startswith("image-"))


async def _drawable_original(
    session: AsyncSession, *, asset: Asset, storage: LibraryStorage, poster: bool = False
) -> Path:
    """The original of an asset that pictures can be drawn from (else a clear 409/422).

    ``poster``: the caller draws a video's poster frame (the fixed derivatives); arbitrary
    renditions are only made from still pictures.
    """
    if asset.status == AssetStatus.FAILED:
        raise AssetUnreadable("the original could not be decoded", details={"reason": asset.error})
    if asset.media == MediaKind.VIDEO and not poster:
        raise AssetUnreadable("videos have no still image to draw from")
    if asset.status == AssetStatus.PENDING:
        raise AssetNotReady("the asset is still being processed; try again shortly")
    if asset.width is None or asset.height is None:
        raise AssetUnreadable("the asset has no known picture size")
    return await original_file(session, asset=asset, storage=storage)
