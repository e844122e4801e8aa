"""Listing assets: filters, sorting, keyset paging, and who sees what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from meadhall.platform.runtime import Runtime
from tests.library.assets.support import make_asset
from tests.library.factories import make_album, make_tag

BASE = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)


async def _list(client: httpx.AsyncClient, user: Any, **params: Any) -> list[str]:
    response = await client.get("/api/library/assets", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_filters(client: httpx.AsyncClient, runtime: Runtime, make_user: Any) -> None:
    user = await make_user()
    a = await make_asset(
        runtime,
        owner_id=user.id,
        filename="castle.jpg",
        when=BASE,
        type="map",
        camera_make="Canon",
        camera_model="EOS R5",
        country="France",
        country_code="FR",
        city="Paris",
        description="A ruined CASTLE on a hill",
    )
    b = await make_asset(
        runtime,
        owner_id=user.id,
        filename="dragon.jpg",
        when=BASE + timedelta(days=40),
        type="character",
        is_favourite=True,
        media="animation",
    )
    c = await make_asset(
        runtime, owner_id=user.id, filename="old_map.jpg", when=BASE - timedelta(days=400)
    )
    archived = await make_asset(runtime, owner_id=user.id, filename="hidden.jpg", is_archived=True)
    await make_asset(runtime, owner_id=user.id, filename="binned.jpg", trashed_at=datetime.now(UTC))
    red = await make_tag(runtime, owner_id=user.id, name="red", assets=[a, b])
    big = await make_tag(runtime, owner_id=user.id, name="big", assets=[a])
    album = await make_album(runtime, owner_id=user.id, assets=[b, c])

    assert await _list(client, user) == ["dragon", "castle", "old_map"]
    assert await _list(client, user, type="map") == ["castle"]
    assert await _list(client, user, type=["map", "character"]) == ["dragon", "castle"]
    assert await _list(client, user, media="animation") == ["dragon"]
    assert await _list(client, user, tag=str(red)) == ["dragon", "castle"]
    assert await _list(client, user, tag=[str(red), str(big)]) == ["castle"]
    assert await _list(client, user, album=str(album)) == ["dragon", "old_map"]
    assert await _list(client, user, **{"from": "2024-05-10", "to": "2024-05-10"}) == ["castle"]
    assert await _list(client, user, **{"from": "2024-01-01"}) == ["dragon", "castle"]
    assert await _list(client, user, to="2024-06-18") == ["castle", "old_map"]
    assert await _list(client, user, to="2024-06-19") == ["dragon", "castle", "old_map"]
    assert await _list(client, user, camera_make="canon", camera_model="eos r5") == ["castle"]
    assert await _list(client, user, country="fr") == ["castle"]
    assert await _list(client, user, country="France", city="PARIS") == ["castle"]
    assert await _list(client, user, favourite="true") == ["dragon"]
    assert await _list(client, user, favourite="false") == ["castle", "old_map"]
    assert await _list(client, user, q="castle") == ["castle"]
    assert await _list(client, user, q="MAP") == ["old_map"]
    assert await _list(client, user, q="ruined c") == ["castle"]
    # LIKE wildcards are literal text.
    assert await _list(client, user, q="%") == []
    assert await _list(client, user, q="_") == ["old_map"]
    assert await _list(client, user, archived="true") == [archived.name]
    assert sorted(await _list(client, user, archived="any")) == sorted(
        ["dragon", "castle", "old_map", archived.name]
    )
    assert await _list(client, user, archived="any", trashed="true") == ["binned"]
    assert await _list(client, user, trashed="true") == ["binned"]


async def test_sorts_and_cursor_paging(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    names = []
    for i in range(7):
        asset = await make_asset(
            runtime,
            owner_id=user.id,
            filename=f"n{(i * 3) % 7}.jpg",
            when=BASE + timedelta(hours=i),
            size_bytes=1000 + (i * 5) % 7,
        )
        names.append(asset.name)
    # Two assets with the same capture instant: the id breaks the tie, stably.
    await make_asset(runtime, owner_id=user.id, filename="twin.jpg", when=BASE)

    async def walk(**params: Any) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
            response = await client.get("/api/library/assets", params=query, headers=user.headers)
            assert response.status_code == 200, response.text
            body = response.json()
            assert len(body["items"]) <= 2
            seen += [item["name"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                return seen

    everything = await _list(client, user, limit=500)
    assert await walk() == everything
    assert everything[:6] == ["n4", "n1", "n5", "n2", "n6", "n3"]
    assert await walk(order="asc") == list(reversed(everything))
    assert await walk(sort="name") == sorted(everything, reverse=True)
    assert await walk(sort="name", order="asc") == sorted(everything)
    by_size = await walk(sort="size", order="asc")
    response = await client.get(
        "/api/library/assets", params={"sort": "size", "order": "asc"}, headers=user.headers
    )
    sizes = [item["size_bytes"] for item in response.json()["items"]]
    assert sizes == sorted(sizes)
    assert len(by_size) == 8
    assert await walk(sort="created") == await _list(client, user, sort="created")


async def test_cursor_is_stable_under_inserts(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    for i in range(4):
        await make_asset(runtime, owner_id=user.id, filename=f"a{i}.jpg", when=BASE - timedelta(i))
    first = await client.get("/api/library/assets", params={"limit": 2}, headers=user.headers)
    assert [i["name"] for i in first.json()["items"]] == ["a0", "a1"]
    # Newer and older assets arrive between two pages: nothing repeats, nothing is skipped.
    await make_asset(runtime, owner_id=user.id, filename="new.jpg", when=BASE + timedelta(1))
    await make_asset(runtime, owner_id=user.id, filename="mid.jpg", when=BASE - timedelta(1.5))
    second = await client.get(
        "/api/library/assets",
        params={"limit": 10, "cursor": first.json()["next_cursor"]},
        headers=user.headers,
    )
    assert [i["name"] for i in second.json()["items"]] == ["mid", "a2", "a3"]
    assert second.json()["next_cursor"] is None


async def test_bad_list_parameters(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    tag_id = str(uuid.uuid4())
    for params in [
        {"limit": 0},
        {"limit": 501},
        {"sort": "random"},
        {"order": "sideways"},
        {"type": "spaceship"},
        {"from": "yesterday"},
        {"cursor": "not-a-cursor"},
        {"cursor": "x" * 2000},
        {"q": "q" * 201},
        {"album": "nope"},
        {"favourite": "perhaps"},
        {"archived": "perhaps"},
        {"archived": "ANY "},
    ]:
        response = await client.get("/api/library/assets", params=params, headers=user.headers)
        assert response.status_code == 422, (params, response.text)
        assert "error" in response.json()
    # A cursor of another sort order is refused, not misread.
    other = await client.get(
        "/api/library/assets", params={"album": str(uuid.uuid4())}, headers=user.headers
    )
    assert other.status_code == 404
    response = await client.get("/api/library/assets", params={"tag": tag_id}, headers=user.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "tag_not_found"


async def test_cursor_of_another_sort_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    for i in range(3):
        await make_asset(runtime, owner_id=user.id, filename=f"c{i}.jpg")
    page = await client.get("/api/library/assets", params={"limit": 1}, headers=user.headers)
    cursor = page.json()["next_cursor"]
    response = await client.get(
        "/api/library/assets",
        params={"limit": 1, "cursor": cursor, "sort": "name"},
        headers=user.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"


async def test_privacy_in_lists(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    owner, member, stranger = await make_user(), await make_user(), await make_user()
    shared = await make_asset(runtime, owner_id=owner.id, filename="shared.jpg", when=BASE)
    shared_binned = await make_asset(
        runtime, owner_id=owner.id, filename="binned.jpg", trashed_at=datetime.now(UTC)
    )
    await make_asset(runtime, owner_id=owner.id, filename="private.jpg")
    await make_asset(runtime, owner_id=member.id, filename="mine.jpg", when=BASE - timedelta(1))
    album = await make_album(
        runtime, owner_id=owner.id, assets=[shared, shared_binned], members={member.id: "viewer"}
    )
    owner_tag = await make_tag(runtime, owner_id=owner.id, name="secret", assets=[shared])

    assert await _list(client, member) == ["shared", "mine"]
    assert await _list(client, member, album=str(album)) == ["shared"]
    # The trash is personal: a member never sees the owner's trashed assets.
    assert await _list(client, member, trashed="true") == []
    assert await _list(client, stranger) == []
    response = await client.get(
        "/api/library/assets", params={"album": str(album)}, headers=stranger.headers
    )
    assert response.status_code == 404
    # Someone else's tag is as unknown as a made-up one.
    response = await client.get(
        "/api/library/assets", params={"tag": str(owner_tag)}, headers=member.headers
    )
    assert response.status_code == 404
    # Paging through the union of own and shared assets works like any other list.
    page = await client.get("/api/library/assets", params={"limit": 1}, headers=member.headers)
    rest = await client.get(
        "/api/library/assets",
        params={"limit": 1, "cursor": page.json()["next_cursor"]},
        headers=member.headers,
    )
    assert [i["name"] for i in page.json()["items"] + rest.json()["items"]] == ["shared", "mine"]
