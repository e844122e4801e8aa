"""Helpers for the accounts tests: sign people up and in through the HTTP API."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import update

from meadhall.platform.accounts.models import Invite
from meadhall.platform.runtime import Runtime

PASSWORD = "correct horse battery"


def unique_email(label: str = "user") -> str:
    return f"{label}-{secrets.token_hex(4)}@example.com"


@dataclass
class Session:
    """A signed-in user as the API returned it."""

    user: dict[str, Any]
    access_token: str
    refresh_token: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def id(self) -> str:
        return str(self.user["id"])

    @property
    def email(self) -> str:
        return str(self.user["email"])


def _session(response: httpx.Response, password: str) -> Session:
    assert response.status_code in (200, 201), response.text
    body = response.json()
    return Session(
        user=body["user"],
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        password=password,
    )


async def onboard(
    client: httpx.AsyncClient, *, email: str | None = None, password: str = PASSWORD
) -> Session:
    response = await client.post(
        "/api/auth/onboarding",
        json={
            "email": email or unique_email("admin"),
            "password": password,
            "display_name": "Admin",
        },
    )
    return _session(response, password)


async def create_invite(client: httpx.AsyncClient, admin: Session, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/invites", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    invite: dict[str, Any] = response.json()
    return invite


async def register(
    client: httpx.AsyncClient,
    admin: Session,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    name: str = "Player",
) -> Session:
    invite = await create_invite(client, admin)
    response = await client.post(
        "/api/auth/register",
        json={
            "invite_code": invite["code"],
            "email": email or unique_email(),
            "password": password,
            "display_name": name,
        },
    )
    return _session(response, password)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Session:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    return _session(response, password)


async def set_invite_expiry(runtime: Runtime, invite_id: str, when: datetime) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Invite).where(Invite.id == uuid.UUID(invite_id)).values(expires_at=when)
        )


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an error envelope with this status (and code)."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    error: dict[str, Any] = response.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error
