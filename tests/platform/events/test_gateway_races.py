"""Races the real-process tests cannot time on purpose, driven in-process over raw ASGI.

The application is the real one (real database, real bus); the client speaks the ASGI
WebSocket protocol to it directly, so a test can publish at the exact moment it wants.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from meadhall.platform.events.bus import Replay
from meadhall.platform.runtime import Runtime


class AsgiWebSocket:
    """A WebSocket client that talks ASGI to the app, with a bounded inbox when asked."""

    def __init__(self, app: FastAPI, query: str, *, inbox_size: int = 0) -> None:
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=inbox_size)
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": "/api/events",
            "raw_path": b"/api/events",
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": [],
        }
        self.task = asyncio.create_task(app(scope, self._to_app.get, self._from_app.put))

    async def open(self) -> dict[str, Any]:
        await self._to_app.put({"type": "websocket.connect"})
        accepted = await asyncio.wait_for(self._from_app.get(), 5)
        assert accepted["type"] == "websocket.accept", accepted
        return await self.receive()

    async def send(self, message: dict[str, Any]) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive(self) -> dict[str, Any]:
        while True:
            sent = await asyncio.wait_for(self._from_app.get(), 5)
            assert sent["type"] == "websocket.send", sent
            message: dict[str, Any] = json.loads(sent["text"])
            if message["type"] != "ping":
                return message

    async def close(self) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 5)


async def test_events_published_around_the_replay_arrive_once_and_in_order(
    app: FastAPI, runtime: Runtime, make_user: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make_user()
    bus = runtime.bus
    original = bus.replay
    before = await bus.publish("announcements", "announcement", {"message": "before"})

    async def racing_replay(after: str, topics: set[str]) -> Replay:
        # Registered already, past not read yet: this one is both live and in the replay.
        await bus.publish("announcements", "announcement", {"message": "during"})
        replay = await original(after, topics)
        # Past read, watermark not set yet: this one is only live.
        await bus.publish("announcements", "announcement", {"message": "after"})
        return replay

    monkeypatch.setattr(bus, "replay", racing_replay)
    client = AsgiWebSocket(app, f"token={user.token}")
    ready = await client.open()
    assert ready["type"] == "ready"
    last_seen = str(int(before.id.split("-")[1]) - 1)
    await client.send(
        {
            "type": "subscribe",
            "topics": ["announcements"],
            "last_event_id": f"{before.id.split('-')[0]}-{last_seen}",
        }
    )
    assert (await client.receive())["type"] == "subscribed"
    messages = [(await client.receive())["data"]["message"] for _ in range(3)]
    assert messages == ["before", "during", "after"]
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"
    await client.close()


async def test_a_client_that_stops_reading_is_told_to_resync(
    app: FastAPI, runtime: Runtime, make_user: Callable[..., Any]
) -> None:
    user = await make_user()
    # An inbox of one message: the gateway's sends block as soon as the client stops reading.
    client = AsgiWebSocket(app, f"token={user.token}", inbox_size=1)
    await client.open()
    await client.send({"type": "subscribe", "topics": ["announcements"]})
    assert (await client.receive())["type"] == "subscribed"
    for n in range(1500):
        # The publisher is never held up by the stuck client.
        await asyncio.wait_for(runtime.bus.publish("announcements", "announcement", {"n": n}), 0.1)
    seen: list[dict[str, Any]] = []
    while True:
        message = await client.receive()
        seen.append(message)
        if message["type"] == "resync":
            break
    assert "too many events" in seen[-1]["reason"]
    assert len(seen) < 1500
    # After the resync the client is live again.
    event = await runtime.bus.publish("announcements", "announcement", {"n": "live"})
    live = await client.receive()
    assert live["id"] == event.id
    await client.close()
