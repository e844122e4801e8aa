"""Album rules: who may see, add, remove and change what (the roles live in ``access.py``).

- Everyone in an album (owner, contributor, viewer) sees it and its assets not in the trash.
- The owner and contributors add assets they can see; the owner removes any, a contributor
  removes what they added or what they own.
- Only the owner renames, describes, sets the cover, shares, or deletes the album.
- Nobody but an asset's owner changes the asset itself; an album only links to it.

Functions flush, never commit. Every change announces ``album.changed`` on the album's topic
after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library import access
from meadhall.library.albums import repository
from meadhall.library.albums.errors import (
    AddedByOther,
    CoverNotInAlbum,
    MemberNotFound,
    OwnerIsNotAMember,
)
from meadhall.library.albums.repository import AlbumItem, AlbumView, MemberView
from meadhall.library.albums.schemas import AddResult, RemoveResult
from meadhall.library.errors import AlbumNotFound, NotAlbumOwner
from meadhall.library.events import ALBUM_CHANGED
from meadhall.library.models import Album, AlbumRole
from meadhall.library.topics import album_topic
from meadhall.platform.accounts.errors import UserNotFound
from meadhall.platform.events.bus import publish_after_commit, session_bus


def _announce(session: AsyncSession, album_id: uuid.UUID, change: str, **data: Any) -> None:
    """``album.changed`` on the album's topic once the change is committed."""
    bus = session_bus(session)
    if bus is None:
        return
    payload = {"album_id": str(album_id), "change": change, **data}
    publish_after_commit(session, bus, album_topic(album_id), ALBUM_CHANGED, payload)


async def _touch(session: AsyncSession, album: Album) -> None:
    album.updated_at = datetime.now(UTC)
    await session.flush()


async def _locked(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID, at_least: AlbumRole
) -> tuple[Album, AlbumRole]:
    """The album, its row locked for this transaction, if the caller has ``at_least``.

    The lock orders concurrent changes of one album and makes a change racing a deletion end
    as a clean 404 rather than a foreign-key error.
    """
    album, role = await access.require_album_role(
        session, album_id=album_id, user_id=user_id, at_least=at_least
    )
    if not await repository.lock_album(session, album_id=album_id):
        raise AlbumNotFound("no such album")
    return album, role


async def _view(session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID) -> AlbumView:
    view = await repository.album_view(session, album_id=album_id, user_id=user_id)
    if view is None:
        raise AlbumNotFound("no such album")
    return view


async def create_album(
    session: AsyncSession, *, owner_id: uuid.UUID, name: str, description: str | None
) -> AlbumView:
    """A new, empty album owned by ``owner_id``."""
    album = Album(owner_id=owner_id, name=name, description=description)
    session.add(album)
    await session.flush()
    return await _view(session, album_id=album.id, user_id=owner_id)


async def list_albums(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    role: Literal["owner", "shared"] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AlbumView], int]:
    """The albums the caller owns (``owner``), is a member of (``shared``), or both."""
    return await repository.album_views(
        session, user_id=user_id, role=role, limit=limit, offset=offset
    )


