"""Fixtures for the gateway tests: users inserted with SQL, tokens minted with the test key,
and a WebSocket client that reads the gateway's JSON messages."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import psycopg
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from meadhall.platform.accounts.security import (
    JWT_ALGORITHM,
    JWT_AUDIENCE,
    create_access_token,
    hash_password,
)
from tests.conftest import TEST_SECRET, ServerProcess, start_server

# One hash for every test user: Argon2 is slow on purpose.
_PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(_PASSWORD)


@dataclass
class GatewayUser:
    id: uuid.UUID
    email: str
    is_admin: bool
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def insert_user(database_url: str, *, is_admin: bool = False) -> GatewayUser:
    """A user row written straight into ``database_url``, with a 15-minute access token."""
    user_id = uuid.uuid4()
    email = f"gw-{secrets.token_hex(4)}@example.com"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, display_name, password_hash, is_admin) "
            "VALUES (%s, %s, %s, %s, %s)",
            (user_id, email, email.split("@")[0], _PASSWORD_HASH, is_admin),
        )
    token, _ = create_access_token(key=TEST_SECRET, user_id=user_id, token_version=0, minutes=15)
    return GatewayUser(id=user_id, email=email, is_admin=is_admin, token=token)


def short_lived_token(user_id: uuid.UUID, *, seconds: float) -> str:
    """An access token that expires in ``seconds`` (the API only mints whole minutes)."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "ver": 0,
        "typ": "access",
        "aud": JWT_AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=seconds),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, TEST_SECRET, algorithm=JWT_ALGORITHM)


def ws_url(server: ServerProcess, token: str | None = None) -> str:
    url = server.url.replace("http://", "ws://") + "/api/events"
    return f"{url}?token={token}" if token else url


class Gateway:
    """A connected client with helpers to read the next message of a given type."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.ready: dict[str, Any] = {}

    async def send(self, message: Any) -> None:
        await self.connection.send(message if isinstance(message, str) else json.dumps(message))

    async def receive(self, wait: float = 10.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), wait)
        message: dict[str, Any] = json.loads(raw)
        return message

    async def expect(self, kind: str, wait: float = 10.0) -> dict[str, Any]:
        """The next message that is not a heartbeat; it must be of type ``kind``."""
        while True:
            message = await self.receive(wait)
            if message["type"] == "ping" and kind != "ping":
                continue
            assert message["type"] == kind, message
            return message

    async def subscribe(
        self, topics: list[Any], last_event_id: str | None = None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "subscribe", "topics": topics}
        if last_event_id is not None:
            message["last_event_id"] = last_event_id
        await self.send(message)
        return await self.expect("subscribed")

    async def events(self, count: int, wait: float = 10.0) -> list[dict[str, Any]]:
        return [await self.expect("event", wait) for _ in range(count)]

    async def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Every non-heartbeat message that arrives within ``seconds`` (expected: none)."""
        seen: list[dict[str, Any]] = []
        try:
            while True:
                message = await self.receive(seconds)
                if message["type"] != "ping":
                    seen.append(message)
        except TimeoutError:
            return seen

    async def close_code(self, wait: float = 10.0) -> int | None:
        """Read until the server closes; the close code it sent."""
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), wait)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Awaitable[Gateway]]]:
    """Open gateway connections that are closed at the end of the test."""
    opened: list[ClientConnection] = []

    async def open_(url: str, *, expect_ready: bool = True, **kwargs: Any) -> Gateway:
        connection = await websockets.connect(url, open_timeout=10, **kwargs)
        opened.append(connection)
        gateway = Gateway(connection)
        if expect_ready:
            gateway.ready = await gateway.expect("ready")
        return gateway

    yield open_
    for connection in opened:
        await connection.close()


# Small enough that tests can push the oldest events out; a quick heartbeat.
GATEWAY_ENV = {
    "MEADHALL_EVENT_BUFFER_SIZE": "10",
    "MEADHALL_WEBSOCKET_HEARTBEAT_SECONDS": "1",
    "MEADHALL_WORKERS_IN_PROCESS": "false",
}


@pytest.fixture(scope="module")
def gateway_database(database_factory: Callable[[], str]) -> str:
    """A database of its own for this module's server (tests share it; users are unique)."""
    return database_factory()


@pytest.fixture(scope="module")
def gateway_server(
    gateway_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One real server process for the module (starting one costs seconds)."""
    folder = tmp_path_factory.mktemp("gateway")
    server = start_server(gateway_database, folder / "data", folder, **GATEWAY_ENV)
    yield server
    server.stop()
