"""Password reset by e-mail, end to end through a real SMTP server (aiosmtpd) on localhost."""

from __future__ import annotations

import asyncio
import email
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import update

from meadhall.app import create_app
from meadhall.platform.accounts.models import PasswordResetToken
from meadhall.platform.accounts.service import wait_for_mail
from meadhall.platform.runtime import Runtime
from tests.conftest import free_port, make_settings
from tests.platform.accounts.support import PASSWORD, assert_error, login, onboard, register

SMTP_USER = "meadhall"
SMTP_PASSWORD = "smtp-secret"


@dataclass
class Mailbox:
    """What the local SMTP server received."""

    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if (
            isinstance(data, LoginPassword)
            and data.login.decode() == SMTP_USER
            and data.password.decode() == SMTP_PASSWORD
        ):
            self.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture
async def mail_app(
    database_url: str, tmp_path: Path, smtp: tuple[Mailbox, int]
) -> AsyncIterator[FastAPI]:
    """A second app on the test database that sends mail to the local SMTP server."""
    _, port = smtp
    settings = make_settings(
        database_url,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_username=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
        smtp_sender="hall@example.com",
        public_url="https://hall.example.com",
    )
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=30):
        yield application


@pytest.fixture
async def mail_client(mail_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=mail_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _received(mailbox: Mailbox, runtime: Runtime, count: int) -> list[Message]:
    await wait_for_mail(runtime)
    for _ in range(50):
        if len(mailbox.messages) >= count:
            break
        await asyncio.sleep(0.05)
    assert len(mailbox.messages) == count
    return mailbox.messages


def _token_from(message: Message) -> str:
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    match = re.search(r"https://hall\.example\.com/reset-password\?token=(\S+)", body.decode())
    assert match, body
    return match.group(1)


async def test_reset_by_mail_end_to_end(
    mail_client: httpx.AsyncClient, mail_app: FastAPI, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    runtime: Runtime = mail_app.state.runtime
    status = (await mail_client.get("/api/auth/status")).json()
    assert status["smtp_enabled"] is True
    admin = await onboard(mail_client)
    player = await register(mail_client, admin)

    response = await mail_client.post(
        "/api/auth/password-reset", json={"email": player.email.upper()}
    )
    assert response.status_code == 202
    [message] = await _received(mailbox, runtime, 1)
    assert message["To"] == player.email
    assert message["From"] == "hall@example.com"
    assert message["X-Envelope-To"] == player.email
    assert mailbox.logins == [SMTP_USER]
    token = _token_from(message)

    weak = await mail_client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": "short"}
    )
    assert_error(weak, 422)
    done = await mail_client.post(
        "/api/auth/password-reset/confirm",
        json={"token": token, "new_password": "new and long enough"},
    )
    assert done.status_code == 204, done.text
    # Every session of the user ended; the old password is gone; the new one works.
    assert_error(await mail_client.get("/api/me", headers=player.headers), 401)
    assert_error(
        await mail_client.post("/api/auth/refresh", json={"refresh_token": player.refresh_token}),
        401,
    )
    assert_error(
        await mail_client.post(
            "/api/auth/login", json={"email": player.email, "password": PASSWORD}
        ),
        401,
    )
    await login(mail_client, player.email, "new and long enough")
    # The link works once.
    again = await mail_client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": "yet another one"}
    )
    assert_error(again, 400, "invalid_reset_token")


async def test_no_enumeration_and_no_mail_for_unknown_addresses(
    mail_client: httpx.AsyncClient, mail_app: FastAPI, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    runtime: Runtime = mail_app.state.runtime
    admin = await onboard(mail_client)
    known = await mail_client.post("/api/auth/password-reset", json={"email": admin.email})
    unknown = await mail_client.post(
        "/api/auth/password-reset", json={"email": "ghost@example.com"}
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    await _received(mailbox, runtime, 1)
    assert mailbox.messages[0]["To"] == admin.email


async def test_expired_and_forged_reset_tokens(
    mail_client: httpx.AsyncClient, mail_app: FastAPI, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    runtime: Runtime = mail_app.state.runtime
    admin = await onboard(mail_client)
    await mail_client.post("/api/auth/password-reset", json={"email": admin.email})
    [message] = await _received(mailbox, runtime, 1)
    token = _token_from(message)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(PasswordResetToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    body = {"token": token, "new_password": "new and long enough"}
    assert_error(await mail_client.post("/api/auth/password-reset/confirm", json=body), 400)
    forged = {"token": "x" * 43, "new_password": "new and long enough"}
    assert_error(await mail_client.post("/api/auth/password-reset/confirm", json=forged), 400)
    assert_error(
        await mail_client.post("/api/auth/password-reset/confirm", json={"token": "x"}), 422
    )
    await login(mail_client, admin.email)


async def test_reset_without_smtp_answers_the_same(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    admin = await onboard(client)
    assert (await client.get("/api/auth/status")).json()["smtp_enabled"] is False
    with caplog.at_level("WARNING", logger="meadhall.accounts"):
        response = await client.post("/api/auth/password-reset", json={"email": admin.email})
    assert response.status_code == 202
    assert any("mail is off" in r.getMessage() for r in caplog.records)
    assert_error(await client.post("/api/auth/password-reset", json={}), 422)
    assert_error(await client.post("/api/auth/password-reset", json={"email": "a" * 400}), 422)


async def test_password_reset_is_rate_limited(
    client: httpx.AsyncClient, client_at: Callable[[str], httpx.AsyncClient]
) -> None:
    # 5 per hour per address and per e-mail (the default setting).
    for i in range(5):
        ok = await client_at(f"10.9.0.{i}").post(
            "/api/auth/password-reset", json={"email": "target@example.com"}
        )
        assert ok.status_code == 202
    limited = await client_at("10.9.0.99").post(
        "/api/auth/password-reset", json={"email": "Target@example.com"}
    )
    error = assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0
    assert error["details"]["retry_after"] == int(limited.headers["retry-after"])
