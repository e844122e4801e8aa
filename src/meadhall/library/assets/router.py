"""``/api/library/assets`` and ``/api/library/trash``: lists, details, edits, files, random.

The caller sees their own assets and those in albums shared with them; anything else answers
404 exactly like an id that does not exist. Only the owner changes an asset (403 for someone
who only sees it through an album).
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from meadhall.library.assets import service
from meadhall.library.assets.delivery import (
    IMMUTABLE,
    FileSlice,
    RangeNotSatisfiable,
    byte_range,
    content_disposition,
    etag_matches,
    not_modified,
)
from meadhall.library.assets.errors import (
    AssetNotReady,
    AssetNotTrashed,
    AssetUnreadable,
    InvalidCursor,
    NoMatchingAsset,
    OriginalMissing,
)
from meadhall.library.assets.renditions import (
    MAX_SIDE,
    MIME_TYPES,
    MIN_SCALE,
    ResizeRequest,
    image_size,
)
from meadhall.library.assets.repository import AssetFilters
from meadhall.library.assets.schemas import (
    AssetDetail,
    AssetPage,
    AssetRead,
    AssetSort,
    AssetUpdate,
    BulkRequest,
    BulkResult,
    ImageData,
    ImageFormat,
    RandomAssets,
    SortOrder,
    TrashEmptied,
)
from meadhall.library.errors import AlbumNotFound, AssetNotFound, NotAssetOwner, TagNotFound
from meadhall.library.models import AssetType, MediaKind
from meadhall.library.pipeline.derivatives import PREVIEW, THUMBNAIL
from meadhall.library.settings import library_settings
from meadhall.library.storage import LibraryStorage
from meadhall.platform.accounts.deps import CurrentUser
from meadhall.platform.deps import DbSession, RuntimeDep
from meadhall.platform.errors import NotAllowed, NotAuthenticated, error_responses

router = APIRouter(prefix="/library", tags=["library"])

AssetId = Annotated[uuid.UUID, Path(description="The asset's id.")]
MAX_PAGE = 500
# Short free-text filters; longer ones are not a search anyone types.
MAX_FILTER_TEXT = 200
# Files carry what their uploader put in them: never let a browser run them as a page.
FILE_SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}

_READ_ERRORS = (NotAuthenticated, AssetNotFound)
_OWNER_ERRORS = (NotAuthenticated, NotAllowed, AssetNotFound, NotAssetOwner)


def _storage(runtime: RuntimeDep) -> LibraryStorage:
    return LibraryStorage(library_settings(runtime.settings))


def _binary(description: str, *mime_types: str) -> dict[int | str, dict[str, Any]]:
    schema = {"type": "string", "format": "binary"}
    return {
        200: {"description": description, "content": {m: {"schema": schema} for m in mime_types}}
    }


# Lists --------------------------------------------------------------------------------------


@router.get(
    "/assets",
    operation_id="list_assets",
    response_model=AssetPage,
    responses=error_responses(NotAuthenticated, InvalidCursor, AlbumNotFound, TagNotFound),
)
async def list_assets(
    principal: CurrentUser,
    session: DbSession,
    type: Annotated[
        list[AssetType] | None, Query(max_length=10, description="Any of these types.")
    ] = None,
    media: Annotated[list[MediaKind] | None, Query(max_length=5)] = None,
    tag: Annotated[
        list[uuid.UUID] | None,
        Query(max_length=20, description="Tag ids (the caller's); all must be on the asset."),
    ] = None,
    album: Annotated[uuid.UUID | None, Query(description="Only assets in this album.")] = None,
    local_from: Annotated[
        date | None, Query(alias="from", description="Captured on or after this local date.")
    ] = None,
    local_to: Annotated[
        date | None, Query(alias="to", description="Captured on or before this local date.")
    ] = None,
    camera_make: Annotated[str | None, Query(max_length=MAX_FILTER_TEXT)] = None,
    camera_model: Annotated[str | None, Query(max_length=MAX_FILTER_TEXT)] = None,
    country: Annotated[
        str | None, Query(max_length=MAX_FILTER_TEXT, description="Country name or ISO code.")
    ] = None,
    city: Annotated[str | None, Query(max_length=MAX_FILTER_TEXT)] = None,
    favourite: Annotated[bool | None, Query(description="Only favourites (or only not).")] = None,
    archived: Annotated[
        bool | Literal["any"],
        Query(description="False (default): hide archived; true: only archived; any: both."),
    ] = False,
    trashed: Annotated[
        bool, Query(description="True lists the caller's trash (and nothing else).")
    ] = False,
    q: Annotated[
        str | None,
        Query(max_length=MAX_FILTER_TEXT, description="Text in the name or description."),
    ] = None,
    sort: AssetSort = AssetSort.CAPTURED,
    order: SortOrder = SortOrder.DESC,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=service.MAX_CURSOR)] = None,
) -> AssetPage:
    """Assets the caller can see, filtered and sorted; keyset-paginated with ``cursor``."""
    filters = AssetFilters(
        types=[t.value for t in type or ()],
        media=[m.value for m in media or ()],
        tag_ids=tag or (),
        album_id=album,
        local_from=local_from,
        local_to=local_to,
        camera_make=camera_make,
        camera_model=camera_model,
        country=country,
        city=city,
        favourite=favourite,
        archived=None if archived == "any" else archived,
        trashed=trashed,
        q=q.strip() if q else None,
    )
    items, next_cursor = await service.list_assets(
        session,
        user_id=principal.user_id,
        filters=filters,
        sort=sort,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    return AssetPage(
        items=[AssetRead.model_validate(item) for item in items], next_cursor=next_cursor
    )


@router.get(
    "/assets/random",
    operation_id="random_assets",
    response_model=RandomAssets,
    responses=error_responses(NotAuthenticated, NoMatchingAsset, AlbumNotFound, TagNotFound),
)
async def random_assets(
    principal: CurrentUser,
    session: DbSession,
    type: Annotated[list[AssetType] | None, Query(max_length=10)] = None,
    tag: Annotated[
        list[uuid.UUID] | None, Query(max_length=20, description="All of these tags.")
    ] = None,
    album: uuid.UUID | None = None,
    count: Annotated[int, Query(ge=1, le=50)] = 1,
) -> RandomAssets:
    """Random visible assets (not trashed, not archived) matching the filters; 404 if none."""
    items = await service.random_assets(
        session,
        user_id=principal.user_id,
        types=[t.value for t in type or ()],
        tag_ids=tag or (),
        album_id=album,
        count=count,
    )
    if not items:
        raise NoMatchingAsset("no asset matches these filters")
    return RandomAssets(items=[AssetRead.model_validate(item) for item in items])


@router.post(
    "/assets/bulk",
    operation_id="bulk_asset_action",
    response_model=BulkResult,
    responses=error_responses(NotAuthenticated, NotAllowed),
)
async def bulk_asset_action(
    principal: CurrentUser, session: DbSession, runtime: RuntimeDep, body: BulkRequest
) -> BulkResult:
    """Favourite, archive, trash, restore or purge many assets; each id is reported."""
    return await service.bulk_action(
        session,
        user_id=principal.user_id,
        ids=body.ids,
        action=body.action,
        storage=_storage(runtime),
    )


@router.post(
    "/trash/empty",
    operation_id="empty_trash",
    response_model=TrashEmptied,
    responses=error_responses(NotAuthenticated, NotAllowed),
)
async def empty_trash(
    principal: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> TrashEmptied:
    """Purge everything in the caller's trash now."""
    purged = await service.empty_trash(
        session, user_id=principal.user_id, storage=_storage(runtime)
    )
    return TrashEmptied(purged=purged)


