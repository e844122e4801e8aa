"""The event bus contract. (A minimal in-process bus; the gateway work replaces it.)"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.config import Settings
from meadhall.platform.db import on_commit


@dataclass(frozen=True)
class Event:
    id: str
    topic: str
    type: str
    data: dict[str, Any]
    at: float = field(default_factory=time.time)


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, topic: str, type: str, data: dict[str, Any]) -> Event: ...


class InProcessBus:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.published: list[Event] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, topic: str, type: str, data: dict[str, Any]) -> Event:
        event = Event(id=str(next(self._ids)), topic=topic, type=type, data=data)
        self.published.append(event)
        return event


def create_bus(settings: Settings) -> EventBus:
    return InProcessBus()


def publish_after_commit(
    session: AsyncSession, bus: EventBus, topic: str, type: str, data: dict[str, Any]
) -> None:
    """Publish once the session commits, so nobody hears of a change that is not stored."""

    async def _publish() -> None:
        await bus.publish(topic, type, data)

    on_commit(session, _publish)
