"""Fixtures of the accounts tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI


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
