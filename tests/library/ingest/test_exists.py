"""``POST /api/library/assets/exists``: which hashes the caller already has."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from meadhall.platform.runtime import Runtime
from tests.library.factories import make_asset
from tests.library.ingest.conftest import distinct_jpeg

URL = "/api/library/assets/exists"


async def test_reports_only_the_callers_own_assets(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    owner, stranger = await make_user(), await make_user()
    mine = await make_asset(runtime, owner_id=owner.id, data=distinct_jpeg(1))
    theirs = await make_asset(runtime, owner_id=stranger.id, data=distinct_jpeg(2))
    missing = hashlib.sha256(b"never uploaded").hexdigest()
    response = await client.post(
        URL,
        json={"sha256": [mine.sha256.upper(), theirs.sha256, missing, mine.sha256]},
        headers=owner.headers,
    )
    assert response.status_code == 200
    assert response.json() == {"existing": {mine.sha256: str(mine.id)}}
    empty = await client.post(URL, json={"sha256": []}, headers=owner.headers)
    assert empty.json() == {"existing": {}}


@pytest.mark.parametrize(
    "body",
    [
        {"sha256": ["abc"]},
        {"sha256": ["g" * 64]},
        {"sha256": ["a" * 65]},
        {"sha256": "a" * 64},
        {"sha256": ["a" * 64] * 1001},
        {"hashes": ["a" * 64]},
        {},
    ],
)
async def test_invalid_hashes_are_refused(
    client: httpx.AsyncClient, make_user: Any, body: dict[str, Any]
) -> None:
    user = await make_user()
    response = await client.post(URL, json=body, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_a_thousand_hashes_are_fine(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(1000)]
    response = await client.post(URL, json={"sha256": hashes}, headers=user.headers)
    assert response.status_code == 200 and response.json() == {"existing": {}}


async def test_needs_authentication(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json={"sha256": ["a" * 64]})
    assert response.status_code == 401
