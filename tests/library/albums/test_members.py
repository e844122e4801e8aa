"""Sharing an album: adding members with roles, changing roles, removing, leaving — and
finding people to share with."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import update

from meadhall.platform.accounts.models import User
from meadhall.platform.runtime import Runtime
from tests.library.albums.support import ALBUMS, album_url, create_album, share

PEOPLE = "/api/library/people"


def member_url(album_id: str, user_id: uuid.UUID | str) -> str:
    return album_url(album_id, "members", str(user_id))


async def test_share_change_role_and_list(client: httpx.AsyncClient, make_user: Any) -> None:
    owner = await make_user(email="olga@example.com")
    bob = await make_user(email="bob@example.com")
    ann = await make_user(email="ann@example.com")
    album = await create_album(client, owner)

    added = await share(client, owner, album["id"], bob, "viewer")
    assert added["user"] == {"id": str(bob.id), "display_name": "bob"}
    assert added["role"] == "viewer"
    await share(client, owner, album["id"], ann, "contributor")
    changed = await share(client, owner, album["id"], bob, "contributor")
    assert changed["role"] == "contributor"

    members = (await client.get(album_url(album["id"], "members"), headers=bob.headers)).json()
    assert [(m["user"]["display_name"], m["role"]) for m in members] == [
        ("olga", "owner"),
        ("ann", "contributor"),
        ("bob", "contributor"),
    ]
    shared = (await client.get(ALBUMS, params={"role": "shared"}, headers=bob.headers)).json()
    assert [(a["id"], a["role"]) for a in shared["items"]] == [(album["id"], "contributor")]


async def test_member_refusals(client: httpx.AsyncClient, make_user: Any, runtime: Runtime) -> None:
    owner, member, gone = await make_user(), await make_user(), await make_user()
    album = await create_album(client, owner)
    await share(client, owner, album["id"], member, "contributor")
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == gone.id).values(is_active=False))

    cases: list[tuple[Any, uuid.UUID | str, Any, int, str]] = [
        (owner, owner.id, {"role": "viewer"}, 422, "album_owner_not_member"),
        (owner, gone.id, {"role": "viewer"}, 404, "user_not_found"),
        (owner, uuid.uuid4(), {"role": "viewer"}, 404, "user_not_found"),
        (owner, member.id, {"role": "owner"}, 422, "validation_error"),
        (owner, member.id, {"role": "admin"}, 422, "validation_error"),
        (owner, member.id, {}, 422, "validation_error"),
        (owner, "not-a-uuid", {"role": "viewer"}, 422, "validation_error"),
        # A contributor cannot share further.
        (member, gone.id, {"role": "viewer"}, 403, "album_role_required"),
    ]
    for caller, target, body, status, code in cases:
        response = await client.put(
            member_url(album["id"], target), json=body, headers=caller.headers
        )
        assert response.status_code == status, (target, body, response.text)
        assert response.json()["error"]["code"] == code
    members = (await client.get(album_url(album["id"], "members"), headers=owner.headers)).json()
    assert [m["user"]["id"] for m in members] == [str(owner.id), str(member.id)]
    assert members[1]["role"] == "contributor"


async def test_remove_and_leave(client: httpx.AsyncClient, make_user: Any) -> None:
    owner, one, two, three = [await make_user() for _ in range(4)]
    album = await create_album(client, owner)
    for user in (one, two, three):
        await share(client, owner, album["id"], user, "contributor")

    # A member cannot remove someone else, nor the owner.
    other = await client.delete(member_url(album["id"], two.id), headers=one.headers)
    assert other.status_code == 403
    not_owner = await client.delete(member_url(album["id"], owner.id), headers=one.headers)
    assert not_owner.status_code == 403

    # A member leaves.
    assert (
        await client.delete(member_url(album["id"], one.id), headers=one.headers)
    ).status_code == 204
    assert (await client.get(album_url(album["id"]), headers=one.headers)).status_code == 404
    again = await client.delete(member_url(album["id"], one.id), headers=one.headers)
    assert again.status_code == 404

    # The owner removes someone; removing a non-member or the owner is refused.
    assert (
        await client.delete(member_url(album["id"], two.id), headers=owner.headers)
    ).status_code == 204
    assert (await client.get(album_url(album["id"]), headers=two.headers)).status_code == 404
    absent = await client.delete(member_url(album["id"], two.id), headers=owner.headers)
    assert absent.status_code == 404
    assert absent.json()["error"]["code"] == "album_member_not_found"
    itself = await client.delete(member_url(album["id"], owner.id), headers=owner.headers)
    assert itself.status_code == 422

    members = (await client.get(album_url(album["id"], "members"), headers=three.headers)).json()
    assert [m["user"]["id"] for m in members] == [str(owner.id), str(three.id)]


async def test_find_people(client: httpx.AsyncClient, make_user: Any, runtime: Runtime) -> None:
    me = await make_user(email="gandalf@example.com")
    await make_user(email="galadriel@lorien.example")
    await make_user(email="gimli@example.com")
    frodo = await make_user(email="frodo@shire.example")
    ghost = await make_user(email="gamling@example.com")
    async with runtime.db.transaction() as session:
        await session.execute(
            update(User).where(User.id == frodo.id).values(display_name="Mr Underhill")
        )
        await session.execute(update(User).where(User.id == ghost.id).values(is_active=False))

    found = (await client.get(PEOPLE, params={"q": "GA"}, headers=me.headers)).json()
    # Active users only, never the caller, id and display name only.
    assert found["items"] == [{"id": found["items"][0]["id"], "display_name": "galadriel"}]
    # E-mail addresses match only whole, so nobody can spell them out letter by letter.
    by_email = (
        await client.get(PEOPLE, params={"q": "Frodo@Shire.example"}, headers=me.headers)
    ).json()
    assert by_email["items"] == [{"id": str(frodo.id), "display_name": "Mr Underhill"}]
    partial = (await client.get(PEOPLE, params={"q": "frodo@"}, headers=me.headers)).json()
    assert partial["items"] == []
    by_name = (await client.get(PEOPLE, params={"q": "mr u"}, headers=me.headers)).json()
    assert [p["id"] for p in by_name["items"]] == [str(frodo.id)]
    # LIKE wildcards are literal characters.
    assert (await client.get(PEOPLE, params={"q": "g%"}, headers=me.headers)).json()["items"] == []
    assert (await client.get(PEOPLE, params={"q": "__"}, headers=me.headers)).json()["items"] == []

    for bad in [{}, {"q": "g"}, {"q": "   "}, {"q": " g "}, {"q": "x" * 101}, {"q": "a\x00"}]:
        response = await client.get(PEOPLE, params=bad, headers=me.headers)
        assert response.status_code == 422, bad


async def test_people_results_are_capped(client: httpx.AsyncClient, make_user: Any) -> None:
    me = await make_user()
    for i in range(25):
        await make_user(email=f"player{i:02d}@example.com")
    found = (await client.get(PEOPLE, params={"q": "player"}, headers=me.headers)).json()
    assert len(found["items"]) == 20
    assert found["items"][0]["display_name"] == "player00"
