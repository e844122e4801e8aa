"""``/api/library/tags`` and ``/api/library/assets/{id}/tags``: each owner's labels.

Tags belong to their owner: someone else's tag answers 404 like a missing one. An asset's tags
are changed with the tag ids (and/or names) in a JSON body — also on ``DELETE``, which HTTP
allows and FastAPI reads like any other body.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status

from meadhall.library.assets.schemas import BulkResult
from meadhall.library.errors import AssetNotFound, NotAssetOwner, TagNameTaken, TagNotFound
from meadhall.library.models import Tag
from meadhall.library.tags import service
from meadhall.library.tags.errors import MergeIntoItself
from meadhall.library.tags.schemas import (
    AssetTags,
    AssetTagsChange,
    OrphansDeleted,
    TagCreate,
    TagMerge,
    TagPage,
    TagRead,
    TagsAttachMany,
    TagUpdate,
    TagWithCount,
)
from meadhall.library.tags.service import TagChange
from meadhall.platform.accounts.deps import CurrentUser
from meadhall.platform.deps import DbSession
from meadhall.platform.errors import NotAllowed, NotAuthenticated, Unprocessable, error_responses

router = APIRouter(prefix="/library", tags=["library: tags"])

TagId = Annotated[uuid.UUID, Path(description="The tag's id.")]
AssetId = Annotated[uuid.UUID, Path(description="The asset's id.")]
# No control characters in search text (PostgreSQL refuses NUL in text outright).
SEARCH_PATTERN = r"^[^\x00-\x1f\x7f]*$"
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

_AUTH = (NotAuthenticated, NotAllowed)
_CHANGE_BODY = Body(
    description=(
        "Tags by id (``tag_ids``) and/or by name (``names``), at most 100 in all. Names match "
        "existing tags regardless of case; attach and replace create the missing ones."
    )
)


def _with_count(tag: Tag, count: int) -> TagWithCount:
    return TagWithCount(id=tag.id, name=tag.name, created_at=tag.created_at, asset_count=count)


def _page(rows: list[tuple[Tag, int]], total: int, limit: int, offset: int) -> TagPage:
    return TagPage(
        items=[_with_count(tag, count) for tag, count in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/tags",
    operation_id="create_tag",
    response_model=TagWithCount,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*_AUTH, TagNameTaken, Unprocessable),
)
async def create_tag(principal: CurrentUser, session: DbSession, body: TagCreate) -> TagWithCount:
    """Create a tag. A name already in use (in any case) is 409 with the existing tag's id."""
    tag = await service.create_tag(session, owner_id=principal.user_id, name=body.name)
    return _with_count(tag, 0)


