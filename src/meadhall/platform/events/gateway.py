"""The WebSocket gateway at ``/api/events``: one socket per client, many topics per socket.

Authentication, one of:

* ``?token=<access token or API key>`` in the URL;
* the browser's ``meadhall_access`` cookie — only when the ``Origin`` header is this server's own
  origin (the public URL, or the ``Host`` the request came to), so another site cannot open a
  socket with the visitor's cookie;
* otherwise the first message, within 10 seconds: ``{"type": "auth", "token": "…"}``.

A failed authentication gets an ``error`` message, then close code 4401 (4403 for a foreign
origin).

Messages are JSON objects with a ``type``. From the client:

* ``{"type": "subscribe", "topics": ["user:<id>", …], "last_event_id": "…"?}`` — the server
  answers ``subscribed`` with the canonical topics it accepted and ``refused``
  (``[{"topic", "reason"}]``); the others still subscribe. With ``last_event_id`` it then sends,
  in order, every kept event on the new topics after that id, and live events continue from
  there with no gap and no duplicate. When that id is older than what the server keeps (or
  unknown, e.g. from before a restart) it sends ``{"type": "resync", "reason", "topics"}``:
  reload the state of those topics through the HTTP API; live events follow as usual.
* ``{"type": "unsubscribe", "topics": […]}`` — answered by ``unsubscribed``.
* ``{"type": "ping"}`` — answered by ``{"type": "pong"}``.
* ``{"type": "auth", "token": "…"}`` after ``ready`` — swaps in a fresh access token for the
  same user (answered by ``authenticated``), so the socket outlives the first token.

From the server:

* ``{"type": "ready", "user_id", "last_event_id", "heartbeat_seconds", "expires_at"}`` once
  authenticated. ``last_event_id`` is the bus position at that moment: pass it in the first
  ``subscribe`` to receive everything published since connecting.
* ``{"type": "event", "id", "topic", "event", "data", "at"}`` — ``id`` increases across all
  topics (compare ids only for equality; keep the last one you saw), ``at`` is ISO 8601 UTC.
* ``{"type": "resync", "reason"}`` — events were lost for this socket (it fell too far behind);
  reload state. It stays subscribed and live events continue.
* ``{"type": "ping"}`` every ``websocket_heartbeat_seconds`` (no answer needed).
* ``{"type": "reauth", "expires_at"}`` shortly before the access token expires; without a new
  ``auth`` message the socket is closed with 4401 at expiry (reconnecting with the last event id
  loses nothing).
* ``{"type": "error", "message"}`` for a malformed, unknown or oversized (> 64 KiB) message;
  after 10 of them the socket is closed with 1008.

Each connection owns one bus subscription and cleans it up when it ends; several connections of
one user are independent and each receives every event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from meadhall.platform.accounts.deps import (
    ACCESS_COOKIE,
    authenticate_access_token,
    authenticate_bearer,
)
from meadhall.platform.accounts.principal import API_KEY_PREFIX, Principal
from meadhall.platform.accounts.security import decode_access_token
from meadhall.platform.errors import MeadhallError
from meadhall.platform.events.bus import Event, Resync, Subscription, parse_event_id
from meadhall.platform.events.topics import TopicRefused, authorise_topic
from meadhall.platform.observability.metrics import WEBSOCKET_CONNECTIONS
from meadhall.platform.runtime import Runtime

logger = logging.getLogger("meadhall.events.gateway")

CLOSE_POLICY_VIOLATION = 1008
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403

MAX_MESSAGE_BYTES = 64 * 1024
MAX_ERRORS = 10
MAX_TOPICS_PER_MESSAGE = 100
MAX_TOPICS_PER_CONNECTION = 200
MAX_EVENT_ID_LENGTH = 64
AUTH_TIMEOUT_SECONDS = 10.0
# The reauth warning comes this long before expiry (or halfway, for very short tokens).
REAUTH_NOTICE_SECONDS = 60.0
# Live events sent per turn of the writer before others (heartbeat, replies) get the socket.
SEND_BATCH = 64


class GatewayClosed(Exception):
    """Raised inside a connection's tasks to end it with a close code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]+")


