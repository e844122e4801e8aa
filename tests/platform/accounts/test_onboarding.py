"""Onboarding: the first account becomes admin, exactly once, even under a race."""

from __future__ import annotations

import asyncio

import httpx

from tests.platform.accounts.support import PASSWORD, assert_error, onboard, unique_email


async def test_status_before_and_after_onboarding(client: httpx.AsyncClient) -> None:
    status = (await client.get("/api/auth/status")).json()
    assert status == {"onboarded": False, "smtp_enabled": False, "registration": "invite"}
    admin = await onboard(client)
    assert admin.user["is_admin"] is True
    assert admin.user["is_active"] is True
    assert set(admin.user) == {"id", "email", "display_name", "is_admin", "is_active", "created_at"}
    assert (await client.get("/api/auth/status")).json()["onboarded"] is True
    me = await client.get("/api/me", headers=admin.headers)
    assert me.status_code == 200
    assert me.json()["id"] == admin.id


async def test_second_onboarding_is_refused(client: httpx.AsyncClient) -> None:
    await onboard(client)
    response = await client.post(
        "/api/auth/onboarding",
        json={"email": unique_email(), "password": PASSWORD, "display_name": "Intruder"},
    )
    assert_error(response, 409, "already_onboarded")


async def test_concurrent_onboarding_makes_one_admin(client: httpx.AsyncClient) -> None:
    async def attempt(i: int) -> httpx.Response:
        return await client.post(
            "/api/auth/onboarding",
            json={"email": f"first-{i}@example.com", "password": PASSWORD, "display_name": f"A{i}"},
        )

    responses = await asyncio.gather(*(attempt(i) for i in range(4)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409]


async def test_onboarding_validates_input(client: httpx.AsyncClient) -> None:
    cases = [
        {"email": "not-an-email", "password": PASSWORD, "display_name": "A"},
        {"email": "a@b..c", "password": PASSWORD, "display_name": "A"},
        {"email": ".a@example.com", "password": PASSWORD, "display_name": "A"},
        {"email": "a@example.com", "password": "short", "display_name": "A"},
        {"email": "a@example.com", "password": "x" * 257, "display_name": "A"},
        {"email": "a@example.com", "password": PASSWORD, "display_name": "   "},
        {"email": "a@example.com", "password": PASSWORD, "display_name": "x" * 101},
        {"email": "a@example.com", "password": PASSWORD, "display_name": "bad\u202ename"},
        {"email": "a@example.com", "password": PASSWORD},
        {"email": "a@example.com", "password": PASSWORD, "display_name": "A", "is_admin": True},
        {"email": ["a@example.com"], "password": PASSWORD, "display_name": "A"},
    ]
    for body in cases:
        assert_error(await client.post("/api/auth/onboarding", json=body), 422, "validation_error")
    same = {"email": "same@example.com", "password": "Same@Example.com", "display_name": "A"}
    assert_error(await client.post("/api/auth/onboarding", json=same), 422, "weak_password")
    assert (await client.get("/api/auth/status")).json()["onboarded"] is False


async def test_malformed_and_oversized_bodies(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json"}
    broken = await client.post("/api/auth/onboarding", content=b'{"email": ', headers=headers)
    assert assert_error(broken, 422, "validation_error")["message"] == "the body is not valid JSON"
    not_object = await client.post("/api/auth/login", content=b"[1, 2]", headers=headers)
    assert_error(not_object, 422)
    huge = b'{"email": "' + b"a" * (2 * 1024 * 1024) + b'@example.com"}'
    assert_error(await client.post("/api/auth/login", content=huge, headers=headers), 413)
    no_body = await client.post("/api/auth/login")
    assert_error(no_body, 422)


async def test_email_is_case_insensitive_and_normalised(client: httpx.AsyncClient) -> None:
    admin = await onboard(client, email="  Boss@EXAMPLE.com ")
    assert admin.email == "Boss@example.com"
    response = await client.post(
        "/api/auth/login", json={"email": "boss@example.COM", "password": PASSWORD}
    )
    assert response.status_code == 200