async def get_album(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[AlbumView, list[MemberView]]:
    """The album as the caller sees it, with its members; 404 for anyone not in it."""
    view = await _view(session, album_id=album_id, user_id=user_id)
    return view, await repository.members(session, album=view.album)


async def update_album(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID, changes: dict[str, Any]
) -> AlbumView:
    """Change the name, description or cover (owner only). ``changes`` holds only sent fields.

    The cover must be an asset in the album (not in the trash); ``None`` goes back to the
    newest asset.
    """
    album, _ = await _locked(session, album_id=album_id, user_id=user_id, at_least=AlbumRole.OWNER)
    if "name" in changes:
        album.name = changes["name"]
    if "description" in changes:
        album.description = changes["description"]
    if "cover_asset_id" in changes:
        cover = changes["cover_asset_id"]
        if cover is not None and not await repository.live_link_exists(
            session, album_id=album.id, asset_id=cover
        ):
            raise CoverNotInAlbum("the cover must be an asset in the album")
        album.cover_asset_id = cover
    await _touch(session, album)
    _announce(session, album.id, "updated", fields=sorted(changes))
    return await _view(session, album_id=album.id, user_id=user_id)


async def delete_album(session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Delete the album (owner only); its assets stay, the links and memberships go."""
    album, _ = await _locked(session, album_id=album_id, user_id=user_id, at_least=AlbumRole.OWNER)
    await session.delete(album)
    await session.flush()
    _announce(session, album_id, "deleted")


async def add_assets(
    session: AsyncSession,
    *,
    album_id: uuid.UUID,
    user_id: uuid.UUID,
    asset_ids: Sequence[uuid.UUID],
) -> tuple[list[tuple[uuid.UUID, AddResult]], int]:
    """Put assets the caller can see into the album (owner or contributor).

    Returns one result per distinct id — ``added``, ``already`` (it was in the album) or
    ``not_found`` (no such asset, not visible to the caller, or in the trash) — and the
    album's asset count after.
    """
    album, _ = await _locked(
        session, album_id=album_id, user_id=user_id, at_least=AlbumRole.CONTRIBUTOR
    )
    wanted = list(dict.fromkeys(asset_ids))
    visible = await repository.visible_assets(session, user_id=user_id, asset_ids=wanted)
    added = await repository.link_assets(
        session,
        album_id=album.id,
        asset_ids=[asset_id for asset_id in wanted if asset_id in visible],
        added_by_id=user_id,
    )
    results: list[tuple[uuid.UUID, AddResult]] = []
    for asset_id in wanted:
        if asset_id not in visible:
            results.append((asset_id, "not_found"))
        elif asset_id in added:
            results.append((asset_id, "added"))
        else:
            results.append((asset_id, "already"))
    if added:
        await _touch(session, album)
        new = [str(asset_id) for asset_id in wanted if asset_id in added]
        _announce(session, album.id, "assets_added", asset_ids=new, by=str(user_id))
    return results, await repository.live_count(session, album_id=album.id)


async def remove_assets(
    session: AsyncSession,
    *,
    album_id: uuid.UUID,
    user_id: uuid.UUID,
    asset_ids: Sequence[uuid.UUID],
) -> tuple[list[tuple[uuid.UUID, RemoveResult]], int]:
    """Take assets out of the album; the assets themselves are untouched.

    The owner removes any. A contributor removes what they added or own; asking to remove
    anything else is :class:`AddedByOther` (403, listing those ids) and nothing is removed.
    Viewers get 403, people outside the album 404.
    """
    album, role = await _locked(
        session, album_id=album_id, user_id=user_id, at_least=AlbumRole.CONTRIBUTOR
    )
    wanted = list(dict.fromkeys(asset_ids))
    present = await repository.links(session, album_id=album.id, asset_ids=wanted)
    if role is not AlbumRole.OWNER:
        refused = [
            str(link.asset_id)
            for link in present
            if link.added_by_id != user_id and link.owner_id != user_id
        ]
        if refused:
            raise AddedByOther(
                "a contributor may only remove assets they added or own",
                details={"asset_ids": sorted(refused)},
            )
    removed = await repository.unlink_assets(
        session, album_id=album.id, asset_ids=[link.asset_id for link in present]
    )
    results: list[tuple[uuid.UUID, RemoveResult]] = [
        (asset_id, "removed" if asset_id in removed else "not_in_album") for asset_id in wanted
    ]
    if removed:
        if album.cover_asset_id in removed:
            album.cover_asset_id = None
        await _touch(session, album)
        gone = [str(asset_id) for asset_id in wanted if asset_id in removed]
        _announce(session, album.id, "assets_removed", asset_ids=gone, by=str(user_id))
    return results, await repository.live_count(session, album_id=album.id)


async def album_assets(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[AlbumItem], int]:
    """A page of the album's assets, newest first (trashed ones are never listed)."""
    album, _ = await access.album_role(session, album_id=album_id, user_id=user_id)
    return await repository.album_items(session, album_id=album.id, limit=limit, offset=offset)


async def members(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID
) -> list[MemberView]:
    """The owner and the members of an album the caller is in."""
    album, _ = await access.album_role(session, album_id=album_id, user_id=user_id)
    return await repository.members(session, album=album)


async def set_member(
    session: AsyncSession,
    *,
    album_id: uuid.UUID,
    user_id: uuid.UUID,
    member_id: uuid.UUID,
    role: AlbumRole,
) -> MemberView:
    """Share the album with an active user as contributor or viewer, or change their role."""
    album, _ = await _locked(session, album_id=album_id, user_id=user_id, at_least=AlbumRole.OWNER)
    if role is AlbumRole.OWNER:
        raise OwnerIsNotAMember("an album has one owner; members are contributors or viewers")
    if member_id == album.owner_id:
        raise OwnerIsNotAMember("the owner cannot be added as a member of their own album")
    if await repository.active_user(session, user_id=member_id) is None:
        raise UserNotFound("no such user")
    await repository.upsert_member(session, album_id=album.id, user_id=member_id, role=role.value)
    await _touch(session, album)
    _announce(session, album.id, "member_set", user_id=str(member_id), role=role.value)
    view = await repository.member(session, album_id=album.id, user_id=member_id)
    assert view is not None
    return view


async def remove_member(
    session: AsyncSession, *, album_id: uuid.UUID, user_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    """The owner removes anyone; a member may remove themself (leave the album).

    Assets they added stay in the album: the owner decides about those, and an asset's own
    owner can always take theirs out of view by trashing it.
    """
    album, role = await _locked(
        session, album_id=album_id, user_id=user_id, at_least=AlbumRole.VIEWER
    )
    if role is not AlbumRole.OWNER and member_id != user_id:
        raise NotAlbumOwner("only the owner removes other members")
    if member_id == album.owner_id:
        raise OwnerIsNotAMember("the owner cannot leave their own album; delete it instead")
    if not await repository.delete_member(session, album_id=album.id, user_id=member_id):
        raise MemberNotFound("that user is not a member of this album")
    await _touch(session, album)
    _announce(session, album.id, "member_removed", user_id=str(member_id))


async def find_people(
    session: AsyncSession, *, user_id: uuid.UUID, q: str, limit: int = 20
) -> list[tuple[uuid.UUID, str]]:
    """Active users (not the caller) whose display name or e-mail starts with ``q``."""
    return await repository.find_people(session, exclude=user_id, q=q, limit=limit)
