"""An asset's tags, changed with ids (and names) in a JSON body — also on DELETE."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import delete

from meadhall.library.events import ASSET_CHANGED
from meadhall.library.models import Album, AlbumAsset, AlbumMember, Asset
from meadhall.library.topics import library_topic
from meadhall.platform.runtime import Runtime
from tests.library.tags.support import new_asset
from tests.library.tags.test_tags_api import TAGS, assets_tags, create


def names(body: dict[str, Any]) -> list[str]:
    return [t["name"] for t in body["tags"]]


async def test_attach_detach_replace_with_json_bodies(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    asset = await new_asset(runtime, owner_id=user.id)
    red = await create(client, user, "red")
    blue = await create(client, user, "blue")
    green = await create(client, user, "green")
    url = assets_tags(asset.id)

    attached = await client.post(
        url, json={"tag_ids": [red["id"], blue["id"]]}, headers=user.headers
    )
    assert attached.status_code == 200, attached.text
    assert attached.json()["asset_id"] == str(asset.id)
    assert names(attached.json()) == ["blue", "red"]
    # Attaching again (and a repeated id) is fine and changes nothing.
    again = await client.post(url, json={"tag_ids": [red["id"], red["id"]]}, headers=user.headers)
    assert names(again.json()) == ["blue", "red"]

    # DELETE with a JSON body.
    detached = await client.request(
        "DELETE", url, json={"tag_ids": [blue["id"], green["id"]]}, headers=user.headers
    )
    assert detached.status_code == 200, detached.text
    assert names(detached.json()) == ["red"]

    replaced = await client.put(
        url, json={"tag_ids": [green["id"], blue["id"]]}, headers=user.headers
    )
    assert names(replaced.json()) == ["blue", "green"]
    assert names((await client.get(url, headers=user.headers)).json()) == ["blue", "green"]
    cleared = await client.put(url, json={}, headers=user.headers)
    assert cleared.json()["tags"] == []


async def test_names_create_missing_tags_and_match_existing_ones(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    asset = await new_asset(runtime, owner_id=user.id)
    female = await create(client, user, "Female")
    url = assets_tags(asset.id)

    response = await client.post(
        url,
        json={"tag_ids": [], "names": ["female", " portrait ", "PORTRAIT", "dwarf"]},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    tags = response.json()["tags"]
    assert [t["name"] for t in tags] == ["dwarf", "Female", "portrait"]
    assert next(t for t in tags if t["name"] == "Female")["id"] == female["id"]
    all_tags = (await client.get(TAGS, headers=user.headers)).json()
    assert all_tags["total"] == 3

    # Detach by name: matches regardless of case; unknown names are ignored, never created.
    detached = await client.request(
        "DELETE", url, json={"names": ["DWARF", "elf"]}, headers=user.headers
    )
    assert names(detached.json()) == ["Female", "portrait"]
    assert (await client.get(TAGS, headers=user.headers)).json()["total"] == 3

    # Replace mixes ids and names.
    dwarf = next(t for t in tags if t["name"] == "dwarf")
    replaced = await client.put(
        url, json={"tag_ids": [dwarf["id"]], "names": ["hero"]}, headers=user.headers
    )
    assert names(replaced.json()) == ["dwarf", "hero"]


async def test_unknown_and_foreign_tag_ids_are_404_listing_them(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user, other = await make_user(), await make_user()
    asset = await new_asset(runtime, owner_id=user.id)
    mine = await create(client, user, "mine")
    theirs = await create(client, other, "theirs")
    unknown = str(uuid.uuid4())
    url = assets_tags(asset.id)

    for method in ("POST", "PUT", "DELETE"):
        response = await client.request(
            method,
            url,
            json={"tag_ids": [mine["id"], theirs["id"], unknown], "names": ["new"]},
            headers=user.headers,
        )
        assert response.status_code == 404, method
        error = response.json()["error"]
        assert error["code"] == "tag_not_found"
        assert error["details"]["tag_ids"] == [theirs["id"], unknown]
    # Nothing happened: no link, and the name was not created either.
    assert (await client.get(url, headers=user.headers)).json()["tags"] == []
    assert (await client.get(TAGS, headers=user.headers)).json()["total"] == 1
    # The other user's tag did not get attached to anything.
    assert (await client.get(f"{TAGS}/{theirs['id']}", headers=other.headers)).json()[
        "asset_count"
    ] == 0


async def test_malformed_and_oversized_bodies(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    asset = await new_asset(runtime, owner_id=user.id)
    url = assets_tags(asset.id)
    bad_bodies: list[Any] = [
        {"tag_ids": "not-a-list"},
        {"tag_ids": ["not-a-uuid"]},
        {"tag_ids": [str(uuid.uuid4()) for _ in range(101)]},
        {"names": [f"n{i}" for i in range(101)]},
        {"tag_ids": [str(uuid.uuid4()) for _ in range(60)], "names": [f"n{i}" for i in range(41)]},
        {"names": [""]},
        {"names": ["bad\x07bell"]},
        {"tag_ids": [], "unknown": True},
        [],
        None,
    ]
    for method in ("POST", "PUT", "DELETE"):
        for body in bad_bodies:
            response = await client.request(method, url, json=body, headers=user.headers)
            assert response.status_code == 422, (method, body, response.text)
            assert response.json()["error"]["code"] == "validation_error"
        broken = await client.request(
            method,
            url,
            content=b"{not json",
            headers={**user.headers, "Content-Type": "application/json"},
        )
        assert broken.status_code == 422
    # A bad asset id in the path.
    response = await client.post(
        "/api/library/assets/not-a-uuid/tags", json={"tag_ids": []}, headers=user.headers
    )
    assert response.status_code == 422
    # Exactly 100 is allowed.
    at_limit = await client.post(
        url, json={"names": [f"tag {i}" for i in range(100)]}, headers=user.headers
    )
    assert at_limit.status_code == 200
    assert len(at_limit.json()["tags"]) == 100


async def test_only_the_owner_tags_an_asset(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, viewer, stranger = await make_user(), await make_user(), await make_user()
    asset = await new_asset(runtime, owner_id=owner.id)
    viewer_tag = await create(client, viewer, "viewer's")
    # The viewer sees the asset through a shared album.
    async with runtime.db.transaction() as session:
        album = Album(owner_id=owner.id, name="shared")
        session.add(album)
        await session.flush()
        session.add(AlbumAsset(album_id=album.id, asset_id=asset.id, added_by_id=owner.id))
        session.add(AlbumMember(album_id=album.id, user_id=viewer.id, role="viewer"))
    url = assets_tags(asset.id)
    body = {"tag_ids": [viewer_tag["id"]]}

    for method in ("GET", "POST", "PUT", "DELETE"):
        seen = await client.request(method, url, json=body, headers=viewer.headers)
        assert seen.status_code == 403, method
        assert seen.json()["error"]["code"] == "not_asset_owner"
        unseen = await client.request(method, url, json=body, headers=stranger.headers)
        assert unseen.status_code == 404, method
        assert unseen.json()["error"]["code"] == "asset_not_found"
    missing = await client.post(assets_tags(uuid.uuid4()), json=body, headers=owner.headers)
    assert missing.status_code == 404


async def test_changes_announce_asset_changed(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    asset = await new_asset(runtime, owner_id=user.id)
    tag = await create(client, user, "news")
    topic = library_topic(user.id)
    url = assets_tags(asset.id)

    start = await runtime.bus.last_event_id()
    await client.post(url, json={"tag_ids": [tag["id"]]}, headers=user.headers)
    replay = await runtime.bus.replay(start, {topic})
    assert replay.events is not None
    assert [(e.type, e.data["id"]) for e in replay.events] == [(ASSET_CHANGED, str(asset.id))]

    # Nothing changed, nothing announced.
    start = await runtime.bus.last_event_id()
    await client.post(url, json={"tag_ids": [tag["id"]]}, headers=user.headers)
    await client.request("DELETE", url, json={"names": ["absent"]}, headers=user.headers)
    replay = await runtime.bus.replay(start, {topic})
    assert replay.events == []

    # A refused change (unknown id) announces nothing either.
    await client.post(url, json={"tag_ids": [str(uuid.uuid4())]}, headers=user.headers)
    replay = await runtime.bus.replay(start, {topic})
    assert replay.events == []


async def test_deleting_an_asset_removes_its_tag_links(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    tag = await create(client, user, "temporary")
    gone = await new_asset(runtime, owner_id=user.id)
    stays = await new_asset(runtime, owner_id=user.id)
    for asset in (gone, stays):
        await client.post(
            assets_tags(asset.id), json={"tag_ids": [tag["id"]]}, headers=user.headers
        )
    assert (await client.get(f"{TAGS}/{tag['id']}", headers=user.headers)).json()[
        "asset_count"
    ] == 2

    async with runtime.db.transaction() as session:
        await session.execute(delete(Asset).where(Asset.id == gone.id))

    assert (await client.get(f"{TAGS}/{tag['id']}", headers=user.headers)).json()[
        "asset_count"
    ] == 1
    assert (await client.get(f"{TAGS}/orphans", headers=user.headers)).json()["total"] == 0
    async with runtime.db.transaction() as session:
        await session.execute(delete(Asset).where(Asset.id == stays.id))
    orphans = (await client.get(f"{TAGS}/orphans", headers=user.headers)).json()
    assert [t["id"] for t in orphans["items"]] == [tag["id"]]
    assert (await client.get(assets_tags(gone.id), headers=user.headers)).status_code == 404


async def test_concurrent_changes_by_name_create_each_tag_once(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    assets = [await new_asset(runtime, owner_id=user.id) for _ in range(4)]
    responses = await asyncio.gather(
        *(
            client.post(
                assets_tags(asset.id), json={"names": ["Tavern", "night"]}, headers=user.headers
            )
            for asset in assets
        )
    )
    assert [r.status_code for r in responses] == [200] * 4
    listed = (await client.get(TAGS, headers=user.headers)).json()
    assert [(t["name"], t["asset_count"]) for t in listed["items"]] == [
        ("night", 4),
        ("Tavern", 4),
    ]
