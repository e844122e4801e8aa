"""The app starts on a real database and answers with its envelope, health and metrics."""

from __future__ import annotations

import httpx


async def test_health_reports_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    body = response.json()
    assert body["database"]["status"] == "ok"
    assert body["redis"]["status"] == "disabled"
    assert response.headers["x-request-id"]


async def test_unknown_route_uses_error_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["request_id"] == response.headers["x-request-id"]


async def test_metrics_exposes_requests(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "meadhall_http_requests_total" in response.text
    assert 'route="/health"' in response.text


async def test_openapi_has_operation_ids(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation.get("operationId"), f"{method} {path} has no operationId"
