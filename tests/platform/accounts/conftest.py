"""Fixtures of the accounts tests: rate limits start from zero in every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from meadhall.platform.ratelimit import reset_rate_limits
from meadhall.platform.runtime import Runtime


@pytest.fixture(autouse=True)
async def _fresh_rate_limits(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Tests share one app, so they must not inherit each other's login attempts."""
    if "client" in request.fixturenames or "runtime" in request.fixturenames:
        runtime: Runtime = request.getfixturevalue("runtime")
        await reset_rate_limits(runtime)
    yield


@pytest.fixture
async def client_at(app: FastAPI) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """Clients that reach the shared app from a given IP address (for per-address limits)."""
    opened: list[httpx.AsyncClient] = []

    def make(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        c = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        opened.append(c)
        return c

    yield make
    for c in opened:
        await c.aclose()
