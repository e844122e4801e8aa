"""``/api/library/albums``: create, list (own and shared), details, patch, cover, delete."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from meadhall.library.events import ALBUM_CHANGED
from meadhall.library.models import Asset
from meadhall.library.topics import album_topic
from meadhall.platform.runtime import Runtime
from tests.library.albums.support import ALBUMS, add, album_url, create_album, share
from tests.library.tags.support import new_asset


async def test_create_and_get(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    album = await create_album(client, user, "  Session   One ", description="  The tavern.\n")
    assert album["name"] == "Session One"
    assert album["description"] == "The tavern."
    assert album["role"] == "owner"
    assert album["owner"] == {"id": str(user.id), "display_name": user.email.split("@")[0]}
    assert album["asset_count"] == 0
    assert album["cover_asset_id"] is None

    detail = (await client.get(album_url(album["id"]), headers=user.headers)).json()
    assert detail["name"] == "Session One"
    assert detail["members"] == [
        {
            "user": {"id": str(user.id), "display_name": user.email.split("@")[0]},
            "role": "owner",
            "added_at": detail["created_at"],
        }
    ]


async def test_bad_album_bodies(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    for body in [
        {},
        {"name": ""},
        {"name": "  "},
        {"name": "x" * 201},
        {"name": "ok", "description": "x" * 5001},
        {"name": "ok", "description": "nul\x00"},
        {"name": "bell\x07"},
        {"name": "ok", "owner_id": str(uuid.uuid4())},
        ["name"],
    ]:
        response = await client.post(ALBUMS, json=body, headers=user.headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"
    album = await create_album(client, user)
    for body in [{"name": None}, {"name": ""}, {"cover_asset_id": "nope"}, {"role": "x"}]:
        response = await client.patch(album_url(album["id"]), json=body, headers=user.headers)
        assert response.status_code == 422, body
    assert (await client.get(album_url("not-a-uuid"), headers=user.headers)).status_code == 422
    assert (
        await client.get(ALBUMS, params={"role": "admin"}, headers=user.headers)
    ).status_code == 422
    assert (await client.get(ALBUMS, params={"limit": 0}, headers=user.headers)).status_code == 422


async def test_list_own_and_shared_with_role_filter(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    me, friend, stranger = await make_user(), await make_user(), await make_user()
    mine = await create_album(client, me, "Mine")
    theirs = await create_album(client, friend, "Friend's")
    await create_album(client, friend, "Private to friend")
    await share(client, friend, theirs["id"], me, "viewer")
    photo = await new_asset(runtime, owner_id=friend.id)
    await add(client, friend, theirs["id"], photo.id)

    listed = (await client.get(ALBUMS, headers=me.headers)).json()
    assert listed["total"] == 2
    by_name = {a["name"]: a for a in listed["items"]}
    assert set(by_name) == {"Mine", "Friend's"}
    assert by_name["Mine"]["role"] == "owner"
    shared = by_name["Friend's"]
    assert shared["role"] == "viewer"
    assert shared["owner"]["id"] == str(friend.id)
    assert shared["asset_count"] == 1
    assert shared["cover_asset_id"] == str(photo.id)
    # Most recently changed first: adding the photo touched the friend's album.
    assert listed["items"][0]["id"] == theirs["id"]

    owned = (await client.get(ALBUMS, params={"role": "owner"}, headers=me.headers)).json()
    assert [a["id"] for a in owned["items"]] == [mine["id"]]
    only_shared = (await client.get(ALBUMS, params={"role": "shared"}, headers=me.headers)).json()
    assert [a["id"] for a in only_shared["items"]] == [theirs["id"]]
    assert (await client.get(ALBUMS, headers=stranger.headers)).json()["total"] == 0

    page = (await client.get(ALBUMS, params={"limit": 1, "offset": 1}, headers=me.headers)).json()
    assert [a["id"] for a in page["items"]] == [mine["id"]]
    assert page["total"] == 2


async def test_non_members_get_404_everywhere(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, stranger = await make_user(), await make_user()
    album = await create_album(client, owner)
    asset = await new_asset(runtime, owner_id=owner.id)
    await add(client, owner, album["id"], asset.id)
    own_asset = await new_asset(runtime, owner_id=stranger.id)
    ids = {"asset_ids": [str(own_asset.id)]}
    for method, path, body in [
        ("GET", album_url(album["id"]), None),
        ("PATCH", album_url(album["id"]), {"name": "mine now"}),
        ("DELETE", album_url(album["id"]), None),
        ("GET", album_url(album["id"], "assets"), None),
        ("POST", album_url(album["id"], "assets"), ids),
        ("DELETE", album_url(album["id"], "assets"), {"asset_ids": [str(asset.id)]}),
        ("GET", album_url(album["id"], "members"), None),
        ("PUT", album_url(album["id"], "members", str(stranger.id)), {"role": "contributor"}),
        ("DELETE", album_url(album["id"], "members", str(stranger.id)), None),
    ]:
        response = await client.request(method, path, json=body, headers=stranger.headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "album_not_found"
    # Nothing changed.
    detail = (await client.get(album_url(album["id"]), headers=owner.headers)).json()
    assert detail["name"] == "Campaign"
    assert detail["asset_count"] == 1
    assert len(detail["members"]) == 1
    missing = await client.get(album_url(str(uuid.uuid4())), headers=owner.headers)
    assert missing.status_code == 404


async def test_patch_name_description_and_cover(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner = await make_user()
    album = await create_album(client, owner, description="old")
    now = datetime.now(UTC)
    older = await new_asset(runtime, owner_id=owner.id, when=now - timedelta(days=3))
    newer = await new_asset(runtime, owner_id=owner.id, when=now - timedelta(days=1))
    outside = await new_asset(runtime, owner_id=owner.id)
    await add(client, owner, album["id"], older.id, newer.id)

    detail = (await client.get(album_url(album["id"]), headers=owner.headers)).json()
    assert detail["cover_asset_id"] == str(newer.id)
    assert detail["explicit_cover"] is False

    url = album_url(album["id"])
    renamed = await client.patch(url, json={"name": "Renamed"}, headers=owner.headers)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Renamed"
    assert renamed.json()["description"] == "old"
    cleared = await client.patch(url, json={"description": None}, headers=owner.headers)
    assert cleared.json()["description"] is None
    assert cleared.json()["name"] == "Renamed"

    cover = await client.patch(url, json={"cover_asset_id": str(older.id)}, headers=owner.headers)
    assert cover.json()["cover_asset_id"] == str(older.id)
    assert cover.json()["explicit_cover"] is True
    for bad in (outside.id, uuid.uuid4()):
        refused = await client.patch(url, json={"cover_asset_id": str(bad)}, headers=owner.headers)
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "cover_not_in_album"

    # A trashed cover falls back to the newest asset; removing it clears the choice.
    async with runtime.db.transaction() as session:
        row = await session.scalar(select(Asset).where(Asset.id == older.id))
        assert row is not None
        row.trashed_at = datetime.now(UTC)
    assert (await client.get(url, headers=owner.headers)).json()["cover_asset_id"] == str(newer.id)
    back = await client.patch(url, json={"cover_asset_id": None}, headers=owner.headers)
    assert back.json()["explicit_cover"] is False
    assert back.json()["cover_asset_id"] == str(newer.id)

    await client.patch(url, json={"cover_asset_id": str(newer.id)}, headers=owner.headers)
    response = await client.request(
        "DELETE",
        album_url(album["id"], "assets"),
        json={"asset_ids": [str(newer.id)]},
        headers=owner.headers,
    )
    assert response.status_code == 200
    after = (await client.get(url, headers=owner.headers)).json()
    assert after["cover_asset_id"] is None
    assert after["explicit_cover"] is False
    assert after["asset_count"] == 0


async def test_only_the_owner_patches_or_deletes(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, contributor, viewer = await make_user(), await make_user(), await make_user()
    album = await create_album(client, owner)
    await share(client, owner, album["id"], contributor, "contributor")
    await share(client, owner, album["id"], viewer, "viewer")
    for member in (contributor, viewer):
        patch = await client.patch(
            album_url(album["id"]), json={"name": "x"}, headers=member.headers
        )
        assert patch.status_code == 403
        assert patch.json()["error"]["code"] == "album_role_required"
        delete = await client.delete(album_url(album["id"]), headers=member.headers)
        assert delete.status_code == 403
    assert (await client.get(album_url(album["id"]), headers=owner.headers)).json()["name"] == (
        "Campaign"
    )


async def test_delete_keeps_the_assets(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, viewer = await make_user(), await make_user()
    album = await create_album(client, owner)
    await share(client, owner, album["id"], viewer, "viewer")
    asset = await new_asset(runtime, owner_id=owner.id)
    await add(client, owner, album["id"], asset.id)
    topic = album_topic(uuid.UUID(album["id"]))

    start = await runtime.bus.last_event_id()
    response = await client.delete(album_url(album["id"]), headers=owner.headers)
    assert response.status_code == 204
    replay = await runtime.bus.replay(start, {topic})
    assert replay.events is not None
    assert [(e.type, e.data["change"]) for e in replay.events] == [(ALBUM_CHANGED, "deleted")]

    for user in (owner, viewer):
        assert (await client.get(album_url(album["id"]), headers=user.headers)).status_code == 404
    assert (await client.get(ALBUMS, headers=viewer.headers)).json()["total"] == 0
    async with runtime.db.sessionmaker() as session:
        assert await session.scalar(select(Asset.id).where(Asset.id == asset.id)) == asset.id


async def test_album_routes_need_authentication(client: httpx.AsyncClient) -> None:
    some = str(uuid.uuid4())
    for method, path in [
        ("POST", ALBUMS),
        ("GET", ALBUMS),
        ("GET", album_url(some)),
        ("PATCH", album_url(some)),
        ("DELETE", album_url(some)),
        ("GET", album_url(some, "assets")),
        ("POST", album_url(some, "assets")),
        ("DELETE", album_url(some, "assets")),
        ("GET", album_url(some, "members")),
        ("PUT", album_url(some, "members", some)),
        ("DELETE", album_url(some, "members", some)),
        ("GET", "/api/library/people?q=ab"),
    ]:
        response = await client.request(method, path, json={"name": "x"})
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "not_authenticated"
