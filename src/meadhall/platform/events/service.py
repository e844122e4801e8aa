"""What the events API does besides the gateway: admin announcements."""

from __future__ import annotations

from meadhall.platform.accounts.principal import Principal
from meadhall.platform.errors import BadRequest, NotAllowed
from meadhall.platform.events.bus import Event, EventBus

ANNOUNCEMENTS_TOPIC = "announcements"
ANNOUNCEMENT_EVENT = "announcement"


async def announce(*, bus: EventBus, author: Principal, message: str, level: str) -> Event:
    """Publish a notice on the ``announcements`` topic, which every signed-in user may follow.

    Nothing is stored, so there is no transaction to wait for: it goes out at once.
    """
    if not author.is_admin:
        raise NotAllowed("only an admin may make announcements")
    text = message.strip()
    if not text:
        raise BadRequest("the message is empty")
    return await bus.publish(
        ANNOUNCEMENTS_TOPIC,
        ANNOUNCEMENT_EVENT,
        {
            "message": text,
            "level": level,
            "author": {"id": str(author.user_id), "display_name": author.display_name},
        },
    )
