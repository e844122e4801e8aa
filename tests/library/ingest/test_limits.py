"""``GET /api/library/limits``: what the browser checks before sending a file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

URL = "/api/library/limits"


async def test_reports_the_running_settings(
    client: httpx.AsyncClient, make_user: Any, override_settings: Callable[..., None]
) -> None:
    override_settings(
        upload_max_bytes=5_000_000,
        upload_chunk_max_bytes=65_536,
        upload_max_files=7,
        upload_max_request_bytes=9_000_000,
        trash_retention_days=12,
    )
    user = await make_user()
    response = await client.get(URL, headers=user.headers)
    assert response.status_code == 200
    assert response.json() == {
        "upload_max_bytes": 5_000_000,
        "upload_chunk_max_bytes": 65_536,
        "upload_max_files": 7,
        "upload_max_request_bytes": 9_000_000,
        "trash_retention_days": 12,
    }


async def test_needs_authentication_and_only_reads(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    assert (await client.get(URL)).status_code == 401
    bad = await client.get(URL, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    user = await make_user()
    assert (await client.post(URL, json={}, headers=user.headers)).status_code == 405
