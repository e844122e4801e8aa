"""The own account: read, rename (with an event), change the password."""

from __future__ import annotations

import asyncio

import httpx

from meadhall.platform.runtime import Runtime
from tests.platform.accounts.support import PASSWORD, assert_error, login, onboard, register


async def test_me_requires_authentication(client: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", "/api/me"),
        ("PATCH", "/api/me"),
        ("DELETE", "/api/me"),
        ("POST", "/api/me/password"),
        ("GET", "/api/me/api-keys"),
        ("POST", "/api/me/api-keys"),
        ("DELETE", "/api/me/api-keys/0190a0a0-0000-7000-8000-000000000000"),
    ):
        assert_error(await client.request(method, path, json={}), 401, "not_authenticated")


async def test_rename_publishes_user_updated(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await onboard(client)
    subscription = runtime.bus.subscribe([f"user:{admin.id}"])
    try:
        response = await client.patch(
            "/api/me", json={"display_name": "  Lady   Freya "}, headers=admin.headers
        )
        assert response.status_code == 200
        assert response.json()["display_name"] == "Lady Freya"
        event = await asyncio.wait_for(subscription.next(), 5)
    finally:
        subscription.close()
    assert event.type == "user.updated"  # type: ignore[union-attr]
    assert event.data["display_name"] == "Lady Freya"  # type: ignore[union-attr]
    assert event.data["id"] == admin.id  # type: ignore[union-attr]
    assert (await client.get("/api/me", headers=admin.headers)).json()[
        "display_name"
    ] == "Lady Freya"


async def test_update_rejects_bad_input(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    for body in (
        {"display_name": ""},
        {"display_name": "x" * 101},
        {"display_name": "a\x00b"},
        {"is_admin": True},
        {"email": "new@example.com"},
    ):
        assert_error(await client.patch("/api/me", json=body, headers=admin.headers), 422)


async def test_password_change_ends_other_sessions(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    player = await register(client, admin)
    elsewhere = await login(client, player.email)
    response = await client.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "a much better secret"},
        headers=player.headers,
    )
    assert response.status_code == 200, response.text
    fresh = response.json()
    # Old access tokens and refresh tokens are dead; the new pair works.
    assert_error(await client.get("/api/me", headers=player.headers), 401)
    assert_error(await client.get("/api/me", headers=elsewhere.headers), 401)
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": elsewhere.refresh_token}),
        401,
    )
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    ).status_code == 200
    assert_error(
        await client.post("/api/auth/login", json={"email": player.email, "password": PASSWORD}),
        401,
    )
    await login(client, player.email, "a much better secret")


async def test_password_change_rules(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    wrong = await client.post(
        "/api/me/password",
        json={"current_password": "not it", "new_password": "a much better secret"},
        headers=admin.headers,
    )
    assert_error(wrong, 403, "wrong_password")
    for new, status in (("short", 422), ("y" * 257, 422), (admin.email.upper(), 422)):
        response = await client.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": new},
            headers=admin.headers,
        )
        assert_error(response, status)
    missing = await client.post(
        "/api/me/password", json={"new_password": "a much better secret"}, headers=admin.headers
    )
    assert_error(missing, 422)
    # Nothing changed: the old token still works.
    assert (await client.get("/api/me", headers=admin.headers)).status_code == 200
