"""Fixtures of the assets tests: a bus that records what the API announces."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from meadhall.platform.events.bus import SESSION_BUS_KEY, EventBus
from meadhall.platform.runtime import Runtime


@dataclass
class RecordingBus:
    """Passes events on to the real bus and keeps a copy for the test to read."""

    inner: EventBus
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def publish(self, topic: str, type: str, data: dict[str, Any]) -> Any:
        self.events.append((topic, type, data))
        return await self.inner.publish(topic, type, data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def of(self, type: str) -> list[tuple[str, dict[str, Any]]]:
        """``(topic, data)`` of every event of ``type``."""
        return [(topic, data) for topic, kind, data in self.events if kind == type]


@pytest.fixture
def recording_bus(runtime: Runtime) -> Iterator[RecordingBus]:
    original = runtime.bus
    recorder = RecordingBus(original)
    runtime.bus = recorder  # type: ignore[assignment]
    runtime.db.share_with_sessions(**{SESSION_BUS_KEY: recorder})
    yield recorder
    runtime.bus = original
    runtime.db.share_with_sessions(**{SESSION_BUS_KEY: original})
