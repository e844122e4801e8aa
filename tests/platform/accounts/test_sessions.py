"""Login, access tokens, refresh rotation with reuse detection, logout, cookies and CSRF."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from argon2 import PasswordHasher
from sqlalchemy import select, update

from meadhall.platform.accounts.models import RefreshToken, User
from meadhall.platform.accounts.security import (
    JWT_ALGORITHM,
    JWT_AUDIENCE,
    create_access_token,
    hash_secret,
)
from meadhall.platform.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.platform.accounts.support import (
    PASSWORD,
    assert_error,
    login,
    onboard,
    register,
)


async def test_login_returns_tokens_and_sets_cookies(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await onboard(client)
    response = await client.post(
        "/api/auth/login", json={"email": admin.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == runtime.settings.access_token_minutes * 60
    assert body["user"]["id"] == admin.id
    cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
    assert set(cookies) == {"meadhall_access", "meadhall_refresh", "meadhall_csrf"}
    assert "httponly" in cookies["meadhall_access"]
    assert "samesite=lax" in cookies["meadhall_access"]
    assert "path=/api/auth" in cookies["meadhall_refresh"]
    assert "httponly" in cookies["meadhall_refresh"]
    assert "httponly" not in cookies["meadhall_csrf"]
    # The test server's public URL is http, so cookies are not Secure.
    assert "secure" not in cookies["meadhall_access"]
    async with runtime.db.sessionmaker() as session:
        user = await session.get(User, uuid.UUID(admin.id))
        assert user is not None and user.last_login_at is not None


async def test_login_failures_do_not_tell_which_part_was_wrong(
    client: httpx.AsyncClient,
) -> None:
    admin = await onboard(client)
    wrong = await client.post("/api/auth/login", json={"email": admin.email, "password": "nope"})
    unknown = await client.post(
        "/api/auth/login", json={"email": "ghost@example.com", "password": PASSWORD}
    )
    assert assert_error(wrong, 401, "invalid_credentials") == {
        **assert_error(unknown, 401, "invalid_credentials"),
        "request_id": wrong.json()["error"]["request_id"],
    }
    assert "set-cookie" not in wrong.headers


async def test_disabled_user_cannot_log_in_or_refresh(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    player = await register(client, admin)
    response = await client.patch(
        f"/api/admin/users/{player.id}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 200
    assert_error(
        await client.post("/api/auth/login", json={"email": player.email, "password": PASSWORD}),
        403,
        "account_disabled",
    )
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": player.refresh_token}), 401
    )
    assert_error(await client.get("/api/me", headers=player.headers), 401)


async def test_refresh_rotates_within_the_family(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await onboard(client)
    first = await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert first.status_code == 200, first.text
    new = first.json()
    assert new["refresh_token"] != admin.refresh_token
    assert (
        await client.get("/api/me", headers={"Authorization": f"Bearer {new['access_token']}"})
    ).status_code == 200
    async with runtime.db.sessionmaker() as session:
        old = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == hash_secret(admin.refresh_token))
        )
        rotated = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == hash_secret(new["refresh_token"]))
        )
    assert old is not None and rotated is not None
    assert old.used_at is not None
    assert rotated.family_id == old.family_id
    assert rotated.used_at is None


async def test_reused_refresh_token_revokes_the_family(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await onboard(client)
    other_session = await login(client, admin.email)
    rotated = (
        await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    ).json()
    await _age_spent_tokens(runtime, admin.id, seconds=60)
    # A thief replays the spent token: the whole chain dies, including the legitimate one.
    reuse = await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert_error(reuse, 401, "refresh_token_reused")
    after = await client.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert_error(after, 401, "invalid_refresh_token")
    async with runtime.db.sessionmaker() as session:
        family = (
            await session.scalars(
                select(RefreshToken).where(RefreshToken.user_id == uuid.UUID(admin.id))
            )
        ).all()
    revoked = [t for t in family if t.revoked_at is not None]
    assert len(revoked) == 2
    # Another login of the same user is another family and keeps working.
    ok = await client.post("/api/auth/refresh", json={"refresh_token": other_session.refresh_token})
    assert ok.status_code == 200


async def _age_spent_tokens(runtime: Runtime, user_id: str, *, seconds: int) -> None:
    """Move the spend time of the user's spent refresh tokens ``seconds`` into the past."""
    async with runtime.db.sessionmaker() as session, session.begin():
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == uuid.UUID(user_id), RefreshToken.used_at.is_not(None))
            .values(used_at=RefreshToken.used_at - timedelta(seconds=seconds))
        )


async def test_a_lost_refresh_response_may_be_retried_at_once(client: httpx.AsyncClient) -> None:
    """A page left mid-refresh (or two tabs at once) retries the spent token within seconds:
    that is the owner, not a thief, so a new pair is issued and the session lives on."""
    admin = await onboard(client)
    first = await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert first.status_code == 200
    retry = await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert retry.status_code == 200, retry.text
    kept = retry.json()["refresh_token"]
    assert kept != first.json()["refresh_token"]
    # The retried pair carries on the chain.
    onward = await client.post("/api/auth/refresh", json={"refresh_token": kept})
    assert onward.status_code == 200
    # Once the chain has moved on, the old token is a replay even inside the grace time.
    replay = await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert_error(replay, 401, "refresh_token_reused")
    dead = await client.post(
        "/api/auth/refresh", json={"refresh_token": onward.json()["refresh_token"]}
    )
    assert_error(dead, 401, "invalid_refresh_token")


