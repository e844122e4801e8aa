"""Invites: admin-only management, invite-only registration, atomic use counting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from meadhall.platform.runtime import Runtime
from tests.platform.accounts.support import (
    PASSWORD,
    assert_error,
    create_invite,
    onboard,
    register,
    set_invite_expiry,
    unique_email,
)


def _register_body(code: str, email: str | None = None) -> dict[str, str]:
    return {
        "invite_code": code,
        "email": email or unique_email(),
        "password": PASSWORD,
        "display_name": "Player",
    }


async def test_create_list_and_revoke(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await onboard(client)
    created = await create_invite(client, admin, max_uses=3, expires_in_hours=48, note="table")
    assert created["code"].startswith(created["code_prefix"])
    assert created["register_url"] == (
        f"{runtime.settings.base_url}/register?invite={created['code']}"
    )
    assert created["status"] == "active" and created["uses"] == 0 and created["max_uses"] == 3
    listed = (await client.get("/api/invites", headers=admin.headers)).json()["items"]
    assert [i["id"] for i in listed] == [created["id"]]
    assert "code" not in listed[0]
    assert created["code"] not in str(listed)

    response = await client.delete(f"/api/invites/{created['id']}", headers=admin.headers)
    assert response.status_code == 204
    listed = (await client.get("/api/invites", headers=admin.headers)).json()["items"]
    assert listed[0]["status"] == "revoked" and listed[0]["revoked_at"]
    assert_error(
        await client.post("/api/auth/register", json=_register_body(created["code"])),
        410,
        "invite_revoked",
    )
    assert_error(
        await client.delete(
            "/api/invites/0190a0a0-0000-7000-8000-000000000000", headers=admin.headers
        ),
        404,
    )
    assert_error(await client.delete("/api/invites/not-a-uuid", headers=admin.headers), 422)


async def test_invites_are_admin_only(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    player = await register(client, admin)
    invite = await create_invite(client, admin)
    for method, path in (
        ("POST", "/api/invites"),
        ("GET", "/api/invites"),
        ("DELETE", f"/api/invites/{invite['id']}"),
    ):
        client.cookies.clear()
        assert_error(await client.request(method, path, json={}), 401, "not_authenticated")
        assert_error(
            await client.request(method, path, json={}, headers=player.headers), 403, "forbidden"
        )


async def test_invite_input_is_validated(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    for body in (
        {"max_uses": 0},
        {"max_uses": 1001},
        {"max_uses": "many"},
        {"expires_in_hours": 0},
        {"expires_in_hours": 24 * 367},
        {"note": "x" * 201},
        {"code": "chosen"},
    ):
        response = await client.post("/api/invites", json=body, headers=admin.headers)
        assert_error(response, 422, "validation_error")


async def test_registration_needs_a_valid_invite(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await onboard(client)
    missing = {k: v for k, v in _register_body("x").items() if k != "invite_code"}
    assert_error(await client.post("/api/auth/register", json=missing), 422)
    assert_error(
        await client.post("/api/auth/register", json=_register_body("made-up-code")),
        400,
        "invite_invalid",
    )

    expired = await create_invite(client, admin)
    await set_invite_expiry(runtime, expired["id"], datetime.now(UTC) - timedelta(minutes=1))
    assert_error(
        await client.post("/api/auth/register", json=_register_body(expired["code"])),
        410,
        "invite_expired",
    )

    single = await create_invite(client, admin)
    first = await client.post("/api/auth/register", json=_register_body(single["code"]))
    assert first.status_code == 201
    assert first.json()["user"]["is_admin"] is False
    assert_error(
        await client.post("/api/auth/register", json=_register_body(single["code"])),
        410,
        "invite_used_up",
    )


async def test_failed_registration_does_not_spend_the_invite(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    invite = await create_invite(client, admin)
    taken = await client.post(
        "/api/auth/register", json=_register_body(invite["code"], email=admin.email.upper())
    )
    assert_error(taken, 409, "email_taken")
    weak = {**_register_body(invite["code"]), "password": "short"}
    assert_error(await client.post("/api/auth/register", json=weak), 422)
    ok = await client.post("/api/auth/register", json=_register_body(invite["code"]))
    assert ok.status_code == 201
    listed = (await client.get("/api/invites", headers=admin.headers)).json()["items"]
    assert listed[0]["uses"] == 1 and listed[0]["status"] == "used_up"


async def test_single_use_invite_under_concurrency(
    client: httpx.AsyncClient, client_at: Callable[[str], httpx.AsyncClient]
) -> None:
    admin = await onboard(client)
    invite = await create_invite(client, admin)
    responses = await asyncio.gather(
        *(
            client_at(f"10.0.0.{i}").post("/api/auth/register", json=_register_body(invite["code"]))
            for i in range(5)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 410, 410, 410, 410]
    users = (await client.get("/api/admin/users", headers=admin.headers)).json()
    assert users["total"] == 2


async def test_multi_use_invite_counts_every_use(
    client: httpx.AsyncClient, client_at: Callable[[str], httpx.AsyncClient]
) -> None:
    admin = await onboard(client)
    invite = await create_invite(client, admin, max_uses=3)
    responses = await asyncio.gather(
        *(
            client_at(f"10.0.0.{i}").post("/api/auth/register", json=_register_body(invite["code"]))
            for i in range(5)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 201, 201, 410, 410]
    listed = (await client.get("/api/invites", headers=admin.headers)).json()["items"]
    assert listed[0]["uses"] == 3


async def test_same_email_racing_on_one_invite(
    client: httpx.AsyncClient, client_at: Callable[[str], httpx.AsyncClient]
) -> None:
    admin = await onboard(client)
    invite = await create_invite(client, admin, max_uses=5)
    email = unique_email("twin")
    responses = await asyncio.gather(
        *(
            client_at(f"10.0.1.{i}").post(
                "/api/auth/register", json=_register_body(invite["code"], email=email)
            )
            for i in range(3)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409]
    listed = (await client.get("/api/invites", headers=admin.headers)).json()["items"]
    # The losers' uses were rolled back with their transaction.
    assert listed[0]["uses"] == 1
