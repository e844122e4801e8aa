"""Random picks: only visible, live assets matching the filters; 404 when none do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from meadhall.platform.runtime import Runtime
from tests.library.assets.support import make_asset
from tests.library.factories import make_album, make_tag

API = "/api/library/assets/random"


async def test_random_respects_filters_and_visibility(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user, owner, stranger = await make_user(), await make_user(), await make_user()
    maps = [await make_asset(runtime, owner_id=user.id, type="map") for _ in range(5)]
    photos = [await make_asset(runtime, owner_id=user.id) for _ in range(5)]
    await make_asset(runtime, owner_id=user.id, type="map", is_archived=True)
    await make_asset(runtime, owner_id=user.id, type="map", trashed_at=datetime.now(UTC))
    shared = await make_asset(runtime, owner_id=owner.id, type="handout")
    hidden = await make_asset(runtime, owner_id=owner.id, type="handout")
    album = await make_album(
        runtime, owner_id=owner.id, assets=[shared], members={user.id: "viewer"}
    )
    tag = await make_tag(runtime, owner_id=user.id, name="dungeon", assets=maps[:2] + photos[:1])
    live = {a.id for a in maps + photos} | {shared.id}

    seen: set[uuid.UUID] = set()
    for _ in range(40):
        response = await client.get(API, headers=user.headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert len(items) == 1
        seen.add(uuid.UUID(items[0]["id"]))
    assert seen <= live
    assert len(seen) > 3

    many = await client.get(API, params={"count": 50}, headers=user.headers)
    ids = [uuid.UUID(item["id"]) for item in many.json()["items"]]
    assert len(ids) == len(set(ids)) == len(live)
    assert set(ids) == live
    assert hidden.id not in ids

    response = await client.get(API, params={"type": "map", "count": 10}, headers=user.headers)
    assert {uuid.UUID(i["id"]) for i in response.json()["items"]} == {a.id for a in maps}
    response = await client.get(
        API, params={"type": ["map", "handout"], "count": 50}, headers=user.headers
    )
    assert len(response.json()["items"]) == 6
    response = await client.get(API, params={"tag": str(tag), "count": 5}, headers=user.headers)
    assert {uuid.UUID(i["id"]) for i in response.json()["items"]} == {
        maps[0].id,
        maps[1].id,
        photos[0].id,
    }
    response = await client.get(
        API, params={"tag": str(tag), "type": "map", "count": 5}, headers=user.headers
    )
    assert len(response.json()["items"]) == 2
    response = await client.get(API, params={"album": str(album), "count": 5}, headers=user.headers)
    assert [i["id"] for i in response.json()["items"]] == [str(shared.id)]

    none = await client.get(API, params={"type": "backdrop"}, headers=user.headers)
    assert none.status_code == 404
    assert none.json()["error"]["code"] == "no_matching_asset"
    assert (await client.get(API, headers=stranger.headers)).status_code == 404
    refused = await client.get(API, params={"album": str(album)}, headers=stranger.headers)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "album_not_found"
    for params in ({"count": 0}, {"count": 51}, {"type": "x"}, {"tag": "x"}):
        response = await client.get(API, params=params, headers=user.headers)
        assert response.status_code == 422, params