# One asset ----------------------------------------------------------------------------------


@router.get(
    "/assets/{asset_id}",
    operation_id="get_asset",
    response_model=AssetDetail,
    responses=error_responses(*_READ_ERRORS),
)
async def get_asset(principal: CurrentUser, session: DbSession, asset_id: AssetId) -> AssetDetail:
    """One asset with all its metadata, processing steps, tags and albums."""
    return await service.describe_asset(session, asset_id=asset_id, user_id=principal.user_id)


@router.patch(
    "/assets/{asset_id}",
    operation_id="update_asset",
    response_model=AssetDetail,
    responses=error_responses(*_OWNER_ERRORS),
)
async def update_asset(
    principal: CurrentUser, session: DbSession, asset_id: AssetId, body: AssetUpdate
) -> AssetDetail:
    """Change the name, description, attribution, type or focus point (owner only)."""
    asset = await service.update_asset(
        session, asset_id=asset_id, user_id=principal.user_id, changes=body
    )
    return await service.detail_of(session, asset=asset, user_id=principal.user_id)


@dataclass(frozen=True)
class _FlagRoute:
    """One route that sets or clears a flag of an asset (owner only) and answers the asset."""

    method: str
    path: str
    operation_id: str
    description: str
    flags: dict[str, bool]


# Registered here, in this order, so the OpenAPI description lists them where it always has.
_FLAG_ROUTES = (
    _FlagRoute(
        "POST",
        "/assets/{asset_id}/favourite",
        "favourite_asset",
        "Mark as a favourite (owner only).",
        {"favourite": True},
    ),
    _FlagRoute(
        "DELETE",
        "/assets/{asset_id}/favourite",
        "unfavourite_asset",
        "No longer a favourite (owner only).",
        {"favourite": False},
    ),
    _FlagRoute(
        "POST",
        "/assets/{asset_id}/archive",
        "archive_asset",
        "Hide from the timeline and default lists, without deleting (owner only).",
        {"archived": True},
    ),
    _FlagRoute(
        "DELETE",
        "/assets/{asset_id}/archive",
        "unarchive_asset",
        "Back in the timeline (owner only).",
        {"archived": False},
    ),
    _FlagRoute(
        "DELETE",
        "/assets/{asset_id}",
        "trash_asset",
        "Move to the trash (owner only); purged for good after the retention period.",
        {"trashed": True},
    ),
    _FlagRoute(
        "POST",
        "/assets/{asset_id}/restore",
        "restore_asset",
        "Take out of the trash (owner only).",
        {"trashed": False},
    ),
)


