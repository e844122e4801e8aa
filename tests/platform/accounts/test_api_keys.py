"""API keys: shown once, stored hashed, scoped, revocable, expiring, private to their owner."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from meadhall.platform.accounts.models import ApiKey
from meadhall.platform.accounts.security import hash_secret
from meadhall.platform.runtime import Runtime
from tests.platform.accounts.support import Session, assert_error, onboard, register


async def _create(client: httpx.AsyncClient, owner: Session, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/me/api-keys", json={"name": "script", **body}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_key_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await onboard(client)
    created = await _create(client, admin, scopes=["read", "write"], expires_in_days=30)
    assert created["key"].startswith("mhk_")
    assert created["key"].startswith(created["key_prefix"])
    assert created["scopes"] == ["read", "write"]
    assert created["expires_at"] is not None
    listed = (await client.get("/api/me/api-keys", headers=admin.headers)).json()["items"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    async with runtime.db.sessionmaker() as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.id == uuid.UUID(created["id"])))
    assert row is not None
    assert row.key_hash == hash_secret(created["key"]) and created["key"] not in row.key_hash


async def test_read_only_key_cannot_write(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    key = (await _create(client, admin))["key"]
    me = await client.get("/api/me", headers=_bearer(key))
    assert me.status_code == 200 and me.json()["id"] == admin.id
    assert_error(
        await client.patch("/api/me", json={"display_name": "x"}, headers=_bearer(key)),
        403,
        "forbidden",
    )
    assert_error(await client.post("/api/invites", json={}, headers=_bearer(key)), 403, "forbidden")
    writer = (await _create(client, admin, scopes=["read", "write"]))["key"]
    renamed = await client.patch("/api/me", json={"display_name": "Bot"}, headers=_bearer(writer))
    assert renamed.status_code == 200


async def test_last_used_is_recorded(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await onboard(client)
    created = await _create(client, admin)
    assert created["last_used_at"] is None
    await client.get("/api/me", headers=_bearer(created["key"]))
    listed = (await client.get("/api/me/api-keys", headers=admin.headers)).json()["items"]
    first_use = listed[0]["last_used_at"]
    assert first_use is not None
    # Within a minute, uses do not rewrite the row.
    await client.get("/api/me", headers=_bearer(created["key"]))
    listed = (await client.get("/api/me/api-keys", headers=admin.headers)).json()["items"]
    assert listed[0]["last_used_at"] == first_use


async def test_revoked_expired_and_unknown_keys_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await onboard(client)
    revoked = await _create(client, admin)
    response = await client.delete(f"/api/me/api-keys/{revoked['id']}", headers=admin.headers)
    assert response.status_code == 204
    assert_error(await client.get("/api/me", headers=_bearer(revoked["key"])), 401)
    listed = (await client.get("/api/me/api-keys", headers=admin.headers)).json()["items"]
    assert listed[0]["revoked_at"] is not None

    expired = await _create(client, admin)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == uuid.UUID(expired["id"]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_error(await client.get("/api/me", headers=_bearer(expired["key"])), 401)
    assert_error(await client.get("/api/me", headers=_bearer("mhk_" + "A" * 43)), 401)
    assert_error(await client.get("/api/me", headers=_bearer("mhk_" + "A" * 5000)), 401)


async def test_keys_of_others_are_not_found(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    player = await register(client, admin)
    mine = await _create(client, admin)
    assert_error(
        await client.delete(f"/api/me/api-keys/{mine['id']}", headers=player.headers),
        404,
        "api_key_not_found",
    )
    assert (await client.get("/api/me/api-keys", headers=player.headers)).json()["items"] == []
    assert (await client.get("/api/me", headers=_bearer(mine["key"]))).status_code == 200


async def test_key_of_disabled_user_stops_working(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    player = await register(client, admin)
    key = (await _create(client, player))["key"]
    assert (await client.get("/api/me", headers=_bearer(key))).status_code == 200
    await client.patch(
        f"/api/admin/users/{player.id}", json={"is_active": False}, headers=admin.headers
    )
    assert_error(await client.get("/api/me", headers=_bearer(key)), 401)


async def test_key_input_is_validated(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    for body in (
        {"name": "k", "scopes": ["write"]},
        {"name": "k", "scopes": ["read", "admin"]},
        {"name": "k", "scopes": []},
        {"name": "k", "scopes": ["read", "read"]},
        {"name": "k", "expires_in_days": 0},
        {"name": "k", "expires_in_days": 100000},
        {"name": ""},
        {"scopes": ["read"]},
        {"name": "k", "key": "mhk_chosen"},
    ):
        response = await client.post("/api/me/api-keys", json=body, headers=admin.headers)
        assert_error(response, 422, "validation_error")
    assert_error(await client.delete("/api/me/api-keys/123", headers=admin.headers), 422)
