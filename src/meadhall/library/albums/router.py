"""``/api/library/albums`` and ``/api/library/people``: albums, their assets and members.

An album the caller is not in answers 404 like a missing one; inside it, the caller's role
(owner, contributor, viewer) decides what they may do, and a role too low is 403.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from meadhall.library.albums import service
from meadhall.library.albums.errors import (
    AddedByOther,
    CoverNotInAlbum,
    MemberNotFound,
    OwnerIsNotAMember,
)
from meadhall.library.albums.repository import AlbumView, MemberView
from meadhall.library.albums.schemas import (
    AlbumAssetItem,
    AlbumAssetPage,
    AlbumAssetsAdded,
    AlbumAssetsChange,
    AlbumAssetsRemoved,
    AlbumCreate,
    AlbumDetail,
    AlbumPage,
    AlbumRead,
    AlbumUpdate,
    AssetAdded,
    AssetRemoved,
    MemberRead,
    MemberUpdate,
    PeoplePage,
    Person,
)
from meadhall.library.errors import AlbumNotFound, NotAlbumOwner
from meadhall.library.models import AlbumRole
from meadhall.platform.accounts.deps import CurrentUser
from meadhall.platform.accounts.errors import UserNotFound
from meadhall.platform.deps import DbSession
from meadhall.platform.errors import NotAllowed, NotAuthenticated, Unprocessable, error_responses

router = APIRouter(prefix="/library", tags=["library: albums"])

AlbumId = Annotated[uuid.UUID, Path(description="The album's id.")]
UserId = Annotated[uuid.UUID, Path(description="The member's user id.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

_AUTH = (NotAuthenticated, NotAllowed)


def _read(view: AlbumView) -> AlbumRead:
    album = view.album
    return AlbumRead(
        id=album.id,
        name=album.name,
        description=album.description,
        owner=Person(id=view.owner_id, display_name=view.owner_name),
        role=view.role,
        asset_count=view.asset_count,
        cover_asset_id=view.cover_asset_id,
        explicit_cover=view.explicit_cover,
        cover_placeholder=view.cover_placeholder,
        member_count=view.member_count,
        created_at=album.created_at,
        updated_at=album.updated_at,
    )


def _member(view: MemberView) -> MemberRead:
    return MemberRead(
        user=Person(id=view.user_id, display_name=view.display_name),
        role=view.role,
        added_at=view.added_at,
    )


@router.get(
    "/people",
    operation_id="find_people",
    response_model=PeoplePage,
    responses=error_responses(*_AUTH, Unprocessable),
)
async def find_people(
    principal: CurrentUser,
    session: DbSession,
    q: Annotated[
        str,
        Query(
            min_length=2,
            max_length=100,
            pattern=r"^[^\x00-\x1f\x7f]*$",
            description="Start of a display name, or a whole e-mail address (2+ characters).",
        ),
    ],
) -> PeoplePage:
    """Up to 20 active users to share an album with: id and display name only.

    Every signed-in user can look people up by the start of their display name or by their
    whole e-mail address; the answer never contains the e-mail address itself.
    """
    q = q.strip()
    if len(q) < 2:
        raise Unprocessable("q needs at least 2 characters besides spaces")
    people = await service.find_people(session, user_id=principal.user_id, q=q, limit=20)
    return PeoplePage(items=[Person(id=uid, display_name=name) for uid, name in people])


@router.post(
    "/albums",
    operation_id="create_album",
    response_model=AlbumRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*_AUTH, Unprocessable),
)
async def create_album(principal: CurrentUser, session: DbSession, body: AlbumCreate) -> AlbumRead:
    """Create an empty album owned by the caller."""
    view = await service.create_album(
        session, owner_id=principal.user_id, name=body.name, description=body.description
    )
    return _read(view)


@router.get(
    "/albums",
    operation_id="list_albums",
    response_model=AlbumPage,
    responses=error_responses(*_AUTH, Unprocessable),
)
async def list_albums(
    principal: CurrentUser,
    session: DbSession,
    role: Annotated[
        Literal["owner", "shared"] | None,
        Query(description="Only the caller's own albums, or only those shared with them."),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AlbumPage:
    """The caller's albums and those shared with them, most recently changed first."""
    views, total = await service.list_albums(
        session, user_id=principal.user_id, role=role, limit=limit, offset=offset
    )
    return AlbumPage(items=[_read(v) for v in views], total=total, limit=limit, offset=offset)


@router.get(
    "/albums/{album_id}",
    operation_id="get_album",
    response_model=AlbumDetail,
    responses=error_responses(*_AUTH, AlbumNotFound, Unprocessable),
)
async def get_album(principal: CurrentUser, session: DbSession, album_id: AlbumId) -> AlbumDetail:
    """An album with its members (the owner first)."""
    view, members = await service.get_album(session, album_id=album_id, user_id=principal.user_id)
    return AlbumDetail(**_read(view).model_dump(), members=[_member(m) for m in members])


