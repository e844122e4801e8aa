"""The per-process runtime: settings plus the live connections every request may use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request
from starlette.requests import HTTPConnection

from meadhall.config import Settings
from meadhall.platform.db import Database

if TYPE_CHECKING:
    from meadhall.platform.events.bus import EventBus
    from meadhall.platform.house import House


@dataclass
class Runtime:
    """What ``create_app``'s lifespan builds and hands to every request and job."""

    settings: Settings
    db: Database
    bus: EventBus
    # The platform and the wings this process was built from.
    house: House
    # Filled in by the domains that need a place for their process-wide state.
    extras: dict[str, Any] = field(default_factory=dict)


def get_runtime(conn: HTTPConnection) -> Runtime:
    runtime: Runtime = conn.app.state.runtime
    return runtime


def request_runtime(request: Request) -> Runtime:
    return get_runtime(request)
