"""The garden's gateway topic: anyone signed in may watch it grow."""

from __future__ import annotations

from meadhall.platform.events.topics import TopicRequest, topic_rule


@topic_rule("garden")
async def garden_topic(request: TopicRequest) -> None:
    """News from the garden."""