@router.patch(
    "/albums/{album_id}",
    operation_id="update_album",
    response_model=AlbumRead,
    responses=error_responses(*_AUTH, AlbumNotFound, NotAlbumOwner, CoverNotInAlbum),
)
async def update_album(
    principal: CurrentUser, session: DbSession, album_id: AlbumId, body: AlbumUpdate
) -> AlbumRead:
    """Rename, describe, or choose the cover (owner only). Only the fields sent change."""
    view = await service.update_album(
        session,
        album_id=album_id,
        user_id=principal.user_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return _read(view)


@router.delete(
    "/albums/{album_id}",
    operation_id="delete_album",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(*_AUTH, AlbumNotFound, NotAlbumOwner, Unprocessable),
)
async def delete_album(principal: CurrentUser, session: DbSession, album_id: AlbumId) -> Response:
    """Delete the album (owner only). The assets stay in their owners' libraries."""
    await service.delete_album(session, album_id=album_id, user_id=principal.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/albums/{album_id}/assets",
    operation_id="list_album_assets",
    response_model=AlbumAssetPage,
    responses=error_responses(*_AUTH, AlbumNotFound, Unprocessable),
)
async def list_album_assets(
    principal: CurrentUser,
    session: DbSession,
    album_id: AlbumId,
    limit: Limit = 200,
    offset: Offset = 0,
) -> AlbumAssetPage:
    """The album's assets, newest first; assets in the trash are never listed."""
    items, total = await service.album_assets(
        session, album_id=album_id, user_id=principal.user_id, limit=limit, offset=offset
    )
    return AlbumAssetPage(
        items=[
            AlbumAssetItem(
                id=item.asset.id,
                name=item.asset.name,
                type=item.asset.type,
                media=item.asset.media,
                is_favourite=item.asset.is_favourite,
                width=item.asset.width,
                height=item.asset.height,
                placeholder=item.asset.placeholder,
                local_at=item.asset.local_at,
                duration_ms=item.asset.duration_ms,
                added_by_id=item.added_by_id,
                added_at=item.added_at,
            )
            for item in items
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/albums/{album_id}/assets",
    operation_id="add_album_assets",
    response_model=AlbumAssetsAdded,
    responses=error_responses(*_AUTH, AlbumNotFound, NotAlbumOwner, Unprocessable),
)
async def add_album_assets(
    principal: CurrentUser, session: DbSession, album_id: AlbumId, body: AlbumAssetsChange
) -> AlbumAssetsAdded:
    """Add assets the caller can see (owner or contributor). Adding one twice is fine; each
    id gets ``added``, ``already`` or ``not_found``."""
    results, count = await service.add_assets(
        session, album_id=album_id, user_id=principal.user_id, asset_ids=body.asset_ids
    )
    return AlbumAssetsAdded(
        results=[AssetAdded(asset_id=aid, result=result) for aid, result in results],
        asset_count=count,
    )


@router.delete(
    "/albums/{album_id}/assets",
    operation_id="remove_album_assets",
    response_model=AlbumAssetsRemoved,
    responses=error_responses(*_AUTH, AlbumNotFound, NotAlbumOwner, AddedByOther, Unprocessable),
)
async def remove_album_assets(
    principal: CurrentUser, session: DbSession, album_id: AlbumId, body: AlbumAssetsChange
) -> AlbumAssetsRemoved:
    """Take assets out of the album (the ids in this ``DELETE``'s JSON body). The owner
    removes any; a contributor only what they added or own, else 403 and nothing changes."""
    results, count = await service.remove_assets(
        session, album_id=album_id, user_id=principal.user_id, asset_ids=body.asset_ids
    )
    return AlbumAssetsRemoved(
        results=[AssetRemoved(asset_id=aid, result=result) for aid, result in results],
        asset_count=count,
    )


@router.get(
    "/albums/{album_id}/members",
    operation_id="list_album_members",
    response_model=list[MemberRead],
    responses=error_responses(*_AUTH, AlbumNotFound, Unprocessable),
)
async def list_album_members(
    principal: CurrentUser, session: DbSession, album_id: AlbumId
) -> list[MemberRead]:
    """The owner, then the members by name."""
    members = await service.members(session, album_id=album_id, user_id=principal.user_id)
    return [_member(m) for m in members]


@router.put(
    "/albums/{album_id}/members/{user_id}",
    operation_id="set_album_member",
    response_model=MemberRead,
    responses=error_responses(
        *_AUTH, AlbumNotFound, NotAlbumOwner, UserNotFound, OwnerIsNotAMember
    ),
)
async def set_album_member(
    principal: CurrentUser,
    session: DbSession,
    album_id: AlbumId,
    user_id: UserId,
    body: MemberUpdate,
) -> MemberRead:
    """Share the album with an active user as ``contributor`` or ``viewer``, or change their
    role (owner only)."""
    member = await service.set_member(
        session,
        album_id=album_id,
        user_id=principal.user_id,
        member_id=user_id,
        role=AlbumRole(body.role.value),
    )
    return _member(member)


@router.delete(
    "/albums/{album_id}/members/{user_id}",
    operation_id="remove_album_member",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(
        *_AUTH, AlbumNotFound, NotAlbumOwner, MemberNotFound, OwnerIsNotAMember
    ),
)
async def remove_album_member(
    principal: CurrentUser, session: DbSession, album_id: AlbumId, user_id: UserId
) -> Response:
    """Remove a member (owner), or leave the album (a member removing themself)."""
    await service.remove_member(
        session, album_id=album_id, user_id=principal.user_id, member_id=user_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
