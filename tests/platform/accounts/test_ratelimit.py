"""Rate limits on login, register and refresh: in memory, and shared through Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import redis.asyncio as redis
from asgi_lifespan import LifespanManager

from meadhall.app import create_app
from meadhall.platform.ratelimit import reset_rate_limits
from meadhall.platform.runtime import Runtime
from tests.conftest import REDIS_URL, make_settings
from tests.platform.accounts.support import PASSWORD, assert_error, onboard


async def test_login_is_limited_per_email_across_addresses(
    client: httpx.AsyncClient, client_at: Callable[[str], httpx.AsyncClient]
) -> None:
    admin = await onboard(client)
    body = {"email": admin.email, "password": "wrong"}
    for i in range(10):
        response = await client_at(f"10.1.0.{i}").post("/api/auth/login", json=body)
        assert response.status_code == 401
    # Even the right password is refused now, from yet another address.
    limited = await client_at("10.1.0.200").post(
        "/api/auth/login", json={"email": admin.email.upper(), "password": PASSWORD}
    )
    assert_error(limited, 429, "rate_limited")
    assert 0 < int(limited.headers["retry-after"]) <= 60


async def test_login_is_limited_per_address(
    client: httpx.AsyncClient, client_at: Callable[[str], httpx.AsyncClient]
) -> None:
    attacker = client_at("10.2.0.1")
    for i in range(10):
        response = await attacker.post(
            "/api/auth/login", json={"email": f"guess{i}@example.com", "password": "x"}
        )
        assert response.status_code == 401
    limited = await attacker.post(
        "/api/auth/login", json={"email": "another@example.com", "password": "x"}
    )
    assert_error(limited, 429)
    assert limited.headers["retry-after"]
    # Someone else is not affected.
    other = await client_at("10.2.0.2").post(
        "/api/auth/login", json={"email": "another@example.com", "password": "x"}
    )
    assert other.status_code == 401


async def test_register_and_refresh_are_limited(
    client_at: Callable[[str], httpx.AsyncClient],
) -> None:
    spammer = client_at("10.3.0.1")
    body = {
        "invite_code": "nope",
        "email": "s@example.com",
        "password": PASSWORD,
        "display_name": "S",
    }
    for _ in range(5):
        assert (await spammer.post("/api/auth/register", json=body)).status_code == 400
    assert_error(await spammer.post("/api/auth/register", json=body), 429)
    for _ in range(30):
        response = await spammer.post("/api/auth/refresh", json={"refresh_token": "nope"})
        assert response.status_code == 401
    assert_error(await spammer.post("/api/auth/refresh", json={"refresh_token": "nope"}), 429)


@asynccontextmanager
async def _redis_app(
    database_url: str, data_dir: Path, **overrides: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    settings = make_settings(database_url, data_dir, redis_url=REDIS_URL, **overrides)
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=application, client=("10.4.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, application.state.runtime


async def test_limits_are_shared_through_redis(database_url: str, tmp_path: Path) -> None:
    """Two processes (apps) on one Redis share the count of attempts."""
    email = f"shared-{secrets.token_hex(6)}@example.com"
    body = {"email": email, "password": "wrong"}
    async with (
        _redis_app(database_url, tmp_path / "a", rate_limit_login="4/minute") as (first, rt),
        _redis_app(database_url, tmp_path / "b", rate_limit_login="4/minute") as (second, _),
    ):
        try:
            assert (await first.post("/api/auth/login", json=body)).status_code == 401
            assert (await second.post("/api/auth/login", json=body)).status_code == 401
            assert (await first.post("/api/auth/login", json=body)).status_code == 401
            assert (await second.post("/api/auth/login", json=body)).status_code == 401
            limited = await first.post("/api/auth/login", json=body)
            assert_error(limited, 429, "rate_limited")
            assert int(limited.headers["retry-after"]) > 0
            assert_error(await second.post("/api/auth/login", json=body), 429)
            client = redis.Redis.from_url(REDIS_URL)
            try:
                keys = await client.keys(f"{rt.settings.redis_namespace}ratelimit:*{email}*")
                assert keys
            finally:
                await client.aclose()
        finally:
            await reset_rate_limits(rt)