class RedactQueryTokens(logging.Filter):
    """Hide ``?token=…`` in log lines: the server logs each WebSocket's URL when it opens."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(arg, str) and "token=" in arg for arg in record.args
        ):
            record.args = tuple(
                _TOKEN_IN_QUERY.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str) and "token=" in record.msg:
            record.msg = _TOKEN_IN_QUERY.sub(r"\1[redacted]", record.msg)
        return True


REDACT_QUERY_TOKENS = RedactQueryTokens()


def _dumps(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _own_origins(websocket: WebSocket, runtime: Runtime) -> set[str]:
    """The origins a page of this server may have: its public URL and the Host it was reached at."""
    origins = {runtime.settings.base_url.lower().rstrip("/")}
    host = websocket.headers.get("host")
    if host:
        scheme = "https" if websocket.url.scheme == "wss" else "http"
        origins.add(f"{scheme}://{host}".lower())
    return origins


async def _credentials_from(runtime: Runtime, token: str) -> tuple[Principal, datetime | None]:
    """The principal behind a bearer token and when it stops being valid (``None``: API key)."""
    principal = await authenticate_bearer(runtime, token)
    if token.startswith(API_KEY_PREFIX):
        return principal, None
    claims = decode_access_token(token, key=runtime.settings.signing_key())
    return principal, claims.expires_at if claims is not None else None


async def _authenticate(
    websocket: WebSocket, runtime: Runtime
) -> tuple[Principal, datetime | None, str | None]:
    """Who is on the other end, when their credential expires, and the API key to re-check."""
    token = websocket.query_params.get("token")
    if token:
        principal, expires = await _credentials_from(runtime, token)
        return principal, expires, token if expires is None else None
    cookie = websocket.cookies.get(ACCESS_COOKIE)
    if cookie:
        origin = (websocket.headers.get("origin") or "").lower().rstrip("/")
        if origin not in _own_origins(websocket, runtime):
            raise GatewayClosed(
                CLOSE_FORBIDDEN_ORIGIN,
                "cookie authentication is only accepted from this server's own pages",
            )
        principal = await authenticate_access_token(runtime, cookie, via="cookie")
        claims = decode_access_token(cookie, key=runtime.settings.signing_key())
        return principal, claims.expires_at if claims is not None else None, None
    try:
        first = await asyncio.wait_for(websocket.receive(), AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        raise GatewayClosed(CLOSE_NOT_AUTHENTICATED, "authentication timed out") from None
    if first["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(first.get("code", 1000))
    message = _parse(first)
    if (
        not isinstance(message, dict)
        or message.get("type") != "auth"
        or not isinstance(message.get("token"), str)
        or not message["token"]
    ):
        raise GatewayClosed(
            CLOSE_NOT_AUTHENTICATED,
            'authenticate first: send {"type": "auth", "token": "…"} or use ?token=',
        )
    principal, expires = await _credentials_from(runtime, message["token"])
    return principal, expires, message["token"] if expires is None else None


class _BadMessage(Exception):
    pass


def _parse(message: Mapping[str, Any]) -> Any:
    """The JSON value of a received WebSocket message; :class:`_BadMessage` when it has none."""
    raw: str | bytes | None = message.get("text")
    if raw is None:
        raw = message.get("bytes")
    if raw is None:
        raise _BadMessage("empty message")
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode())
    if size > MAX_MESSAGE_BYTES:
        raise _BadMessage(f"message too large: at most {MAX_MESSAGE_BYTES} bytes")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _BadMessage("message is not valid JSON") from None


async def serve_gateway(websocket: WebSocket, runtime: Runtime) -> None:
    """Run one gateway connection from handshake to close."""
    await websocket.accept()
    try:
        principal, expires_at, api_key = await _authenticate(websocket, runtime)
    except WebSocketDisconnect:
        return
    except (MeadhallError, GatewayClosed) as exc:
        is_origin = isinstance(exc, GatewayClosed) and exc.code == CLOSE_FORBIDDEN_ORIGIN
        code = CLOSE_FORBIDDEN_ORIGIN if is_origin else CLOSE_NOT_AUTHENTICATED
        with contextlib.suppress(Exception):
            await websocket.send_text(_dumps({"type": "error", "message": exc.message}))
            await websocket.close(code, "forbidden origin" if is_origin else "not authenticated")
        return
    except _BadMessage as exc:
        with contextlib.suppress(Exception):
            await websocket.send_text(_dumps({"type": "error", "message": str(exc)}))
            await websocket.close(CLOSE_NOT_AUTHENTICATED, "not authenticated")
        return
    connection = GatewayConnection(
        websocket, runtime, principal, expires_at=expires_at, api_key=api_key
    )
    await connection.run()


class GatewayConnection:
    """One authenticated socket: its subscription, its watermarks, its tasks."""

    def __init__(
        self,
        websocket: WebSocket,
        runtime: Runtime,
        principal: Principal,
        *,
        expires_at: datetime | None,
        api_key: str | None,
    ) -> None:
        self.websocket = websocket
        self.runtime = runtime
        self.principal = principal
        self.expires_at = expires_at
        self._api_key = api_key
        self._credentials_renewed = asyncio.Event()
        self._subscription: Subscription = runtime.bus.subscribe()
        # Per topic: live events up to this position were already covered by a replay.
        self._watermarks: dict[str, tuple[int, int]] = {}
        # Every send goes through this lock, so a replay and live events never interleave.
        self._send_lock = asyncio.Lock()
        self._errors = 0

    async def run(self) -> None:
        WEBSOCKET_CONNECTIONS.inc()
        tasks: list[asyncio.Task[None]] = []
        try:
            await self._send(
                {
                    "type": "ready",
                    "user_id": str(self.principal.user_id),
                    "last_event_id": await self.runtime.bus.last_event_id(),
                    "heartbeat_seconds": self.runtime.settings.websocket_heartbeat_seconds,
                    "expires_at": _iso(self.expires_at),
                }
            )
            tasks = [
                asyncio.create_task(self._receive_loop()),
                asyncio.create_task(self._deliver_loop()),
                asyncio.create_task(self._heartbeat_loop()),
                asyncio.create_task(self._credentials_loop()),
            ]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                exc = task.exception()
                if isinstance(exc, GatewayClosed):
                    await self._close(exc.code, exc.message)
                elif exc is not None and not isinstance(exc, WebSocketDisconnect | OSError):
                    logger.error("gateway connection failed", exc_info=exc)
                    await self._close(1011, "internal error")
        except (WebSocketDisconnect, OSError):
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._subscription.close()
            WEBSOCKET_CONNECTIONS.dec()

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(_dumps(message))

    async def _close(self, code: int, message: str) -> None:
        if self.websocket.application_state != WebSocketState.CONNECTED:
            return
        with contextlib.suppress(Exception):
            async with self._send_lock:
                if code != CLOSE_POLICY_VIOLATION:
                    await self.websocket.send_text(_dumps({"type": "error", "message": message}))
                await self.websocket.close(code, message[:120])

    # Client -> server -------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        while True:
            received = await self.websocket.receive()
            if received["type"] == "websocket.disconnect":
                return
            try:
                message = _parse(received)
                await self._handle(message)
            except _BadMessage as exc:
                await self._refuse(str(exc))

    async def _refuse(self, reason: str) -> None:
        self._errors += 1
        await self._send({"type": "error", "message": reason})
        if self._errors >= MAX_ERRORS:
            raise GatewayClosed(CLOSE_POLICY_VIOLATION, "too many malformed messages")

    async def _handle(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise _BadMessage('a message must be a JSON object with a "type"')
        kind = message["type"]
        if kind == "ping":
            await self._send({"type": "pong"})
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "unsubscribe":
            await self._unsubscribe(message)
        elif kind == "auth":
            await self._reauthenticate(message)
        else:
            raise _BadMessage(f"unknown message type {kind[:40]!r}")

    @staticmethod
    def _topics_of(message: dict[str, Any]) -> list[Any]:
        topics = message.get("topics")
        if not isinstance(topics, list) or not topics:
            raise _BadMessage('"topics" must be a non-empty list of strings')
        if len(topics) > MAX_TOPICS_PER_MESSAGE:
            raise _BadMessage(f"at most {MAX_TOPICS_PER_MESSAGE} topics per message")
        return topics

    async def _subscribe(self, message: dict[str, Any]) -> None:
        topics = self._topics_of(message)
        last_event_id = message.get("last_event_id")
        if last_event_id is not None:
            if not isinstance(last_event_id, str) or len(last_event_id) > MAX_EVENT_ID_LENGTH:
                raise _BadMessage('"last_event_id" must be an event id string')
            try:
                parse_event_id(last_event_id)
            except ValueError:
                raise _BadMessage('"last_event_id" is not an event id') from None

        accepted: list[str] = []
        new: list[str] = []
        refused: list[dict[str, Any]] = []
        for topic in topics:
            try:
                canonical = await authorise_topic(self.runtime, self.principal, topic)
            except TopicRefused as exc:
                refused.append({"topic": topic, "reason": exc.reason})
                continue
            if canonical in accepted:
                continue
            if canonical not in self._subscription.topics:
                if len(self._subscription.topics) + len(new) >= MAX_TOPICS_PER_CONNECTION:
                    refused.append(
                        {
                            "topic": topic,
                            "reason": f"at most {MAX_TOPICS_PER_CONNECTION} topics per connection",
                        }
                    )
                    continue
                new.append(canonical)
            accepted.append(canonical)

        async with self._send_lock:
            # Listen first, then read the past: an event published in between is in both,
            # and the watermark below drops the live copy.
            self._subscription.add_topics(new)
            await self.websocket.send_text(
                _dumps({"type": "subscribed", "topics": accepted, "refused": refused})
            )
            if last_event_id is None or not new:
                return
            replay = await self.runtime.bus.replay(last_event_id, set(new))
            if replay.events is None:
                await self.websocket.send_text(
                    _dumps(
                        {
                            "type": "resync",
                            "reason": "last_event_id is older than the events this server "
                            "keeps, or unknown",
                            "topics": new,
                        }
                    )
                )
                return
            for event in replay.events:
                await self.websocket.send_text(event.wire)
            for topic in new:
                self._watermarks[topic] = replay.position

    async def _unsubscribe(self, message: dict[str, Any]) -> None:
        topics = self._topics_of(message)
        removed = [t for t in dict.fromkeys(t for t in topics if isinstance(t, str))]
        removed = [t for t in removed if t in self._subscription.topics]
        self._subscription.remove_topics(removed)
        for topic in removed:
            self._watermarks.pop(topic, None)
        await self._send({"type": "unsubscribed", "topics": removed})

    async def _reauthenticate(self, message: dict[str, Any]) -> None:
        token = message.get("token")
        if not isinstance(token, str) or not token:
            raise _BadMessage('"token" must be a non-empty string')
        try:
            principal, expires_at = await _credentials_from(self.runtime, token)
        except MeadhallError as exc:
            raise _BadMessage(f"authentication failed: {exc.message}") from None
        if principal.user_id != self.principal.user_id:
            raise _BadMessage("the token belongs to another user")
        self.principal = principal
        self.expires_at = expires_at
        self._api_key = token if expires_at is None else None
        self._credentials_renewed.set()
        await self._drop_forbidden_topics()
        await self._send(
            {
                "type": "authenticated",
                "user_id": str(principal.user_id),
                "expires_at": _iso(expires_at),
            }
        )

    async def _drop_forbidden_topics(self) -> None:
        """After new credentials (e.g. no longer admin), leave topics the user may not see."""
        forbidden: list[str] = []
        for topic in sorted(self._subscription.topics):
            try:
                await authorise_topic(self.runtime, self.principal, topic)
            except TopicRefused:
                forbidden.append(topic)
        if forbidden:
            self._subscription.remove_topics(forbidden)
            await self._send(
                {"type": "unsubscribed", "topics": forbidden, "reason": "no longer allowed"}
            )

    # Server -> client -------------------------------------------------------------------

    async def _deliver_loop(self) -> None:
        subscription = self._subscription
        while True:
            batch = [await subscription.next(), *subscription.take_ready(SEND_BATCH - 1)]
            async with self._send_lock:
                for item in batch:
                    await self._deliver(item)

    async def _deliver(self, item: Event | Resync) -> None:
        """Send one live item; the caller holds the send lock."""
        if isinstance(item, Resync):
            self._watermarks.clear()
            self._subscription.reattach()
            await self.websocket.send_text(_dumps({"type": "resync", "reason": item.reason}))
            return
        if item.topic not in self._subscription.topics:
            return
        mark = self._watermarks.get(item.topic)
        if mark is not None:
            if item.position <= mark:
                return
            # Live events only grow from here: the mark has done its work.
            del self._watermarks[item.topic]
        await self.websocket.send_text(item.wire)

    async def _heartbeat_loop(self) -> None:
        interval = self.runtime.settings.websocket_heartbeat_seconds
        while True:
            await asyncio.sleep(interval)
            await self._send({"type": "ping"})

    async def _credentials_loop(self) -> None:
        """Close at token expiry (warning first); re-check API keys as often as tokens expire."""
        while True:
            self._credentials_renewed.clear()
            if self.expires_at is None:
                recheck = self.runtime.settings.access_token_minutes * 60.0
                if await self._renewed_within(recheck):
                    continue
                if self._api_key is not None:
                    try:
                        self.principal = await authenticate_bearer(self.runtime, self._api_key)
                    except MeadhallError as exc:
                        raise GatewayClosed(CLOSE_NOT_AUTHENTICATED, exc.message) from None
                    await self._drop_forbidden_topics()
                continue
            remaining = self.expires_at.timestamp() - time.time()
            notice = min(REAUTH_NOTICE_SECONDS, max(remaining, 0) / 2)
            if await self._renewed_within(remaining - notice):
                continue
            await self._send({"type": "reauth", "expires_at": _iso(self.expires_at)})
            if await self._renewed_within(self.expires_at.timestamp() - time.time()):
                continue
            raise GatewayClosed(CLOSE_NOT_AUTHENTICATED, "the access token expired")

    async def _renewed_within(self, seconds: float) -> bool:
        """Wait up to ``seconds``; ``True`` as soon as the client sent new credentials."""
        try:
            await asyncio.wait_for(self._credentials_renewed.wait(), max(seconds, 0.0))
        except TimeoutError:
            return False
        return True
