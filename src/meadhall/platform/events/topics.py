"""Who may subscribe to which topic.

A topic is ``<name>`` or ``<name>:<argument>`` (``"admin"``, ``"user:<uuid>"``). Each name (with
or without an argument) has one rule: how to read the argument and who may listen. Wings add
their own rules with :func:`topic_rule` in a module imported at start, as jobs do with
``job_kind``::

    @topic_rule("guild", argument=parse_uuid)
    async def guild_topic(request: TopicRequest) -> None:
        if not await is_member(request.runtime, request.principal.user_id, request.argument):
            raise TopicRefused("you are not a member of this guild")
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from meadhall.platform.accounts.principal import Principal
from meadhall.platform.runtime import Runtime

MAX_TOPIC_LENGTH = 200
# What the people who run the server follow: account and invite changes.
ADMIN_TOPIC = "admin"
_TOPIC = re.compile(r"^([a-z][a-z0-9_.-]{0,39})(?::([A-Za-z0-9_.-]{1,150}))?$")


class TopicRefused(Exception):
    """The caller may not subscribe to a topic; ``reason`` is shown to them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TopicRequest:
    """A subscription being decided: who asks, for which topic, with its parsed argument."""

    runtime: Runtime
    principal: Principal
    topic: str
    argument: str | None


Authoriser = Callable[[TopicRequest], Awaitable[None]]
ArgumentParser = Callable[[str], str]


@dataclass(frozen=True)
class TopicRule:
    name: str
    # Turns the text after ':' into its canonical form; ValueError when malformed.
    argument: ArgumentParser | None
    authorise: Authoriser
    description: str


# (name, takes an argument) -> rule. Filled at import time; read-only afterwards.
RULES: dict[tuple[str, bool], TopicRule] = {}


def topic_rule(
    name: str, *, argument: ArgumentParser | None = None, description: str = ""
) -> Callable[[Authoriser], Authoriser]:
    """Register who may subscribe to ``name`` (or ``name:<argument>`` when a parser is given)."""

    def register(authorise: Authoriser) -> Authoriser:
        key = (name, argument is not None)
        existing = RULES.get(key)
        if existing is not None and existing.authorise is not authorise:
            raise ValueError(f"topic rule {name!r} is registered twice")
        RULES[key] = TopicRule(
            name=name,
            argument=argument,
            authorise=authorise,
            description=description or (authorise.__doc__ or "").strip(),
        )
        return authorise

    return register


def parse_uuid(value: str) -> str:
    """The canonical (lower-case, hyphenated) text of a UUID argument."""
    return str(uuid.UUID(value))


async def authorise_topic(runtime: Runtime, principal: Principal, topic: object) -> str:
    """The canonical topic when ``principal`` may subscribe; :class:`TopicRefused` if not."""
    if not isinstance(topic, str) or not topic:
        raise TopicRefused("a topic must be a non-empty string")
    if len(topic) > MAX_TOPIC_LENGTH:
        raise TopicRefused(f"a topic may be at most {MAX_TOPIC_LENGTH} characters long")
    match = _TOPIC.match(topic)
    if match is None:
        raise TopicRefused("malformed topic: expected 'name' or 'name:argument'")
    name, raw_argument = match.group(1), match.group(2)
    rule = RULES.get((name, raw_argument is not None))
    if rule is None:
        if (name, raw_argument is None) in RULES:
            shape = "needs an argument ('name:…')" if raw_argument is None else "takes no argument"
            raise TopicRefused(f"topic '{name}' {shape}")
        raise TopicRefused(f"unknown topic '{name}'")
    argument: str | None = None
    if raw_argument is not None and rule.argument is not None:
        try:
            argument = rule.argument(raw_argument)
        except ValueError:
            raise TopicRefused(f"malformed argument for topic '{name}'") from None
    canonical = name if argument is None else f"{name}:{argument}"
    await rule.authorise(
        TopicRequest(runtime=runtime, principal=principal, topic=canonical, argument=argument)
    )
    return canonical


# The platform's own topics ------------------------------------------------------------------


@topic_rule("user", argument=parse_uuid)
async def _user_topic(request: TopicRequest) -> None:
    """Events about one user (profile, sessions); only that user hears them."""
    if request.argument != str(request.principal.user_id):
        raise TopicRefused("you may only subscribe to your own user topic")


@topic_rule("jobs", argument=parse_uuid)
async def _user_jobs_topic(request: TopicRequest) -> None:
    """Changes to the jobs one user owns; that user or an admin."""
    if request.argument != str(request.principal.user_id) and not request.principal.is_admin:
        raise TopicRefused("only the owner or an admin may follow these jobs")


@topic_rule("jobs")
async def _all_jobs_topic(request: TopicRequest) -> None:
    """Changes to every job; admins only."""
    if not request.principal.is_admin:
        raise TopicRefused("only an admin may follow all jobs")


@topic_rule(ADMIN_TOPIC)
async def _admin_topic(request: TopicRequest) -> None:
    """Events for the people who run the server; admins only."""
    if not request.principal.is_admin:
        raise TopicRefused("only an admin may subscribe to this topic")


@topic_rule("announcements")
async def _announcements_topic(request: TopicRequest) -> None:
    """Notices an admin sends to everyone signed in."""
    return None
