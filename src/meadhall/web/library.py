"""Pages of the Library: the timeline, search, albums, tags and trash."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from meadhall.platform.deps import RuntimeDep
from meadhall.platform.runtime import Runtime
from meadhall.web.errors import page_not_found
from meadhall.web.pages import render_app_page, signed_in_viewer
from meadhall.web.rendering import PAGE_METHODS

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


async def _library_page(
    request: Request,
    runtime: Runtime,
    name: str,
    *,
    title: str,
    current: str,
    data: dict[str, Any] | None = None,
) -> Response:
    """``templates/pages/library/<name>.html`` with its module ``js/pages/<name>.js``."""
    viewer = await signed_in_viewer(request, runtime)
    if isinstance(viewer, Response):
        return viewer
    return render_app_page(
        request,
        viewer,
        f"pages/library/{name}.html",
        title=title,
        current=current,
        script=f"js/pages/{name}.js",
        data=data,
    )


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@router.api_route("/", operation_id="page_home", name="page_home", methods=PAGE_METHODS)
async def timeline(request: Request, runtime: RuntimeDep) -> Response:
    """The home page: every photo, newest first, grouped by month and day."""
    return await _library_page(request, runtime, "timeline", title="Photos", current="photos")


@router.api_route(
    "/photos/{asset_id}", operation_id="page_photo", name="page_photo", methods=PAGE_METHODS
)
async def photo(request: Request, runtime: RuntimeDep, asset_id: str) -> Response:
    """One photo open in the viewer over the timeline (a link that can be shared or kept)."""
    parsed = _uuid(asset_id)
    if parsed is None:
        return page_not_found(request)
    return await _library_page(
        request,
        runtime,
        "timeline",
        title="Photos",
        current="photos",
        data={"open-asset": str(parsed)},
    )


@router.api_route("/search", operation_id="page_search", name="page_search", methods=PAGE_METHODS)
async def search(request: Request, runtime: RuntimeDep) -> Response:
    """Search and filter; the filters live in the query string so a search can be linked."""
    return await _library_page(request, runtime, "search", title="Search", current="search")


@router.api_route("/albums", operation_id="page_albums", name="page_albums", methods=PAGE_METHODS)
async def albums(request: Request, runtime: RuntimeDep) -> Response:
    """The albums the viewer owns or was shared, with their covers."""
    return await _library_page(request, runtime, "albums", title="Albums", current="albums")


@router.api_route(
    "/albums/{album_id}", operation_id="page_album", name="page_album", methods=PAGE_METHODS
)
async def album(request: Request, runtime: RuntimeDep, album_id: str) -> Response:
    """One album: its photos, members and sharing."""
    parsed = _uuid(album_id)
    if parsed is None:
        return page_not_found(request)
    return await _library_page(
        request, runtime, "album", title="Album", current="albums", data={"album-id": str(parsed)}
    )


@router.api_route("/tags", operation_id="page_tags", name="page_tags", methods=PAGE_METHODS)
async def tags(request: Request, runtime: RuntimeDep) -> Response:
    """The viewer's tags with counts: rename, merge, delete."""
    return await _library_page(request, runtime, "tags", title="Tags", current="tags")


@router.api_route("/trash", operation_id="page_trash", name="page_trash", methods=PAGE_METHODS)
async def trash(request: Request, runtime: RuntimeDep) -> Response:
    """Deleted photos, kept until restored, deleted forever or emptied."""
    return await _library_page(request, runtime, "trash", title="Trash", current="trash")
