"""Gateway topics of the Library."""

from __future__ import annotations

import uuid

from meadhall.library.access import album_role
from meadhall.library.errors import AlbumNotFound
from meadhall.platform.events.topics import TopicRefused, TopicRequest, parse_uuid, topic_rule


def library_topic(owner_id: uuid.UUID) -> str:
    return f"library:{owner_id}"


def album_topic(album_id: uuid.UUID) -> str:
    return f"album:{album_id}"


@topic_rule("library", argument=parse_uuid)
async def _library_topic(request: TopicRequest) -> None:
    """Assets of one user's library added, processed, changed or deleted; that user only."""
    if request.argument != str(request.principal.user_id):
        raise TopicRefused("you may only follow your own library")


@topic_rule("album", argument=parse_uuid)
async def _album_topic(request: TopicRequest) -> None:
    """Changes to one album and its assets; its owner and members."""
    assert request.argument is not None
    async with request.runtime.db.sessionmaker() as session:
        try:
            await album_role(
                session, album_id=uuid.UUID(request.argument), user_id=request.principal.user_id
            )
        except AlbumNotFound:
            raise TopicRefused("no such album") from None