def _add_flag_route(route: _FlagRoute) -> None:
    async def set_flag(principal: CurrentUser, session: DbSession, asset_id: AssetId) -> AssetRead:
        asset = await service.set_flags(
            session, asset_id=asset_id, user_id=principal.user_id, **route.flags
        )
        return AssetRead.model_validate(asset)

    set_flag.__name__ = set_flag.__qualname__ = route.operation_id
    set_flag.__doc__ = route.description
    router.add_api_route(
        route.path,
        set_flag,
        methods=[route.method],
        operation_id=route.operation_id,
        name=route.operation_id,
        description=route.description,
        response_model=AssetRead,
        responses=error_responses(*_OWNER_ERRORS),
    )


for _route in _FLAG_ROUTES:
    _add_flag_route(_route)


@router.delete(
    "/assets/{asset_id}/purge",
    operation_id="purge_asset",
    status_code=204,
    response_class=Response,
    responses=error_responses(*_OWNER_ERRORS, AssetNotTrashed),
)
async def purge_asset(
    principal: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    asset_id: AssetId,
    force: Annotated[bool, Query(description="Purge even if it is not in the trash.")] = False,
) -> Response:
    """Delete for good: the row, its tag and album links, the managed original, derivatives.

    Originals in indexed folders are never deleted (those folders are read-only).
    """
    await service.purge_asset(
        session,
        asset_id=asset_id,
        user_id=principal.user_id,
        force=force,
        storage=_storage(runtime),
    )
    return Response(status_code=204)


# Files --------------------------------------------------------------------------------------


@router.get(
    "/assets/{asset_id}/original",
    operation_id="get_asset_original",
    response_class=Response,
    responses={
        **_binary("The original file, as stored.", "application/octet-stream", "image/*"),
        206: {
            "description": "The requested byte range.",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        **error_responses(*_READ_ERRORS, OriginalMissing, RangeNotSatisfiable),
    },
)
async def get_asset_original(
    principal: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    request: Request,
    asset_id: AssetId,
    download: Annotated[bool, Query(description="Ask the browser to save it.")] = False,
) -> Response:
    """The original file with its type; supports ``Range`` (206/416) and ``If-None-Match``."""
    asset = await service.viewable(session, asset_id=asset_id, user_id=principal.user_id)
    etag = f'"{asset.sha256}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return not_modified(etag)
    path = await service.original_file(session, asset=asset, storage=_storage(runtime))
    size = (await asyncio.to_thread(path.stat)).st_size
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(asset.original_filename, download=download),
        **FILE_SECURITY,
    }
    if_range = request.headers.get("if-range")
    wanted = None if if_range not in (None, etag) else request.headers.get("range")
    span = byte_range(wanted, size)
    if span is None:
        return FileSlice(
            path, start=0, end=size, status_code=200, media_type=asset.mime_type, headers=headers
        )
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    return FileSlice(
        path, start=start, end=end, status_code=206, media_type=asset.mime_type, headers=headers
    )


async def _serve_derivative(
    principal: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    request: Request,
    asset_id: uuid.UUID,
    name: str,
) -> Response:
    asset = await service.viewable(session, asset_id=asset_id, user_id=principal.user_id)
    etag = f'"{asset.sha256[:32]}-{name}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return not_modified(etag)
    path = await service.derivative_file(
        session,
        asset=asset,
        name=name,
        storage=_storage(runtime),
        max_pixels=library_settings(runtime.settings).max_image_pixels,
    )
    return await _cached_file(path, etag=etag, media_type="image/webp")


