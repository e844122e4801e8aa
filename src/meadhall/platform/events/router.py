"""The gateway socket and the admin announcement endpoint (mounted under ``/api``)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, WebSocket

from meadhall.platform.accounts.deps import AdminUser
from meadhall.platform.deps import RuntimeDep
from meadhall.platform.errors import BadRequest, NotAllowed, NotAuthenticated, error_responses
from meadhall.platform.events import service
from meadhall.platform.events.gateway import REDACT_QUERY_TOKENS, serve_gateway
from meadhall.platform.events.schemas import AnnouncementCreate, AnnouncementRead
from meadhall.platform.runtime import get_runtime

router = APIRouter(tags=["events"])

# The server logs the URL of every WebSocket it accepts; keep ``?token=`` out of the logs.
# (The same filter object is added once however often this module is imported.)
logging.getLogger("uvicorn.error").addFilter(REDACT_QUERY_TOKENS)


@router.websocket("/events", name="events_gateway")
async def events_gateway(websocket: WebSocket) -> None:
    """The real-time gateway; the protocol is described in ``meadhall.platform.events.gateway``."""
    await serve_gateway(websocket, get_runtime(websocket))


@router.post(
    "/events/announcements",
    operation_id="create_announcement",
    response_model=AnnouncementRead,
    status_code=202,
    responses=error_responses(BadRequest, NotAuthenticated, NotAllowed),
)
async def create_announcement(
    body: AnnouncementCreate, admin: AdminUser, runtime: RuntimeDep
) -> AnnouncementRead:
    """Send a notice to everyone subscribed to the ``announcements`` topic (admins only)."""
    event = await service.announce(
        bus=runtime.bus, author=admin, message=body.message, level=body.level
    )
    return AnnouncementRead(
        event_id=event.id, topic=event.topic, at=datetime.fromtimestamp(event.at, UTC)
    )
