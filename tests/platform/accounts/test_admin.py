"""Admin user management: list, create, enable/disable, promote/demote, last-admin guard."""

from __future__ import annotations

import httpx

from tests.platform.accounts.support import (
    PASSWORD,
    assert_error,
    login,
    onboard,
    register,
    unique_email,
)

UNKNOWN = "0190a0a0-0000-7000-8000-000000000000"


async def test_admin_routes_need_an_admin(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    player = await register(client, admin)
    client.cookies.clear()
    for method, path in (
        ("GET", "/api/admin/users"),
        ("POST", "/api/admin/users"),
        ("PATCH", f"/api/admin/users/{admin.id}"),
        ("DELETE", f"/api/admin/users/{admin.id}"),
    ):
        assert_error(await client.request(method, path, json={}), 401)
        assert_error(await client.request(method, path, json={}, headers=player.headers), 403)


async def test_list_is_paginated(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    for i in range(4):
        response = await client.post(
            "/api/admin/users",
            json={"email": f"p{i}@example.com", "password": PASSWORD, "display_name": f"P{i}"},
            headers=admin.headers,
        )
        assert response.status_code == 201
    page = (await client.get("/api/admin/users?limit=2&offset=1", headers=admin.headers)).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert [u["email"] for u in page["items"]] == ["p0@example.com", "p1@example.com"]
    assert "password_hash" not in page["items"][0]
    for query in ("limit=0", "limit=201", "offset=-1", "limit=abc"):
        assert_error(await client.get(f"/api/admin/users?{query}", headers=admin.headers), 422)


async def test_create_user_with_and_without_admin(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    email = unique_email("gm")
    created = await client.post(
        "/api/admin/users",
        json={"email": email, "password": PASSWORD, "display_name": "GM", "is_admin": True},
        headers=admin.headers,
    )
    assert created.status_code == 201 and created.json()["is_admin"] is True
    gm = await login(client, email)
    assert (await client.get("/api/invites", headers=gm.headers)).status_code == 200
    again = await client.post(
        "/api/admin/users",
        json={"email": email.upper(), "password": PASSWORD, "display_name": "GM"},
        headers=admin.headers,
    )
    assert_error(again, 409, "email_taken")


async def test_disable_ends_sessions_and_enable_restores_login(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    player = await register(client, admin)
    disabled = await client.patch(
        f"/api/admin/users/{player.id}", json={"is_active": False}, headers=admin.headers
    )
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert_error(await client.get("/api/me", headers=player.headers), 401)
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": player.refresh_token}), 401
    )
    enabled = await client.patch(
        f"/api/admin/users/{player.id}",
        json={"is_active": True, "display_name": "Back"},
        headers=admin.headers,
    )
    assert enabled.json()["is_active"] is True and enabled.json()["display_name"] == "Back"
    # Old tokens stay dead; a new login works.
    assert_error(await client.get("/api/me", headers=player.headers), 401)
    await login(client, player.email)


async def test_last_active_admin_is_protected(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    for body in ({"is_active": False}, {"is_admin": False}):
        response = await client.patch(
            f"/api/admin/users/{admin.id}", json=body, headers=admin.headers
        )
        assert_error(response, 409, "last_admin")
    # With a second admin, the first may step down.
    player = await register(client, admin)
    promoted = await client.patch(
        f"/api/admin/users/{player.id}", json={"is_admin": True}, headers=admin.headers
    )
    assert promoted.json()["is_admin"] is True
    demoted = await client.patch(
        f"/api/admin/users/{admin.id}", json={"is_admin": False}, headers=admin.headers
    )
    assert demoted.status_code == 200 and demoted.json()["is_admin"] is False
    # The former admin's token now lacks admin rights.
    assert_error(await client.get("/api/admin/users", headers=admin.headers), 403)
    new_admin = await login(client, player.email)
    last = await client.patch(
        f"/api/admin/users/{player.id}", json={"is_active": False}, headers=new_admin.headers
    )
    assert_error(last, 409, "last_admin")


async def test_unknown_users_and_bad_bodies(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    assert_error(
        await client.patch(
            f"/api/admin/users/{UNKNOWN}", json={"is_active": False}, headers=admin.headers
        ),
        404,
        "user_not_found",
    )
    assert_error(await client.patch("/api/admin/users/nope", json={}, headers=admin.headers), 422)
    for body in ({"is_active": "maybe"}, {"email": "x@example.com"}, {"display_name": ""}):
        response = await client.patch(
            f"/api/admin/users/{admin.id}", json=body, headers=admin.headers
        )
        assert_error(response, 422)