async def test_bad_refresh_tokens(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await onboard(client)
    client.cookies.clear()
    assert_error(await client.post("/api/auth/refresh", json={}), 401, "invalid_refresh_token")
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": "made-up"}),
        401,
        "invalid_refresh_token",
    )
    # The access token is not a refresh token, and the refresh token is not an access token.
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": admin.access_token}), 401
    )
    assert_error(
        await client.get("/api/me", headers={"Authorization": f"Bearer {admin.refresh_token}"}),
        401,
    )
    assert_error(await client.post("/api/auth/refresh", json={"refresh_token": "x" * 513}), 422)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == hash_secret(admin.refresh_token))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token}),
        401,
        "invalid_refresh_token",
    )


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_forged_and_expired_access_tokens_are_rejected(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    user = await make_user()
    now = datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "ver": 0,
        "typ": "access",
        "aud": JWT_AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    good = jwt.encode(claims, TEST_SECRET, algorithm=JWT_ALGORITHM)
    assert (
        await client.get("/api/me", headers={"Authorization": f"Bearer {good}"})
    ).status_code == 200

    header, payload, signature = good.split(".")
    tampered_payload = _b64({**claims, "sub": str(uuid.uuid4()), "iat": 0, "exp": 2**33})
    forged = {
        "wrong key": jwt.encode(claims, "another-secret-key-" + "y" * 32, algorithm=JWT_ALGORITHM),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "expired": jwt.encode(
            {**claims, "exp": now - timedelta(seconds=5)}, TEST_SECRET, algorithm=JWT_ALGORITHM
        ),
        "wrong type": jwt.encode(
            {**claims, "typ": "refresh"}, TEST_SECRET, algorithm=JWT_ALGORITHM
        ),
        "wrong audience": jwt.encode(
            {**claims, "aud": "other"}, TEST_SECRET, algorithm=JWT_ALGORITHM
        ),
        "old version": jwt.encode({**claims, "ver": -1}, TEST_SECRET, algorithm=JWT_ALGORITHM),
        "garbage": "not.a.token",
    }
    for name, token in forged.items():
        response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "not_authenticated", name
    for header_value in ("Basic abc", "Bearer", "Token x"):
        assert_error(await client.get("/api/me", headers={"Authorization": header_value}), 401)


async def test_expired_token_from_the_issuer(
    client: httpx.AsyncClient, make_user: Callable[..., Any], runtime: Runtime
) -> None:
    user = await make_user()
    token, _ = create_access_token(
        key=runtime.settings.signing_key(), user_id=user.id, token_version=0, minutes=-1
    )
    assert_error(await client.get("/api/me", headers={"Authorization": f"Bearer {token}"}), 401)


async def test_logout_revokes_the_session_and_clears_cookies(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    response = await client.post("/api/auth/logout", json={"refresh_token": admin.refresh_token})
    assert response.status_code == 204
    cleared = response.headers.get_list("set-cookie")
    assert {c.split("=", 1)[0] for c in cleared} == {
        "meadhall_access",
        "meadhall_refresh",
        "meadhall_csrf",
    }
    assert all("max-age=0" in c.lower() for c in cleared)
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token}), 401
    )
    # Logging out twice is harmless; without any token there is nothing to end.
    again = await client.post("/api/auth/logout", json={"refresh_token": admin.refresh_token})
    assert again.status_code == 204
    client.cookies.clear()
    assert_error(await client.post("/api/auth/logout"), 401, "invalid_refresh_token")


async def test_cookie_session_needs_csrf_header_to_change_things(
    client: httpx.AsyncClient,
) -> None:
    admin = await onboard(client)
    await client.post("/api/auth/login", json={"email": admin.email, "password": PASSWORD})
    csrf = client.cookies["meadhall_csrf"]
    me = await client.get("/api/me")
    assert me.status_code == 200 and me.json()["id"] == admin.id
    assert_error(await client.patch("/api/me", json={"display_name": "Cookie"}), 403, "forbidden")
    assert_error(
        await client.patch(
            "/api/me", json={"display_name": "Cookie"}, headers={"X-CSRF-Token": "wrong"}
        ),
        403,
    )
    ok = await client.patch(
        "/api/me", json={"display_name": "Cookie"}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 200 and ok.json()["display_name"] == "Cookie"
    assert_error(await client.post("/api/me/api-keys", json={"name": "k"}), 403)
    assert_error(await client.request("DELETE", "/api/me", json={"password": PASSWORD}), 403)

    # The refresh cookie works too (path /api/auth), with the same CSRF rule.
    assert_error(await client.post("/api/auth/refresh"), 403)
    refreshed = await client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert refreshed.status_code == 200, refreshed.text
    new_csrf = client.cookies["meadhall_csrf"]
    assert new_csrf != csrf
    out = await client.post("/api/auth/logout", headers={"X-CSRF-Token": new_csrf})
    assert out.status_code == 204
    assert "meadhall_access" not in client.cookies
    assert_error(await client.get("/api/me"), 401)


async def test_password_is_rehashed_when_parameters_change(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await onboard(client)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(User).where(User.id == uuid.UUID(admin.id)).values(password_hash=weak)
        )
    await login(client, admin.email)
    async with runtime.db.sessionmaker() as session:
        stored = await session.scalar(
            select(User.password_hash).where(User.id == uuid.UUID(admin.id))
        )
    assert stored is not None and stored != weak
    assert stored.startswith("$argon2id$")
    await login(client, admin.email)
