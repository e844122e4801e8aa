"""Two server processes sharing events through Redis: the multi-process proof."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from tests.conftest import REDIS_URL, ServerProcess
from tests.platform.events.conftest import Gateway, GatewayUser, insert_user, ws_url

pytestmark = pytest.mark.slow

Connect = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"meadhall-test:{secrets.token_hex(6)}:"
    yield prefix
    client = aioredis.Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def pair(
    database_factory: Callable[[], str],
    spawn_server: Callable[..., ServerProcess],
    redis_prefix: str,
    tmp_path: Path,
) -> tuple[ServerProcess, ServerProcess, str]:
    """Servers A and B on one database and one Redis namespace."""
    database = database_factory()
    env = {
        "MEADHALL_REDIS_URL": REDIS_URL,
        "MEADHALL_REDIS_KEY_PREFIX": redis_prefix,
        "MEADHALL_WORKERS_IN_PROCESS": "false",
    }
    a = spawn_server(database, tmp_path / "data", **env)
    b = spawn_server(database, tmp_path / "data", **env)
    return a, b, database


async def rename(server: ServerProcess, user: GatewayUser, name: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=user.headers) as http:
        response = await http.patch("/api/me", json={"display_name": name})
    assert response.status_code == 200, response.text


async def test_event_raised_on_one_process_reaches_a_client_of_the_other(
    pair: tuple[ServerProcess, ServerProcess, str], connect: Connect, redis_prefix: str
):
    a, b, database = pair
    user = insert_user(database)
    for server in (a, b):
        async with httpx.AsyncClient(base_url=server.url) as http:
            health = (await http.get("/health")).json()
        assert health["redis"]["status"] == "ok"

    on_a = await connect(ws_url(a, user.token))
    on_b = await connect(ws_url(b, user.token))
    await on_a.subscribe([f"user:{user.id}"])
    await on_b.subscribe([f"user:{user.id}"])
    await rename(a, user, "raised on A")
    got_b = await on_b.expect("event")
    got_a = await on_a.expect("event")
    assert got_b["data"]["display_name"] == "raised on A"
    assert got_b["id"] == got_a["id"]

    # The events really live in this install's stream, under its prefix.
    client = aioredis.Redis.from_url(REDIS_URL)
    assert await client.xlen(f"{redis_prefix}events") >= 1
    await client.aclose()

    # B's client goes away; A raises two events; B replays them on reconnect.
    await on_b.connection.close()
    await rename(a, user, "missed 1")
    await rename(a, user, "missed 2")
    back_on_b = await connect(ws_url(b, user.token))
    await back_on_b.subscribe([f"user:{user.id}"], last_event_id=got_b["id"])
    replayed = await back_on_b.events(2)
    assert [e["data"]["display_name"] for e in replayed] == ["missed 1", "missed 2"]
    assert await back_on_b.quiet(0.3) == []
    # Ids come from one sequence shared by both processes.
    await rename(b, user, "raised on B")
    from_b = await back_on_b.expect("event")
    assert tuple(map(int, from_b["id"].split("-"))) > tuple(map(int, replayed[-1]["id"].split("-")))


async def test_replay_and_live_across_processes_have_no_gap_or_duplicate(
    pair: tuple[ServerProcess, ServerProcess, str], connect: Connect
):
    a, b, database = pair
    user = insert_user(database)
    watcher = await connect(ws_url(b, user.token))
    start = watcher.ready["last_event_id"]
    names = [f"n{n}" for n in range(20)]

    async def publish_many() -> None:
        for name in names:
            await rename(a, user, name)

    publisher = asyncio.create_task(publish_many())
    await asyncio.sleep(0.1)
    await watcher.subscribe([f"user:{user.id}"], last_event_id=start)
    await publisher
    received = await watcher.events(len(names))
    assert [e["data"]["display_name"] for e in received] == names
    assert await watcher.quiet(0.3) == []
