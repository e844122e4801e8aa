"""The two buses directly: one id sequence, bounded replay, slow subscribers, Redis fan-out."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from meadhall.platform.events.bus import (
    Event,
    EventBus,
    InProcessBus,
    RedisBus,
    Resync,
    Subscription,
    parse_event_id,
)
from meadhall.platform.observability.metrics import EVENTS_PUBLISHED
from tests.conftest import REDIS_URL, make_settings


async def next_event(subscription: Subscription, wait: float = 5.0) -> Event:
    item = await asyncio.wait_for(subscription.next(), wait)
    assert isinstance(item, Event), item
    return item


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A unique key prefix; every key under it is deleted afterwards."""
    prefix = f"meadhall-test:{secrets.token_hex(6)}:"
    yield prefix
    client = aioredis.Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[EventBus]:
    instance: Any
    if request.param == "memory":
        instance = InProcessBus(buffer_size=10)
    else:
        instance = RedisBus(REDIS_URL, prefix=redis_prefix, buffer_size=10)
    await instance.start()
    yield instance
    await instance.stop()


async def test_ids_increase_across_topics(bus: EventBus) -> None:
    subscription = bus.subscribe(["a", "b"])
    before = EVENTS_PUBLISHED._value.get()
    published = [
        await bus.publish(topic, "thing.happened", {"n": n})
        for n, topic in enumerate(["a", "b", "a", "b"])
    ]
    received = [await next_event(subscription) for _ in published]
    assert [e.id for e in received] == [e.id for e in published]
    positions = [parse_event_id(e.id) for e in received]
    assert positions == sorted(positions) and len(set(positions)) == 4
    assert [e.data["n"] for e in received] == [0, 1, 2, 3]
    assert EVENTS_PUBLISHED._value.get() == before + 4
    subscription.close()


async def test_subscriber_only_gets_its_topics(bus: EventBus) -> None:
    subscription = bus.subscribe(["mine"])
    await bus.publish("other", "x", {})
    mine = await bus.publish("mine", "x", {})
    assert (await next_event(subscription)).id == mine.id
    subscription.remove_topics(["mine"])
    await bus.publish("mine", "x", {})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(subscription.next(), 0.3)
    subscription.close()


async def test_replay_after_an_id(bus: EventBus) -> None:
    start = await bus.last_event_id()
    first = await bus.publish("a", "x", {"n": 1})
    await bus.publish("b", "x", {"n": 2})
    third = await bus.publish("a", "x", {"n": 3})
    replay = await bus.replay(start, {"a"})
    assert replay.events is not None
    assert [e.id for e in replay.events] == [first.id, third.id]
    after_first = await bus.replay(first.id, {"a", "b"})
    assert after_first.events is not None
    assert [e.data["n"] for e in after_first.events] == [2, 3]
    assert after_first.position == parse_event_id(third.id)
    nothing = await bus.replay(third.id, {"a"})
    assert nothing.events == []


async def test_replay_refuses_ids_it_cannot_cover(bus: EventBus) -> None:
    start = await bus.last_event_id()
    for n in range(300):
        await bus.publish("a", "x", {"n": n})
    # Buffer of 10 (Redis trims in whole nodes, so "about" 10): the start is long gone.
    assert (await bus.replay(start, {"a"})).events is None
    last = await bus.last_event_id()
    a, _ = parse_event_id(last)
    assert (await bus.replay(f"{a + 10_000}-0", {"a"})).events is None
    assert (await bus.replay(last, {"a"})).events == []


async def test_slow_subscriber_is_detached_not_waited_for(bus: EventBus) -> None:
    slow = bus.subscribe(["a"], max_pending=5)
    fast = bus.subscribe(["a"])
    for n in range(20):
        await bus.publish("a", "x", {"n": n})
    received = [await next_event(fast) for _ in range(20)]
    assert [e.data["n"] for e in received] == list(range(20))
    # Give the Redis reader time to hand everything out.
    await asyncio.sleep(0.2)
    item = await asyncio.wait_for(slow.next(), 5)
    assert isinstance(item, Resync)
    assert slow.detached
    slow.reattach()
    event = await bus.publish("a", "x", {"n": "again"})
    assert (await next_event(slow)).id == event.id
    slow.close()
    fast.close()


async def test_unserialisable_data_fails_at_the_publisher(bus: EventBus) -> None:
    with pytest.raises(TypeError):
        await bus.publish("a", "x", {"bad": object()})


async def test_redis_bus_fans_out_between_instances(redis_prefix: str) -> None:
    one = RedisBus(REDIS_URL, prefix=redis_prefix, buffer_size=100)
    two = RedisBus(REDIS_URL, prefix=redis_prefix, buffer_size=100)
    other_install = RedisBus(REDIS_URL, prefix=redis_prefix + "other:", buffer_size=100)
    for instance in (one, two, other_install):
        await instance.start()
    try:
        await one.ping()
        on_two = two.subscribe(["t"])
        on_other = other_install.subscribe(["t"])
        sent = [await one.publish("t", "x", {"n": n}) for n in range(5)]
        got = [await next_event(on_two) for _ in sent]
        assert [e.id for e in got] == [e.id for e in sent]
        assert got[0].data == {"n": 0}
        # Another install (another prefix) on the same Redis hears nothing.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(on_other.next(), 0.5)
        replay = await two.replay(sent[1].id, {"t"})
        assert replay.events is not None
        assert [e.id for e in replay.events] == [e.id for e in sent[2:]]
    finally:
        for instance in (one, two, other_install):
            await instance.stop()


def test_redis_prefix_is_derived_from_the_database(tmp_path: Any) -> None:
    a = make_settings("postgresql://u@db:5432/hall_one", tmp_path)
    b = make_settings("postgresql://u@db:5432/hall_two", tmp_path)
    assert a.redis_namespace.startswith("meadhall:hall_one:")
    assert a.redis_namespace != b.redis_namespace
    c = make_settings("postgresql://u@db:5432/hall_one", tmp_path, redis_key_prefix="x:")
    assert c.redis_namespace == "x:"
