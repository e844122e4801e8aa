"""Helpers of the album tests: create albums, share them, add assets through the API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

ALBUMS = "/api/library/albums"


def album_url(album_id: str, *rest: str) -> str:
    return "/".join([ALBUMS, album_id, *rest])


async def create_album(
    client: httpx.AsyncClient, user: Any, name: str = "Campaign", **fields: Any
) -> dict[str, Any]:
    response = await client.post(ALBUMS, json={"name": name, **fields}, headers=user.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def share(
    client: httpx.AsyncClient, owner: Any, album_id: str, member: Any, role: str
) -> dict[str, Any]:
    response = await client.put(
        album_url(album_id, "members", str(member.id)), json={"role": role}, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def add(
    client: httpx.AsyncClient, user: Any, album_id: str, *asset_ids: uuid.UUID
) -> dict[str, Any]:
    response = await client.post(
        album_url(album_id, "assets"),
        json={"asset_ids": [str(a) for a in asset_ids]},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed_ids(client: httpx.AsyncClient, user: Any, album_id: str) -> list[str]:
    response = await client.get(album_url(album_id, "assets"), headers=user.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]
