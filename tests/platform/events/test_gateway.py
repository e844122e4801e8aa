"""The gateway through a real server process and a real WebSocket client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.platform.events.conftest import (
    Gateway,
    GatewayUser,
    insert_user,
    short_lived_token,
    ws_url,
)

pytestmark = pytest.mark.slow

Connect = Callable[..., Awaitable[Gateway]]


@pytest.fixture
def user(gateway_database: str) -> GatewayUser:
    return insert_user(gateway_database)


@pytest.fixture
def admin(gateway_database: str) -> GatewayUser:
    return insert_user(gateway_database, is_admin=True)


async def rename(server: ServerProcess, user: GatewayUser, name: str) -> None:
    """Raise "user.updated" on "user:<id>" the way the product does: PATCH /api/me."""
    async with httpx.AsyncClient(base_url=server.url, headers=user.headers) as http:
        response = await http.patch("/api/me", json={"display_name": name})
    assert response.status_code == 200, response.text


async def announce(server: ServerProcess, admin: GatewayUser, message: str) -> str:
    async with httpx.AsyncClient(base_url=server.url, headers=admin.headers) as http:
        response = await http.post("/api/events/announcements", json={"message": message})
    assert response.status_code == 202, response.text
    event_id: str = response.json()["event_id"]
    return event_id


# Authentication ------------------------------------------------------------------------------


async def test_token_in_query(gateway_server: ServerProcess, user: GatewayUser, connect: Connect):
    gateway = await connect(ws_url(gateway_server, user.token))
    assert gateway.ready["user_id"] == str(user.id)
    assert gateway.ready["last_event_id"]
    assert gateway.ready["expires_at"]
    await gateway.send({"type": "ping"})
    assert (await gateway.expect("pong"))["type"] == "pong"
    # The server logs the socket's URL, but not the token in it.
    assert "/api/events?token=[redacted]" in gateway_server.output()
    assert user.token not in gateway_server.output()


async def test_token_in_first_message(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server), expect_ready=False)
    await gateway.send({"type": "auth", "token": user.token})
    ready = await gateway.expect("ready")
    assert ready["user_id"] == str(user.id)


async def test_cookie_from_own_origin(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    gateway = await connect(
        ws_url(gateway_server),
        origin=gateway_server.url,
        additional_headers={"Cookie": f"meadhall_access={user.token}"},
    )
    assert gateway.ready["user_id"] == str(user.id)


@pytest.mark.parametrize("origin", ["http://evil.example", None])
async def test_cookie_from_other_origin_is_refused(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect, origin: str | None
):
    gateway = await connect(
        ws_url(gateway_server),
        expect_ready=False,
        origin=origin,
        additional_headers={"Cookie": f"meadhall_access={user.token}"},
    )
    error = await gateway.expect("error")
    assert "origin" in error["message"] or "own pages" in error["message"]
    assert await gateway.close_code() == 4403


@pytest.mark.parametrize(
    "first_message",
    [
        {"type": "auth", "token": "not-a-token"},
        {"type": "auth", "token": "mhk_not-a-key"},
        {"type": "subscribe", "topics": ["announcements"]},
        "not json at all",
    ],
)
async def test_bad_first_message_closes_4401(
    gateway_server: ServerProcess, connect: Connect, first_message: Any
):
    gateway = await connect(ws_url(gateway_server), expect_ready=False)
    await gateway.send(first_message)
    assert (await gateway.expect("error"))["message"]
    assert await gateway.close_code() == 4401


async def test_bad_token_in_query_closes_4401(gateway_server: ServerProcess, connect: Connect):
    gateway = await connect(ws_url(gateway_server, "garbage"), expect_ready=False)
    error = await gateway.expect("error")
    assert "invalid or expired" in error["message"]
    assert await gateway.close_code() == 4401


async def test_inactive_user_is_refused(
    gateway_server: ServerProcess, gateway_database: str, connect: Connect
):
    import psycopg

    user = insert_user(gateway_database)
    with psycopg.connect(gateway_database, autocommit=True) as conn:
        conn.execute("UPDATE users SET is_active = false WHERE id = %s", (user.id,))
    gateway = await connect(ws_url(gateway_server, user.token), expect_ready=False)
    await gateway.expect("error")
    assert await gateway.close_code() == 4401


async def test_expired_token_gets_reauth_then_close(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, short_lived_token(user.id, seconds=3)))
    reauth = await gateway.expect("reauth", wait=5)
    assert reauth["expires_at"]
    assert await gateway.close_code(wait=5) == 4401


async def test_fresh_token_keeps_the_socket_open(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, short_lived_token(user.id, seconds=3)))
    await gateway.subscribe([f"user:{user.id}"])
    await gateway.expect("reauth", wait=5)
    await gateway.send({"type": "auth", "token": user.token})
    assert (await gateway.expect("authenticated"))["user_id"] == str(user.id)
    await asyncio.sleep(2.5)
    await rename(gateway_server, user, "still here")
    event = await gateway.expect("event")
    assert event["data"]["display_name"] == "still here"


async def test_token_of_another_user_is_not_swapped_in(
    gateway_server: ServerProcess, user: GatewayUser, admin: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    await gateway.send({"type": "auth", "token": admin.token})
    assert "another user" in (await gateway.expect("error"))["message"]


# Topics ------------------------------------------------------------------------------------


async def test_topics_a_user_may_not_see_are_refused(
    gateway_server: ServerProcess, user: GatewayUser, admin: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    other = admin.id
    asked: list[Any] = [
        f"user:{str(user.id).upper()}",
        f"user:{other}",
        f"jobs:{user.id}",
        f"jobs:{other}",
        "jobs",
        "admin",
        "announcements",
        "nonsense",
        "user:not-a-uuid",
        "user",
        "admin:1",
        "Has Spaces!",
        42,
        "x" * 300,
    ]
    reply = await gateway.subscribe(asked)
    assert reply["topics"] == [f"user:{user.id}", f"jobs:{user.id}", "announcements"]
    refused = {json.dumps(r["topic"]): r["reason"] for r in reply["refused"]}
    assert refused[json.dumps(f"user:{other}")] == "you may only subscribe to your own user topic"
    assert "owner or an admin" in refused[json.dumps(f"jobs:{other}")]
    assert "admin" in refused['"jobs"'] and "admin" in refused['"admin"']
    assert "unknown topic" in refused['"nonsense"']
    assert "malformed argument" in refused['"user:not-a-uuid"']
    assert "needs an argument" in refused['"user"']
    assert "takes no argument" in refused['"admin:1"']
    assert "malformed topic" in refused['"Has Spaces!"']
    assert "string" in refused["42"]
    assert "at most" in refused[json.dumps("x" * 300)]
    assert len(reply["refused"]) == len(asked) - 3


async def test_admin_may_follow_all_jobs_and_admin(
    gateway_server: ServerProcess, user: GatewayUser, admin: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, admin.token))
    reply = await gateway.subscribe(["jobs", "admin", f"jobs:{user.id}", f"user:{user.id}"])
    assert reply["topics"] == ["jobs", "admin", f"jobs:{user.id}"]
    assert [r["topic"] for r in reply["refused"]] == [f"user:{user.id}"]


# Delivery ----------------------------------------------------------------------------------


async def test_events_arrive_in_order_with_increasing_ids(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    await gateway.subscribe([f"user:{user.id}"])
    for n in range(5):
        await rename(gateway_server, user, f"name {n}")
    events = await gateway.events(5)
    assert [e["data"]["display_name"] for e in events] == [f"name {n}" for n in range(5)]
    assert {e["event"] for e in events} == {"user.updated"}
    assert {e["topic"] for e in events} == {f"user:{user.id}"}
    ids = [tuple(int(p) for p in e["id"].split("-")) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert all(e["at"].endswith("+00:00") for e in events)


async def test_other_users_events_do_not_leak(
    gateway_server: ServerProcess, user: GatewayUser, admin: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    await gateway.subscribe([f"user:{user.id}"])
    await rename(gateway_server, admin, "the admin")
    assert await gateway.quiet(0.5) == []


async def test_every_connection_of_a_user_gets_every_event(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    phone = await connect(ws_url(gateway_server, user.token))
    laptop = await connect(ws_url(gateway_server, user.token))
    await phone.subscribe([f"user:{user.id}"])
    await laptop.subscribe([f"user:{user.id}"])
    await rename(gateway_server, user, "one")
    await rename(gateway_server, user, "two")
    on_phone = await phone.events(2)
    on_laptop = await laptop.events(2)
    assert [e["id"] for e in on_phone] == [e["id"] for e in on_laptop]
    assert [e["data"]["display_name"] for e in on_laptop] == ["one", "two"]
    # One of them leaving does not disturb the other.
    await phone.connection.close()
    await rename(gateway_server, user, "three")
    assert (await laptop.expect("event"))["data"]["display_name"] == "three"


async def test_unsubscribe_stops_events(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    await gateway.subscribe([f"user:{user.id}"])
    await gateway.send({"type": "unsubscribe", "topics": [f"user:{user.id}", "never"]})
    assert (await gateway.expect("unsubscribed"))["topics"] == [f"user:{user.id}"]
    await rename(gateway_server, user, "unheard")
    assert await gateway.quiet(0.5) == []


async def test_reconnect_with_last_event_id_gets_exactly_what_was_missed(
    gateway_server: ServerProcess, user: GatewayUser, admin: GatewayUser, connect: Connect
):
    first = await connect(ws_url(gateway_server, user.token))
    await first.subscribe([f"user:{user.id}", "announcements"])
    await rename(gateway_server, user, "before")
    last_seen = (await first.expect("event"))["id"]
    await first.connection.close()

    await rename(gateway_server, user, "missed 1")
    await rename(gateway_server, admin, "not for this user")
    await announce(gateway_server, admin, "missed 2")
    await rename(gateway_server, user, "missed 3")

    second = await connect(ws_url(gateway_server, user.token))
    await second.subscribe([f"user:{user.id}", "announcements"], last_event_id=last_seen)
    replayed = await second.events(3)
    assert [e["data"].get("display_name") or e["data"]["message"] for e in replayed] == [
        "missed 1",
        "missed 2",
        "missed 3",
    ]
    assert await second.quiet(0.3) == []
    await rename(gateway_server, user, "live")
    live = await second.expect("event")
    assert live["data"]["display_name"] == "live"
    assert live["id"] not in {e["id"] for e in replayed}


async def test_ready_position_covers_events_before_the_first_subscribe(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    await rename(gateway_server, user, "between ready and subscribe")
    await gateway.subscribe([f"user:{user.id}"], last_event_id=gateway.ready["last_event_id"])
    event = await gateway.expect("event")
    assert event["data"]["display_name"] == "between ready and subscribe"


async def test_replay_and_live_events_have_no_gap_and_no_duplicate(
    gateway_server: ServerProcess, user: GatewayUser, admin: GatewayUser, connect: Connect
):
    watcher = await connect(ws_url(gateway_server, user.token))
    start = watcher.ready["last_event_id"]
    published: list[str] = []

    async def publish_many() -> None:
        for n in range(8):
            published.append(await announce(gateway_server, admin, f"n{n}"))

    # Subscribe while announcements are being published: some land in the replay, some
    # arrive live, a few are in both places on the server.
    publisher = asyncio.create_task(publish_many())
    await asyncio.sleep(0.05)
    await watcher.subscribe(["announcements"], last_event_id=start)
    await publisher
    received = await watcher.events(8)
    assert [e["id"] for e in received] == published
    assert await watcher.quiet(0.3) == []


async def test_too_old_or_unknown_last_event_id_asks_for_resync(
    gateway_server: ServerProcess, user: GatewayUser, admin: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    old = gateway.ready["last_event_id"]
    # The server keeps 10 events.
    for n in range(12):
        await announce(gateway_server, admin, f"flood {n}")
    await gateway.subscribe(["announcements"], last_event_id=old)
    resync = await gateway.expect("resync")
    assert resync["topics"] == ["announcements"]
    assert "older" in resync["reason"]
    # Still subscribed: live events continue after the resync.
    await announce(gateway_server, admin, "after resync")
    assert (await gateway.expect("event"))["data"]["message"] == "after resync"

    other = await connect(ws_url(gateway_server, user.token))
    await other.subscribe([f"user:{user.id}"], last_event_id="99999999999999-0")
    assert (await other.expect("resync"))["topics"] == [f"user:{user.id}"]


# Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({"no": "type"}, "JSON object"),
        ({"type": "dance"}, "unknown message type"),
        ({"type": "subscribe"}, "non-empty list"),
        ({"type": "subscribe", "topics": "user:x"}, "non-empty list"),
        ({"type": "subscribe", "topics": ["announcements"] * 101}, "at most 100"),
        ({"type": "subscribe", "topics": ["announcements"], "last_event_id": 5}, "event id"),
        ({"type": "subscribe", "topics": ["announcements"], "last_event_id": "abc"}, "event id"),
        ({"type": "unsubscribe", "topics": []}, "non-empty list"),
        ({"type": "auth", "token": ""}, "non-empty string"),
        ({"type": "ping", "pad": "x" * (65 * 1024)}, "too large"),
    ],
)
async def test_malformed_messages_get_an_error(
    gateway_server: ServerProcess,
    user: GatewayUser,
    connect: Connect,
    message: Any,
    expected: str,
):
    gateway = await connect(ws_url(gateway_server, user.token))
    await gateway.send(message)
    assert expected in (await gateway.expect("error"))["message"]
    # The connection survives one bad message.
    await gateway.send({"type": "ping"})
    await gateway.expect("pong")


async def test_binary_frames_are_read_as_json(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    await gateway.connection.send(b'{"type": "ping"}')
    await gateway.expect("pong")


async def test_too_many_bad_messages_close_the_socket(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    for _ in range(10):
        await gateway.send("nope")
    assert await gateway.close_code() == 1008


async def test_server_sends_heartbeats(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    assert gateway.ready["heartbeat_seconds"] == 1
    assert (await gateway.expect("ping", wait=3))["type"] == "ping"


async def test_open_connections_are_counted(
    gateway_server: ServerProcess, user: GatewayUser, connect: Connect
):
    async def gauge() -> float:
        async with httpx.AsyncClient(base_url=gateway_server.url) as http:
            text = (await http.get("/metrics")).text
        line = next(x for x in text.splitlines() if x.startswith("meadhall_websocket_connections"))
        return float(line.split()[-1])

    before = await gauge()
    gateway = await connect(ws_url(gateway_server, user.token))
    assert await gauge() == before + 1
    await gateway.connection.close()
    for _ in range(50):
        if await gauge() == before:
            break
        await asyncio.sleep(0.05)
    assert await gauge() == before


# Announcements endpoint --------------------------------------------------------------------


async def test_announcement_reaches_everyone_subscribed(
    gateway_server: ServerProcess, user: GatewayUser, admin: GatewayUser, connect: Connect
):
    gateway = await connect(ws_url(gateway_server, user.token))
    await gateway.subscribe(["announcements"])
    event_id = await announce(gateway_server, admin, "  the server restarts at ten  ")
    event = await gateway.expect("event")
    assert event["id"] == event_id
    assert event["event"] == "announcement"
    assert event["data"]["message"] == "the server restarts at ten"
    assert event["data"]["author"]["id"] == str(admin.id)


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("nobody", {"message": "hi"}, 401),
        ("user", {"message": "hi"}, 403),
        ("admin", {"message": ""}, 422),
        ("admin", {"message": "x" * 2001}, 422),
        ("admin", {"message": "hi", "level": "panic"}, 422),
        ("admin", {"message": "hi", "topic": "user:x"}, 422),
        ("admin", {"message": "   "}, 400),
    ],
)
async def test_announcement_rejects_bad_requests(
    gateway_server: ServerProcess,
    user: GatewayUser,
    admin: GatewayUser,
    who: str,
    body: dict[str, Any],
    status: int,
):
    headers = {"user": user.headers, "admin": admin.headers}.get(who, {})
    async with httpx.AsyncClient(base_url=gateway_server.url, headers=headers) as http:
        response = await http.post("/api/events/announcements", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