async def _cached_file(path: FilePath, *, etag: str, media_type: str) -> Response:
    size = (await asyncio.to_thread(path.stat)).st_size
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, **FILE_SECURITY}
    return FileSlice(
        path, start=0, end=size, status_code=200, media_type=media_type, headers=headers
    )


_DERIVATIVE_ERRORS = (*_READ_ERRORS, OriginalMissing, AssetNotReady, AssetUnreadable)


@router.get(
    "/assets/{asset_id}/thumbnail",
    operation_id="get_asset_thumbnail",
    response_class=Response,
    responses={
        **_binary("WebP, 256 px on the longest side.", "image/webp"),
        304: {"description": "Not modified."},
        **error_responses(*_DERIVATIVE_ERRORS),
    },
)
async def get_asset_thumbnail(
    principal: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    request: Request,
    asset_id: AssetId,
) -> Response:
    """The thumbnail (drawn again from the original if the cache lost it)."""
    return await _serve_derivative(principal, session, runtime, request, asset_id, THUMBNAIL)


@router.get(
    "/assets/{asset_id}/preview",
    operation_id="get_asset_preview",
    response_class=Response,
    responses={
        **_binary("WebP, 1440 px on the longest side.", "image/webp"),
        304: {"description": "Not modified."},
        **error_responses(*_DERIVATIVE_ERRORS),
    },
)
async def get_asset_preview(
    principal: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    request: Request,
    asset_id: AssetId,
) -> Response:
    """The preview (drawn again from the original if the cache lost it)."""
    return await _serve_derivative(principal, session, runtime, request, asset_id, PREVIEW)


Width = Annotated[
    int | None, Query(ge=1, le=MAX_SIDE, description="Fit within this many pixels wide.")
]
Height = Annotated[
    int | None, Query(ge=1, le=MAX_SIDE, description="Fit within this many pixels high.")
]
Scale = Annotated[
    float | None,
    Query(ge=MIN_SCALE, le=1, allow_inf_nan=False, description="Fraction of the original."),
]
Format = Annotated[ImageFormat, Query(description="Output format.")]


@router.get(
    "/assets/{asset_id}/image",
    operation_id="get_asset_image",
    response_class=Response,
    responses={
        **_binary("The resized image.", "image/webp", "image/jpeg", "image/png"),
        304: {"description": "Not modified."},
        **error_responses(*_DERIVATIVE_ERRORS),
    },
)
async def get_asset_image(
    principal: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    request: Request,
    asset_id: AssetId,
    width: Width = None,
    height: Height = None,
    scale: Scale = None,
    format: Format = ImageFormat.WEBP,
) -> Response:
    """The picture resized to fit every limit given (never enlarged, at most 4096 px a side)."""
    resize = ResizeRequest.of(width=width, height=height, scale=scale, format=format)
    asset = await service.viewable(session, asset_id=asset_id, user_id=principal.user_id)
    etag = f'"{asset.sha256[:32]}-{resize.cache_name}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return not_modified(etag)
    path, rendition = await service.resized_file(
        session,
        asset=asset,
        request=resize,
        storage=_storage(runtime),
        max_pixels=library_settings(runtime.settings).max_image_pixels,
    )
    media_type = MIME_TYPES[format]
    if path is not None:
        return await _cached_file(path, etag=etag, media_type=media_type)
    assert rendition is not None
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, **FILE_SECURITY}
    return Response(rendition.data, media_type=media_type, headers=headers)


@router.get(
    "/assets/{asset_id}/image.json",
    operation_id="get_asset_image_data",
    response_model=ImageData,
    responses=error_responses(*_DERIVATIVE_ERRORS),
)
async def get_asset_image_data(
    principal: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    asset_id: AssetId,
    width: Width = None,
    height: Height = None,
    scale: Scale = None,
    format: Format = ImageFormat.WEBP,
) -> ImageData:
    """The same resized image as ``/image``, inline as base64 with its size."""
    resize = ResizeRequest.of(width=width, height=height, scale=scale, format=format)
    asset = await service.viewable(session, asset_id=asset_id, user_id=principal.user_id)
    path, rendition = await service.resized_file(
        session,
        asset=asset,
        request=resize,
        storage=_storage(runtime),
        max_pixels=library_settings(runtime.settings).max_image_pixels,
    )
    if path is not None:
        data = await asyncio.to_thread(path.read_bytes)
        width_px, height_px = await asyncio.to_thread(image_size, path)
    else:
        assert rendition is not None
        data, width_px, height_px = rendition.data, rendition.width, rendition.height
    return ImageData(
        mime_type=MIME_TYPES[format],
        width=width_px,
        height=height_px,
        data=base64.b64encode(data).decode(),
    )