@router.get(
    "/tags",
    operation_id="list_tags",
    response_model=TagPage,
    responses=error_responses(*_AUTH, Unprocessable),
)
async def list_tags(
    principal: CurrentUser,
    session: DbSession,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, pattern=SEARCH_PATTERN, description="Name contains."),
    ] = None,
    prefix: Annotated[
        str | None,
        Query(
            min_length=1, max_length=100, pattern=SEARCH_PATTERN, description="Name starts with."
        ),
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> TagPage:
    """The caller's tags by name (case-insensitive search), each with its asset count."""
    rows, total = await service.search_tags(
        session, owner_id=principal.user_id, q=q, prefix=prefix, limit=limit, offset=offset
    )
    return _page(rows, total, limit, offset)


# Declared before /tags/{tag_id}, which would otherwise take "orphans" for an id.
@router.get(
    "/tags/orphans",
    operation_id="list_orphan_tags",
    response_model=TagPage,
    responses=error_responses(*_AUTH, Unprocessable),
)
async def list_orphan_tags(
    principal: CurrentUser, session: DbSession, limit: Limit = 100, offset: Offset = 0
) -> TagPage:
    """The caller's tags that no asset carries."""
    rows, total = await service.search_tags(
        session, owner_id=principal.user_id, orphans_only=True, limit=limit, offset=offset
    )
    return _page(rows, total, limit, offset)


@router.delete(
    "/tags/orphans",
    operation_id="delete_orphan_tags",
    response_model=OrphansDeleted,
    responses=error_responses(*_AUTH),
)
async def delete_orphan_tags(principal: CurrentUser, session: DbSession) -> OrphansDeleted:
    """Delete every tag of the caller that no asset carries."""
    deleted = await service.delete_orphans(session, owner_id=principal.user_id)
    return OrphansDeleted(deleted=deleted)


@router.get(
    "/tags/{tag_id}",
    operation_id="get_tag",
    response_model=TagWithCount,
    responses=error_responses(*_AUTH, TagNotFound, Unprocessable),
)
async def get_tag(principal: CurrentUser, session: DbSession, tag_id: TagId) -> TagWithCount:
    """One of the caller's tags with its asset count."""
    tag, count = await service.get_tag(session, owner_id=principal.user_id, tag_id=tag_id)
    return _with_count(tag, count)


@router.patch(
    "/tags/{tag_id}",
    operation_id="rename_tag",
    response_model=TagWithCount,
    responses=error_responses(*_AUTH, TagNotFound, TagNameTaken, Unprocessable),
)
async def rename_tag(
    principal: CurrentUser, session: DbSession, tag_id: TagId, body: TagUpdate
) -> TagWithCount:
    """Rename a tag. A name another of the caller's tags has (in any case) is 409."""
    await service.rename_tag(session, owner_id=principal.user_id, tag_id=tag_id, name=body.name)
    tag, count = await service.get_tag(session, owner_id=principal.user_id, tag_id=tag_id)
    return _with_count(tag, count)


@router.delete(
    "/tags/{tag_id}",
    operation_id="delete_tag",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(*_AUTH, TagNotFound, Unprocessable),
)
async def delete_tag(principal: CurrentUser, session: DbSession, tag_id: TagId) -> Response:
    """Delete a tag; every asset carrying it is untagged."""
    await service.delete_tag(session, owner_id=principal.user_id, tag_id=tag_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/tags/{tag_id}/merge",
    operation_id="merge_tag",
    response_model=TagWithCount,
    responses=error_responses(*_AUTH, TagNotFound, MergeIntoItself),
)
async def merge_tag(
    principal: CurrentUser, session: DbSession, tag_id: TagId, body: TagMerge
) -> TagWithCount:
    """Move every asset of this tag to ``into`` (without duplicates), then delete this tag."""
    target = await service.merge_tags(
        session, owner_id=principal.user_id, source_id=tag_id, into_id=body.into
    )
    tag, count = await service.get_tag(session, owner_id=principal.user_id, tag_id=target.id)
    return _with_count(tag, count)


async def _change(
    principal: CurrentUser,
    session: DbSession,
    asset_id: uuid.UUID,
    body: AssetTagsChange,
    change: TagChange,
) -> AssetTags:
    asset, tags = await service.change_asset_tags(
        session,
        user_id=principal.user_id,
        asset_id=asset_id,
        change=change,
        tag_ids=body.tag_ids,
        names=body.names,
    )
    return AssetTags(asset_id=asset.id, tags=[TagRead.model_validate(tag) for tag in tags])


@router.post(
    "/tags/attach",
    operation_id="attach_tags_to_assets",
    response_model=BulkResult,
    responses=error_responses(*_AUTH, TagNotFound, Unprocessable),
)
async def attach_tags_to_assets(
    principal: CurrentUser, session: DbSession, body: TagsAttachMany
) -> BulkResult:
    """Attach tags (by id and/or name; new names are created) to up to 500 of the caller's
    assets in one request. Each asset is reported on its own: one the caller cannot see is
    ``asset_not_found``, one shared with them through an album is ``not_asset_owner``."""
    return await service.attach_to_assets(
        session,
        user_id=principal.user_id,
        asset_ids=body.asset_ids,
        tag_ids=body.tag_ids,
        names=body.names,
    )


_ASSET_ERRORS = error_responses(*_AUTH, NotAssetOwner, AssetNotFound, TagNotFound, Unprocessable)


@router.get(
    "/assets/{asset_id}/tags",
    operation_id="get_asset_tags",
    response_model=AssetTags,
    responses=error_responses(*_AUTH, NotAssetOwner, AssetNotFound, Unprocessable),
)
async def get_asset_tags(
    principal: CurrentUser, session: DbSession, asset_id: AssetId
) -> AssetTags:
    """The asset's tags, by name. Tags are the owner's own labels: only the owner reads them."""
    tags = await service.asset_tags(session, user_id=principal.user_id, asset_id=asset_id)
    return AssetTags(asset_id=asset_id, tags=[TagRead.model_validate(tag) for tag in tags])


@router.post(
    "/assets/{asset_id}/tags",
    operation_id="attach_asset_tags",
    response_model=AssetTags,
    responses=_ASSET_ERRORS,
)
async def attach_asset_tags(
    principal: CurrentUser,
    session: DbSession,
    asset_id: AssetId,
    body: Annotated[AssetTagsChange, _CHANGE_BODY],
) -> AssetTags:
    """Attach tags to one of the caller's assets (attaching one it has is fine)."""
    return await _change(principal, session, asset_id, body, TagChange.ATTACH)


@router.delete(
    "/assets/{asset_id}/tags",
    operation_id="detach_asset_tags",
    response_model=AssetTags,
    responses=_ASSET_ERRORS,
)
async def detach_asset_tags(
    principal: CurrentUser,
    session: DbSession,
    asset_id: AssetId,
    body: Annotated[AssetTagsChange, _CHANGE_BODY],
) -> AssetTags:
    """Detach tags from one of the caller's assets. The tag ids travel in the JSON body of
    this ``DELETE`` (send ``Content-Type: application/json``); names that match no tag are
    ignored. Detaching a tag the asset does not carry is fine."""
    return await _change(principal, session, asset_id, body, TagChange.DETACH)


@router.put(
    "/assets/{asset_id}/tags",
    operation_id="replace_asset_tags",
    response_model=AssetTags,
    responses=_ASSET_ERRORS,
)
async def replace_asset_tags(
    principal: CurrentUser,
    session: DbSession,
    asset_id: AssetId,
    body: Annotated[AssetTagsChange, _CHANGE_BODY],
) -> AssetTags:
    """Make the given tags exactly the asset's tags (``{}`` removes them all)."""
    return await _change(principal, session, asset_id, body, TagChange.REPLACE)
