"""Tags attached to a whole selection in one request: POST /api/library/tags/attach."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from meadhall.library.events import ASSET_CHANGED
from meadhall.library.topics import library_topic
from meadhall.platform.runtime import Runtime
from tests.library.factories import make_album
from tests.library.tags.support import new_asset
from tests.library.tags.test_tags_api import assets_tags, create

URL = "/api/library/tags/attach"


async def tag_names(client: httpx.AsyncClient, user: Any, asset_id: uuid.UUID) -> list[str]:
    body = (await client.get(assets_tags(asset_id), headers=user.headers)).json()
    return [tag["name"] for tag in body["tags"]]


async def test_one_request_tags_every_owned_asset_and_reports_each(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner = await make_user()
    other = await make_user()
    mine = [await new_asset(runtime, owner_id=owner.id) for _ in range(3)]
    theirs_shared = await new_asset(runtime, owner_id=other.id)
    theirs_hidden = await new_asset(runtime, owner_id=other.id)
    await make_album(
        runtime, owner_id=other.id, assets=[theirs_shared], members={owner.id: "contributor"}
    )
    npc = await create(client, owner, "npc")
    already = await client.post(
        assets_tags(mine[0].id), json={"tag_ids": [npc["id"]]}, headers=owner.headers
    )
    assert already.status_code == 200

    start = await runtime.bus.last_event_id()
    ids = [a.id for a in mine] + [theirs_shared.id, theirs_hidden.id, uuid.uuid4(), mine[1].id]
    response = await client.post(
        URL,
        json={"asset_ids": [str(i) for i in ids], "tag_ids": [npc["id"]], "names": ["Tavern"]},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["done"], body["failed"]) == (3, 3)
    outcome = {item["id"]: item for item in body["results"]}
    assert len(body["results"]) == 6  # the repeated id is reported once
    assert all(outcome[str(a.id)]["ok"] for a in mine)
    assert outcome[str(theirs_shared.id)]["error"]["code"] == "not_asset_owner"
    assert outcome[str(theirs_hidden.id)]["error"]["code"] == "asset_not_found"

    for asset in mine:
        assert await tag_names(client, owner, asset.id) == ["npc", "Tavern"]
    assert await tag_names(client, other, theirs_shared.id) == []

    # Every asset gained "Tavern", so each is announced once; nothing of the other user's.
    replay = await runtime.bus.replay(start, {library_topic(owner.id), library_topic(other.id)})
    assert replay.events is not None
    announced = [(e.type, e.data["id"]) for e in replay.events]
    assert sorted(announced) == sorted((ASSET_CHANGED, str(a.id)) for a in mine)

    # Again: nothing new, so no events and no changes.
    start = await runtime.bus.last_event_id()
    again = await client.post(
        URL,
        json={"asset_ids": [str(a.id) for a in mine], "names": ["tavern", "NPC"]},
        headers=owner.headers,
    )
    assert again.json()["done"] == 3
    replay = await runtime.bus.replay(start, {library_topic(owner.id)})
    assert replay.events == []


async def test_bad_requests_change_nothing(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner = await make_user()
    asset = await new_asset(runtime, owner_id=owner.id)
    stranger = await make_user()
    foreign_tag = await create(client, stranger, "secret")

    assert (await client.post(URL, json={"asset_ids": [str(asset.id)]})).status_code == 401
    cases: list[Any] = [
        {"asset_ids": [], "names": ["x"]},
        {"asset_ids": [str(uuid.uuid4())] * 501, "names": ["x"]},
        {"asset_ids": ["not-an-id"], "names": ["x"]},
        {"asset_ids": [str(asset.id)], "names": ["x" * 500]},
        {"asset_ids": [str(asset.id)], "names": [f"t{n}" for n in range(101)]},
        {"asset_ids": [str(asset.id)], "names": ["x"], "unexpected": True},
        {"asset_ids": str(asset.id), "names": ["x"]},
        ["not", "an", "object"],
    ]
    for body in cases:
        response = await client.post(URL, json=body, headers=owner.headers)
        assert response.status_code == 422, (body, response.text)
    garbage = await client.post(
        URL, content=b"{not json", headers={**owner.headers, "Content-Type": "application/json"}
    )
    assert garbage.status_code == 422

    # A tag id of someone else's is unknown here: 404 listing it, and no tag was created.
    foreign = await client.post(
        URL,
        json={"asset_ids": [str(asset.id)], "tag_ids": [foreign_tag["id"]], "names": ["new"]},
        headers=owner.headers,
    )
    assert foreign.status_code == 404
    assert foreign.json()["error"]["details"]["tag_ids"] == [foreign_tag["id"]]
    assert await tag_names(client, owner, asset.id) == []
    listed = await client.get("/api/library/tags", headers=owner.headers)
    assert listed.json()["items"] == []
