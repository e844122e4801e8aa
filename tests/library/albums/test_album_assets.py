"""Assets in albums, and what each role may do with them.

A contributor adds what they can see and removes what they added; a viewer only looks; the
album never lets anyone change the assets themselves; trashed assets are never listed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select

from meadhall.library import access
from meadhall.library.errors import AssetNotFound, NotAssetOwner
from meadhall.library.events import ALBUM_CHANGED
from meadhall.library.models import AlbumAsset, Asset
from meadhall.library.topics import album_topic
from meadhall.platform.runtime import Runtime
from tests.library.albums.support import add, album_url, create_album, listed_ids, share
from tests.library.tags.support import new_asset


def results(body: dict[str, Any]) -> dict[str, str]:
    return {r["asset_id"]: r["result"] for r in body["results"]}


async def remove(
    client: httpx.AsyncClient, user: Any, album_id: str, *asset_ids: uuid.UUID
) -> httpx.Response:
    return await client.request(
        "DELETE",
        album_url(album_id, "assets"),
        json={"asset_ids": [str(a) for a in asset_ids]},
        headers=user.headers,
    )


async def test_add_is_idempotent_with_per_id_results(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, other = await make_user(), await make_user()
    album = await create_album(client, owner)
    a = await new_asset(runtime, owner_id=owner.id)
    b = await new_asset(runtime, owner_id=owner.id)
    foreign = await new_asset(runtime, owner_id=other.id)
    trashed = await new_asset(runtime, owner_id=owner.id, trashed_at=datetime.now(UTC))
    missing = uuid.uuid4()

    first = await add(client, owner, album["id"], a.id, a.id, foreign.id, missing, trashed.id)
    assert [r["asset_id"] for r in first["results"]] == [
        str(a.id),
        str(foreign.id),
        str(missing),
        str(trashed.id),
    ]
    assert results(first) == {
        str(a.id): "added",
        str(foreign.id): "not_found",
        str(missing): "not_found",
        str(trashed.id): "not_found",
    }
    assert first["asset_count"] == 1
    second = await add(client, owner, album["id"], a.id, b.id)
    assert results(second) == {str(a.id): "already", str(b.id): "added"}
    assert second["asset_count"] == 2


async def test_listing_newest_first_compact_and_without_trash(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, viewer = await make_user(), await make_user()
    album = await create_album(client, owner)
    await share(client, owner, album["id"], viewer, "viewer")
    now = datetime.now(UTC)
    assets = [
        await new_asset(runtime, owner_id=owner.id, when=now - timedelta(days=d), placeholder="ph")
        for d in (5, 1, 3)
    ]
    await add(client, owner, album["id"], *(a.id for a in assets))

    page = (await client.get(album_url(album["id"], "assets"), headers=viewer.headers)).json()
    assert [i["id"] for i in page["items"]] == [str(assets[i].id) for i in (1, 2, 0)]
    item = page["items"][0]
    assert set(item) == {
        "id",
        "name",
        "is_favourite",
        "type",
        "media",
        "width",
        "height",
        "placeholder",
        "local_at",
        "duration_ms",
        "added_by_id",
        "added_at",
    }
    assert (item["type"], item["width"], item["height"], item["placeholder"]) == (
        "photo",
        64,
        48,
        "ph",
    )
    assert item["added_by_id"] == str(owner.id)

    second = await client.get(
        album_url(album["id"], "assets"), params={"limit": 2, "offset": 2}, headers=owner.headers
    )
    assert [i["id"] for i in second.json()["items"]] == [str(assets[0].id)]
    assert second.json()["total"] == 3

    # The owner trashes one: nobody sees it in the album any more, counts follow.
    async with runtime.db.transaction() as session:
        row = await session.scalar(select(Asset).where(Asset.id == assets[1].id))
        assert row is not None
        row.trashed_at = datetime.now(UTC)
    for user in (owner, viewer):
        assert await listed_ids(client, user, album["id"]) == [
            str(assets[2].id),
            str(assets[0].id),
        ]
    detail = (await client.get(album_url(album["id"]), headers=viewer.headers)).json()
    assert detail["asset_count"] == 2
    assert detail["cover_asset_id"] == str(assets[2].id)
    bad = await client.get(
        album_url(album["id"], "assets"), params={"limit": 501}, headers=owner.headers
    )
    assert bad.status_code == 422


async def test_album_list_carries_the_cover_blur_and_who_it_is_shared_with(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, viewer, helper = await make_user(), await make_user(), await make_user()
    album = await create_album(client, owner)
    now = datetime.now(UTC)
    older = await new_asset(
        runtime, owner_id=owner.id, when=now - timedelta(days=2), placeholder="old"
    )
    newer = await new_asset(runtime, owner_id=owner.id, when=now, placeholder="new")
    await add(client, owner, album["id"], older.id, newer.id)

    async def listed(user: Any) -> dict[str, Any]:
        page = (await client.get("/api/library/albums", headers=user.headers)).json()
        return next(a for a in page["items"] if a["id"] == album["id"])

    first = await listed(owner)
    assert (first["cover_asset_id"], first["cover_placeholder"], first["member_count"]) == (
        str(newer.id),
        "new",
        0,
    )
    await share(client, owner, album["id"], viewer, "viewer")
    await share(client, owner, album["id"], helper, "contributor")
    chosen = await client.patch(
        album_url(album["id"]), json={"cover_asset_id": str(older.id)}, headers=owner.headers
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["cover_placeholder"] == "old"
    for user in (owner, viewer):
        seen = await listed(user)
        assert (seen["cover_placeholder"], seen["member_count"]) == ("old", 2)
    empty = await create_album(client, owner, name="Empty")
    page = (await client.get("/api/library/albums", headers=owner.headers)).json()
    blank = next(a for a in page["items"] if a["id"] == empty["id"])
    assert (blank["cover_asset_id"], blank["cover_placeholder"], blank["member_count"]) == (
        None,
        None,
        0,
    )


async def test_contributor_adds_what_they_see_and_removes_only_their_additions(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, contributor, outsider = await make_user(), await make_user(), await make_user()
    album = await create_album(client, owner)
    await share(client, owner, album["id"], contributor, "contributor")
    owners_photo = await new_asset(runtime, owner_id=owner.id)
    await add(client, owner, album["id"], owners_photo.id)
    own = await new_asset(runtime, owner_id=contributor.id)
    secret = await new_asset(runtime, owner_id=owner.id)
    outsiders = await new_asset(runtime, owner_id=outsider.id)
    # Visible to the contributor through another album the outsider shares with them.
    other_album = await create_album(client, outsider, "Outsider's")
    await share(client, outsider, other_album["id"], contributor, "viewer")
    await add(client, outsider, other_album["id"], outsiders.id)

    added = await add(client, contributor, album["id"], own.id, outsiders.id, secret.id)
    assert results(added) == {
        str(own.id): "added",
        str(outsiders.id): "added",
        # The owner's asset outside the album is invisible to the contributor.
        str(secret.id): "not_found",
    }

    # Removing the owner's photo is refused as a whole: nothing is removed.
    refused = await remove(client, contributor, album["id"], own.id, owners_photo.id)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "album_asset_added_by_other"
    assert refused.json()["error"]["details"]["asset_ids"] == [str(owners_photo.id)]
    assert len(await listed_ids(client, owner, album["id"])) == 3

    removed = await remove(client, contributor, album["id"], own.id, outsiders.id, uuid.uuid4())
    assert removed.status_code == 200
    assert list(results(removed.json()).values()) == ["removed", "removed", "not_in_album"]
    assert await listed_ids(client, owner, album["id"]) == [str(owners_photo.id)]

    # The owner removes anything, whoever added it.
    await add(client, contributor, album["id"], own.id)
    by_owner = await remove(client, owner, album["id"], own.id, owners_photo.id)
    assert list(results(by_owner.json()).values()) == ["removed", "removed"]
    assert by_owner.json()["asset_count"] == 0
    # The assets themselves are untouched.
    async with runtime.db.sessionmaker() as session:
        alive = set((await session.scalars(select(Asset.id))).all())
    assert {own.id, owners_photo.id, outsiders.id} <= alive


async def test_contributor_removes_own_asset_added_by_the_owner(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, contributor = await make_user(), await make_user()
    album = await create_album(client, owner)
    await share(client, owner, album["id"], contributor, "contributor")
    theirs = await new_asset(runtime, owner_id=contributor.id)
    # The owner put the contributor's asset in (it is visible to the owner through another
    # album the contributor shares); the contributor may still take their own asset out.
    async with runtime.db.transaction() as session:
        session.add(
            AlbumAsset(album_id=uuid.UUID(album["id"]), asset_id=theirs.id, added_by_id=owner.id)
        )
    response = await remove(client, contributor, album["id"], theirs.id)
    assert response.status_code == 200
    assert results(response.json()) == {str(theirs.id): "removed"}


async def test_viewer_only_views(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, viewer = await make_user(), await make_user()
    album = await create_album(client, owner)
    await share(client, owner, album["id"], viewer, "viewer")
    photo = await new_asset(runtime, owner_id=owner.id)
    viewers_own = await new_asset(runtime, owner_id=viewer.id)
    await add(client, owner, album["id"], photo.id)

    assert await listed_ids(client, viewer, album["id"]) == [str(photo.id)]
    assert (await client.get(album_url(album["id"]), headers=viewer.headers)).json()["role"] == (
        "viewer"
    )
    assert (
        await client.get(album_url(album["id"], "members"), headers=viewer.headers)
    ).status_code == 200
    for response in (
        await client.post(
            album_url(album["id"], "assets"),
            json={"asset_ids": [str(viewers_own.id)]},
            headers=viewer.headers,
        ),
        await remove(client, viewer, album["id"], photo.id),
        await client.patch(album_url(album["id"]), json={"name": "v"}, headers=viewer.headers),
        await client.put(
            album_url(album["id"], "members", str(viewer.id)),
            json={"role": "contributor"},
            headers=viewer.headers,
        ),
        # Seeing an asset through an album does not make it yours to tag.
        await client.post(
            f"/api/library/assets/{photo.id}/tags", json={"names": ["mine"]}, headers=viewer.headers
        ),
    ):
        assert response.status_code == 403, response.text
    assert await listed_ids(client, viewer, album["id"]) == [str(photo.id)]


async def test_access_rules_follow_the_album(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    """The access module (which the asset routes use) sees album assets as the album says."""
    owner, viewer, stranger = await make_user(), await make_user(), await make_user()
    album = await create_album(client, owner)
    await share(client, owner, album["id"], viewer, "viewer")
    photo = await new_asset(runtime, owner_id=owner.id)
    await add(client, owner, album["id"], photo.id)

    async with runtime.db.sessionmaker() as session:
        seen = await access.viewable_asset(session, asset_id=photo.id, user_id=viewer.id)
        assert seen.id == photo.id
        with pytest.raises(NotAssetOwner):
            await access.owned_asset(session, asset_id=photo.id, user_id=viewer.id)
        with pytest.raises(AssetNotFound):
            await access.viewable_asset(session, asset_id=photo.id, user_id=stranger.id)

    await remove(client, owner, album["id"], photo.id)
    async with runtime.db.sessionmaker() as session:
        with pytest.raises(AssetNotFound):
            await access.viewable_asset(session, asset_id=photo.id, user_id=viewer.id)

    # Leaving the album ends the access too.
    await add(client, owner, album["id"], photo.id)
    response = await client.delete(
        album_url(album["id"], "members", str(viewer.id)), headers=viewer.headers
    )
    assert response.status_code == 204
    async with runtime.db.sessionmaker() as session:
        with pytest.raises(AssetNotFound):
            await access.viewable_asset(session, asset_id=photo.id, user_id=viewer.id)


async def test_bad_asset_bodies(client: httpx.AsyncClient, make_user: Any) -> None:
    owner = await make_user()
    album = await create_album(client, owner)
    url = album_url(album["id"], "assets")
    for body in [
        {},
        {"asset_ids": []},
        {"asset_ids": ["nope"]},
        {"asset_ids": [str(uuid.uuid4()) for _ in range(501)]},
        {"asset_ids": [str(uuid.uuid4())], "extra": 1},
        {"asset_ids": str(uuid.uuid4())},
        None,
    ]:
        for method in ("POST", "DELETE"):
            response = await client.request(method, url, json=body, headers=owner.headers)
            assert response.status_code == 422, (method, body)
    at_limit = await client.post(
        url, json={"asset_ids": [str(uuid.uuid4()) for _ in range(500)]}, headers=owner.headers
    )
    assert at_limit.status_code == 200
    assert set(results(at_limit.json()).values()) == {"not_found"}


async def test_deleting_an_asset_removes_its_album_links(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, viewer = await make_user(), await make_user()
    album = await create_album(client, owner)
    await share(client, owner, album["id"], viewer, "viewer")
    gone = await new_asset(runtime, owner_id=owner.id)
    stays = await new_asset(runtime, owner_id=owner.id)
    await add(client, owner, album["id"], gone.id, stays.id)
    await client.patch(
        album_url(album["id"]), json={"cover_asset_id": str(gone.id)}, headers=owner.headers
    )

    async with runtime.db.transaction() as session:
        await session.execute(delete(Asset).where(Asset.id == gone.id))

    for user in (owner, viewer):
        assert await listed_ids(client, user, album["id"]) == [str(stays.id)]
    detail = (await client.get(album_url(album["id"]), headers=owner.headers)).json()
    assert detail["asset_count"] == 1
    assert detail["cover_asset_id"] == str(stays.id)
    assert detail["explicit_cover"] is False
    async with runtime.db.sessionmaker() as session:
        links = (await session.scalars(select(AlbumAsset.asset_id))).all()
    assert links == [stays.id]


async def test_changes_announce_album_changed(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, contributor = await make_user(), await make_user()
    album = await create_album(client, owner)
    topic = album_topic(uuid.UUID(album["id"]))
    photo = await new_asset(runtime, owner_id=owner.id)

    start = await runtime.bus.last_event_id()
    await share(client, owner, album["id"], contributor, "contributor")
    await add(client, owner, album["id"], photo.id)
    await add(client, owner, album["id"], photo.id)  # nothing new: no event
    await client.patch(album_url(album["id"]), json={"name": "New"}, headers=owner.headers)
    await remove(client, owner, album["id"], photo.id)
    await client.delete(
        album_url(album["id"], "members", str(contributor.id)), headers=owner.headers
    )
    replay = await runtime.bus.replay(start, {topic})
    assert replay.events is not None
    assert all(e.type == ALBUM_CHANGED for e in replay.events)
    assert [e.data["change"] for e in replay.events] == [
        "member_set",
        "assets_added",
        "updated",
        "assets_removed",
        "member_removed",
    ]
    assert replay.events[1].data["asset_ids"] == [str(photo.id)]
    assert replay.events[2].data["fields"] == ["name"]

    # A refused change announces nothing.
    start = await runtime.bus.last_event_id()
    await client.patch(
        album_url(album["id"]), json={"cover_asset_id": str(uuid.uuid4())}, headers=owner.headers
    )
    assert (await runtime.bus.replay(start, {topic})).events == []


async def test_trash_then_purge_through_the_assets_api_drops_tag_and_album_links(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, viewer = await make_user(), await make_user()
    album = await create_album(client, owner)
    await share(client, owner, album["id"], viewer, "viewer")
    photo = await new_asset(runtime, owner_id=owner.id)
    other = await new_asset(runtime, owner_id=owner.id)
    await add(client, owner, album["id"], photo.id, other.id)
    tagged = await client.post(
        f"/api/library/assets/{photo.id}/tags", json={"names": ["doomed"]}, headers=owner.headers
    )
    tag_id = tagged.json()["tags"][0]["id"]

    trashed = await client.delete(f"/api/library/assets/{photo.id}", headers=owner.headers)
    assert trashed.status_code == 200, trashed.text
    # In the trash: out of the album for everyone, still tagged (restore brings it back).
    for user in (owner, viewer):
        assert await listed_ids(client, user, album["id"]) == [str(other.id)]
    tag = await client.get(f"/api/library/tags/{tag_id}", headers=owner.headers)
    assert tag.json()["asset_count"] == 1

    purged = await client.delete(f"/api/library/assets/{photo.id}/purge", headers=owner.headers)
    assert purged.status_code == 204, purged.text
    tag = await client.get(f"/api/library/tags/{tag_id}", headers=owner.headers)
    assert tag.json()["asset_count"] == 0
    orphans = (await client.get("/api/library/tags/orphans", headers=owner.headers)).json()
    assert [t["id"] for t in orphans["items"]] == [tag_id]
    detail = (await client.get(album_url(album["id"]), headers=viewer.headers)).json()
    assert detail["asset_count"] == 1
    async with runtime.db.sessionmaker() as session:
        links = (await session.scalars(select(AlbumAsset.asset_id))).all()
    assert links == [other.id]
