"""Sweeps over every route in the OpenAPI description: nothing private answers without auth,
every operation is named and typed, and garbage bodies get a 4xx envelope."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

# Routes anyone may call: they are how one gets credentials in the first place.
PUBLIC = {
    ("get", "/health"),
    ("get", "/metrics"),
    ("get", "/api/auth/status"),
    ("post", "/api/auth/onboarding"),
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
    ("post", "/api/auth/password-reset"),
    ("post", "/api/auth/password-reset/confirm"),
}


async def _operations(client: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = (await client.get("/api/openapi.json")).json()
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _fill(path: str) -> str:
    parts = []
    for part in path.split("/"):
        parts.append(str(uuid.uuid4()) if part.startswith("{") else part)
    return "/".join(parts)


async def test_every_private_route_requires_authentication(client: httpx.AsyncClient) -> None:
    checked = 0
    for method, path, _ in await _operations(client):
        if (method, path) in PUBLIC:
            continue
        response = await client.request(method.upper(), _fill(path), json={})
        assert response.status_code == 401, f"{method.upper()} {path} -> {response.status_code}"
        assert response.json()["error"]["code"] == "not_authenticated"
        checked += 1
    assert checked > 0


async def test_forged_bearer_is_rejected_everywhere(client: httpx.AsyncClient) -> None:
    forged = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}
    for method, path, _ in await _operations(client):
        if (method, path) in PUBLIC:
            continue
        response = await client.request(method.upper(), _fill(path), json={}, headers=forged)
        assert response.status_code == 401, f"{method.upper()} {path} -> {response.status_code}"


async def test_every_operation_is_named_and_typed(client: httpx.AsyncClient) -> None:
    seen: set[str] = set()
    for method, path, operation in await _operations(client):
        op_id = operation.get("operationId")
        assert op_id, f"{method} {path} has no operationId"
        assert op_id not in seen, f"operationId {op_id} is used twice"
        seen.add(op_id)
        success = {k: v for k, v in operation["responses"].items() if k.startswith("2")}
        assert success, f"{method} {path} documents no success response"
        for status, response in success.items():
            if status == "204" or path == "/metrics":
                continue
            content = response.get("content", {})
            # File routes (originals, images) type their body under its own media type.
            schema = next((c["schema"] for c in content.values() if c.get("schema")), None)
            assert schema, f"{method} {path} {status} has no response model"


@pytest.mark.parametrize(
    "body",
    [b"{", b"[1,2", b"\xff\xfe", b"null", b'"just a string"', b"{" * 5000],
)
async def test_garbage_bodies_get_a_4xx_envelope(
    client: httpx.AsyncClient, make_user: Any, body: bytes
) -> None:
    user = await make_user()
    for method, path, operation in await _operations(client):
        if method not in {"post", "put", "patch"} or "requestBody" not in operation:
            continue
        response = await client.request(
            method.upper(),
            _fill(path),
            content=body,
            headers={**user.headers, "Content-Type": "application/json"},
        )
        assert 400 <= response.status_code < 500, f"{method} {path} -> {response.status_code}"
        assert "error" in response.json()


async def test_oversized_body_is_refused(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    huge = b'{"display_name": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = await client.patch(
        "/api/me", content=huge, headers={**user.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
