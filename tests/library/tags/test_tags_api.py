"""``/api/library/tags``: names unique per owner regardless of case, rename, delete, merge,
orphans, search — and nobody sees anyone else's tags."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from meadhall.library.models import AssetTag
from meadhall.platform.runtime import Runtime
from tests.library.tags.support import new_asset

TAGS = "/api/library/tags"


def assets_tags(asset_id: uuid.UUID) -> str:
    return f"/api/library/assets/{asset_id}/tags"


async def create(client: httpx.AsyncClient, user: Any, name: str) -> dict[str, Any]:
    response = await client.post(TAGS, json={"name": name}, headers=user.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def tag_asset(
    client: httpx.AsyncClient, user: Any, asset_id: uuid.UUID, *tag_ids: str
) -> None:
    response = await client.post(
        assets_tags(asset_id), json={"tag_ids": list(tag_ids)}, headers=user.headers
    )
    assert response.status_code == 200, response.text


async def test_create_trims_and_names_are_unique_regardless_of_case(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    user = await make_user()
    tag = await create(client, user, "  Female   Portrait ")
    assert tag["name"] == "Female Portrait"
    assert tag["asset_count"] == 0

    taken = await client.post(TAGS, json={"name": "female portrait"}, headers=user.headers)
    assert taken.status_code == 409
    error = taken.json()["error"]
    assert error["code"] == "tag_name_taken"
    assert error["details"]["tag_id"] == tag["id"]
    assert error["details"]["name"] == "Female Portrait"

    # Another owner may use the same name: tags are per owner.
    other = await make_user()
    assert (await create(client, other, "FEMALE PORTRAIT"))["id"] != tag["id"]


async def test_invalid_names_are_refused(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    for bad in ["", "   ", "a" * 101, "bell\x07", "nul\x00", "rtl\u202eoverride", 42, None]:
        response = await client.post(TAGS, json={"name": bad}, headers=user.headers)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    # Whitespace (tabs, line breaks) collapses to single spaces.
    spaced = await client.post(TAGS, json={"name": "tab\tand\nline"}, headers=user.headers)
    assert spaced.json()["name"] == "tab and line"
    # 100 characters after trimming is fine; unknown fields are not.
    assert (
        await client.post(TAGS, json={"name": f"  {'b' * 100}  "}, headers=user.headers)
    ).status_code == 201
    extra = await client.post(TAGS, json={"name": "x", "colour": "red"}, headers=user.headers)
    assert extra.status_code == 422
    assert (await client.post(TAGS, json={}, headers=user.headers)).status_code == 422
    # Emoji sequences (zero-width joiners) are names people use.
    assert (
        await client.post(TAGS, json={"name": "👩‍👩‍👧 family"}, headers=user.headers)
    ).status_code == 201


async def test_search_by_prefix_and_substring_with_counts(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    names = ["Portrait", "portfolio", "Landscape", "sport_100%", "Night"]
    tags = {name: await create(client, user, name) for name in names}
    asset = await new_asset(runtime, owner_id=user.id)
    await tag_asset(client, user, asset.id, tags["Portrait"]["id"], tags["Landscape"]["id"])

    listed = (await client.get(TAGS, headers=user.headers)).json()
    assert [t["name"] for t in listed["items"]] == [
        "Landscape",
        "Night",
        "portfolio",
        "Portrait",
        "sport_100%",
    ]
    assert listed["total"] == 5
    counts = {t["name"]: t["asset_count"] for t in listed["items"]}
    assert counts == {"Landscape": 1, "Night": 0, "portfolio": 0, "Portrait": 1, "sport_100%": 0}

    prefix = (await client.get(TAGS, params={"prefix": "PORT"}, headers=user.headers)).json()
    assert [t["name"] for t in prefix["items"]] == ["portfolio", "Portrait"]
    # Substring, case-insensitive; LIKE wildcards in the query are plain characters.
    assert [
        t["name"]
        for t in (await client.get(TAGS, params={"q": "ORT"}, headers=user.headers)).json()["items"]
    ] == ["portfolio", "Portrait", "sport_100%"]
    wild = (await client.get(TAGS, params={"q": "_1"}, headers=user.headers)).json()
    assert [t["name"] for t in wild["items"]] == ["sport_100%"]
    assert (await client.get(TAGS, params={"q": "%"}, headers=user.headers)).json()["total"] == 1
    both = await client.get(TAGS, params={"prefix": "p", "q": "trait"}, headers=user.headers)
    assert [t["name"] for t in both.json()["items"]] == ["Portrait"]

    page = (await client.get(TAGS, params={"limit": 2, "offset": 2}, headers=user.headers)).json()
    assert [t["name"] for t in page["items"]] == ["portfolio", "Portrait"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)

    for bad in [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"q": ""}, {"q": "a\x00b"}]:
        response = await client.get(TAGS, params=bad, headers=user.headers)
        assert response.status_code == 422, bad

    # Someone else sees none of it.
    other = await make_user()
    assert (await client.get(TAGS, headers=other.headers)).json()["total"] == 0


async def test_get_and_privacy(client: httpx.AsyncClient, make_user: Any) -> None:
    owner, other = await make_user(), await make_user()
    tag = await create(client, owner, "mine")
    got = await client.get(f"{TAGS}/{tag['id']}", headers=owner.headers)
    assert got.status_code == 200
    assert got.json()["name"] == "mine"
    for method in ("GET", "DELETE"):
        response = await client.request(method, f"{TAGS}/{tag['id']}", headers=other.headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "tag_not_found"
    rename = await client.patch(f"{TAGS}/{tag['id']}", json={"name": "x"}, headers=other.headers)
    assert rename.status_code == 404
    assert (await client.get(f"{TAGS}/{uuid.uuid4()}", headers=owner.headers)).status_code == 404
    assert (await client.get(f"{TAGS}/not-a-uuid", headers=owner.headers)).status_code == 422
    # Still there and unchanged for its owner.
    assert (await client.get(f"{TAGS}/{tag['id']}", headers=owner.headers)).json()["name"] == "mine"


async def test_rename_and_collisions(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    cat = await create(client, user, "cat")
    dog = await create(client, user, "dog")
    renamed = await client.patch(f"{TAGS}/{cat['id']}", json={"name": "Cats"}, headers=user.headers)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Cats"
    # Only the case changes: not a collision with itself.
    same = await client.patch(f"{TAGS}/{cat['id']}", json={"name": "CATS"}, headers=user.headers)
    assert same.json()["name"] == "CATS"

    clash = await client.patch(f"{TAGS}/{dog['id']}", json={"name": "cats"}, headers=user.headers)
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "tag_name_taken"
    assert clash.json()["error"]["details"]["tag_id"] == cat["id"]
    # The failed rename changed nothing, and the session still works afterwards.
    assert (await client.get(f"{TAGS}/{dog['id']}", headers=user.headers)).json()["name"] == "dog"
    bad = await client.patch(f"{TAGS}/{dog['id']}", json={"name": " "}, headers=user.headers)
    assert bad.status_code == 422


async def test_delete_untags_everything(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    keep = await create(client, user, "keep")
    drop = await create(client, user, "drop")
    assets = [await new_asset(runtime, owner_id=user.id) for _ in range(3)]
    for asset in assets:
        await tag_asset(client, user, asset.id, keep["id"], drop["id"])

    response = await client.delete(f"{TAGS}/{drop['id']}", headers=user.headers)
    assert response.status_code == 204
    assert (await client.get(f"{TAGS}/{drop['id']}", headers=user.headers)).status_code == 404
    for asset in assets:
        tags = (await client.get(assets_tags(asset.id), headers=user.headers)).json()["tags"]
        assert [t["name"] for t in tags] == ["keep"]
    async with runtime.db.sessionmaker() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(AssetTag)
            .where(AssetTag.tag_id == uuid.UUID(drop["id"]))
        )
    assert left == 0
    assert (await client.delete(f"{TAGS}/{drop['id']}", headers=user.headers)).status_code == 404


async def test_merge_moves_links_without_duplicates(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    source = await create(client, user, "kitty")
    target = await create(client, user, "cat")
    both, only_source, only_target = [await new_asset(runtime, owner_id=user.id) for _ in range(3)]
    await tag_asset(client, user, both.id, source["id"], target["id"])
    await tag_asset(client, user, only_source.id, source["id"])
    await tag_asset(client, user, only_target.id, target["id"])

    merged = await client.post(
        f"{TAGS}/{source['id']}/merge", json={"into": target["id"]}, headers=user.headers
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == target["id"]
    assert merged.json()["asset_count"] == 3
    assert (await client.get(f"{TAGS}/{source['id']}", headers=user.headers)).status_code == 404
    for asset in (both, only_source, only_target):
        tags = (await client.get(assets_tags(asset.id), headers=user.headers)).json()["tags"]
        assert [t["id"] for t in tags] == [target["id"]]
    async with runtime.db.sessionmaker() as session:
        links = (await session.execute(select(AssetTag.asset_id, AssetTag.tag_id))).all()
    assert len(links) == 3


async def test_merge_refusals(client: httpx.AsyncClient, make_user: Any) -> None:
    user, other = await make_user(), await make_user()
    mine = await create(client, user, "mine")
    also = await create(client, user, "also")
    theirs = await create(client, other, "theirs")

    itself = await client.post(
        f"{TAGS}/{mine['id']}/merge", json={"into": mine["id"]}, headers=user.headers
    )
    assert itself.status_code == 422
    assert itself.json()["error"]["code"] == "tag_merge_into_itself"

    foreign_target = await client.post(
        f"{TAGS}/{mine['id']}/merge", json={"into": theirs["id"]}, headers=user.headers
    )
    assert foreign_target.status_code == 404
    assert foreign_target.json()["error"]["details"]["tag_ids"] == [theirs["id"]]
    foreign_source = await client.post(
        f"{TAGS}/{theirs['id']}/merge", json={"into": mine["id"]}, headers=user.headers
    )
    assert foreign_source.status_code == 404
    for body in [{}, {"into": "nope"}, {"into": mine["id"], "extra": 1}, []]:
        response = await client.post(f"{TAGS}/{also['id']}/merge", json=body, headers=user.headers)
        assert response.status_code == 422, body
    # Nothing was merged away.
    assert (await client.get(TAGS, headers=user.headers)).json()["total"] == 2
    assert (await client.get(TAGS, headers=other.headers)).json()["total"] == 1


async def test_orphans_listed_and_deleted(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user, other = await make_user(), await make_user()
    used = await create(client, user, "used")
    await create(client, user, "lonely")
    await create(client, user, "forgotten")
    await create(client, other, "their orphan")
    asset = await new_asset(runtime, owner_id=user.id)
    await tag_asset(client, user, asset.id, used["id"])

    orphans = (await client.get(f"{TAGS}/orphans", headers=user.headers)).json()
    assert [t["name"] for t in orphans["items"]] == ["forgotten", "lonely"]
    assert all(t["asset_count"] == 0 for t in orphans["items"])

    deleted = await client.delete(f"{TAGS}/orphans", headers=user.headers)
    assert deleted.status_code == 200
    assert deleted.json() == {"deleted": 2}
    assert [t["name"] for t in (await client.get(TAGS, headers=user.headers)).json()["items"]] == [
        "used"
    ]
    # Someone else's orphans are theirs to delete.
    assert (await client.get(f"{TAGS}/orphans", headers=other.headers)).json()["total"] == 1
    assert (await client.delete(f"{TAGS}/orphans", headers=user.headers)).json() == {"deleted": 0}


async def test_tag_routes_need_authentication(client: httpx.AsyncClient) -> None:
    some = uuid.uuid4()
    for method, path in [
        ("POST", TAGS),
        ("GET", TAGS),
        ("GET", f"{TAGS}/orphans"),
        ("DELETE", f"{TAGS}/orphans"),
        ("GET", f"{TAGS}/{some}"),
        ("PATCH", f"{TAGS}/{some}"),
        ("DELETE", f"{TAGS}/{some}"),
        ("POST", f"{TAGS}/{some}/merge"),
        ("GET", assets_tags(some)),
        ("POST", assets_tags(some)),
        ("PUT", assets_tags(some)),
        ("DELETE", assets_tags(some)),
    ]:
        response = await client.request(method, path, json={"name": "x"})
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "not_authenticated"


async def test_concurrent_creates_and_renames_end_in_one_winner(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    user = await make_user()
    spellings = ["Goblin", "goblin", "GOBLIN", "gObLiN", "goblin "]
    responses = await asyncio.gather(
        *(client.post(TAGS, json={"name": name}, headers=user.headers) for name in spellings)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409]
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert all(
        r.json()["error"]["details"]["tag_id"] == winner["id"]
        for r in responses
        if r.status_code == 409
    )

    others = [await create(client, user, f"tag {i}") for i in range(4)]
    renames = await asyncio.gather(
        *(
            client.patch(f"{TAGS}/{tag['id']}", json={"name": "Orc"}, headers=user.headers)
            for tag in others
        )
    )
    assert sorted(r.status_code for r in renames) == [200, 409, 409, 409]
    listed = (await client.get(TAGS, params={"prefix": "orc"}, headers=user.headers)).json()
    assert listed["total"] == 1
