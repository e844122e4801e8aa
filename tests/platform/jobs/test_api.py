"""``/api/jobs``: what each caller may see and do, and how bad requests are refused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from meadhall.platform.runtime import Runtime
from tests.platform.jobs.conftest import RecordingBus, WorkerFactory, enqueue_job, wait_for

MakeUser = Callable[..., Any]


async def test_owner_sees_own_jobs_with_every_field(
    client: httpx.AsyncClient, runtime: Runtime, make_user: MakeUser
) -> None:
    user = await make_user()
    job = await enqueue_job(
        runtime, kind="test.sleep", payload={"seconds": 1}, owner_id=user.id, priority=4
    )
    response = await client.get("/api/jobs", headers=user.headers)
    assert response.status_code == 200
    page = response.json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    [item] = page["items"]
    assert item["id"] == str(job.id)
    assert item["owner_id"] == str(user.id)
    for name, value in {
        "kind": "test.sleep",
        "queue": "default",
        "status": "queued",
        "priority": 4,
        "attempts": 0,
        "max_attempts": 3,
        "progress": 0.0,
        "last_error": None,
        "payload": {"seconds": 1},
    }.items():
        assert item[name] == value, name
    for name in ("created_at", "updated_at", "started_at", "finished_at", "scheduled_at"):
        assert name in item

    detail = await client.get(f"/api/jobs/{job.id}", headers=user.headers)
    assert detail.status_code == 200
    assert detail.json()["attempts_history"] == []


async def test_list_is_newest_first_filtered_and_paginated(
    client: httpx.AsyncClient, runtime: Runtime, make_user: MakeUser
) -> None:
    user = await make_user()
    ids = [
        (await enqueue_job(runtime, kind=kind, owner_id=user.id)).id
        for kind in ["test.sleep", "test.ml", "test.sleep", "test.sleep"]
    ]
    page = (await client.get("/api/jobs?limit=2", headers=user.headers)).json()
    assert page["total"] == 4
    assert [item["id"] for item in page["items"]] == [str(ids[3]), str(ids[2])]
    page = (await client.get("/api/jobs?limit=2&offset=2", headers=user.headers)).json()
    assert [item["id"] for item in page["items"]] == [str(ids[1]), str(ids[0])]

    ml = (await client.get("/api/jobs?kind=test.ml", headers=user.headers)).json()
    assert [item["id"] for item in ml["items"]] == [str(ids[1])]
    by_queue = (await client.get("/api/jobs?queue=ml", headers=user.headers)).json()
    assert by_queue["total"] == 1
    running = (await client.get("/api/jobs?status=running", headers=user.headers)).json()
    assert running == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_other_peoples_jobs_are_invisible(
    client: httpx.AsyncClient, runtime: Runtime, make_user: MakeUser
) -> None:
    alice, bob = await make_user(), await make_user()
    admin = await make_user(is_admin=True)
    alices = await enqueue_job(runtime, kind="test.sleep", owner_id=alice.id)
    system = await enqueue_job(runtime, kind="test.sleep")

    assert (await client.get("/api/jobs", headers=bob.headers)).json()["total"] == 0
    for job_id in (alices.id, system.id):
        for method, path in [
            ("GET", f"/api/jobs/{job_id}"),
            ("POST", f"/api/jobs/{job_id}/cancel"),
            ("POST", f"/api/jobs/{job_id}/retry"),
        ]:
            response = await client.request(method, path, headers=bob.headers)
            assert response.status_code == 404, (method, path)
            assert response.json()["error"]["code"] == "job_not_found"
    # A job that does not exist answers the same.
    missing = await client.get(f"/api/jobs/{uuid.uuid4()}", headers=bob.headers)
    assert missing.status_code == 404

    everything = (await client.get("/api/jobs", headers=admin.headers)).json()
    assert {item["id"] for item in everything["items"]} == {str(alices.id), str(system.id)}
    only_alice = (await client.get(f"/api/jobs?owner_id={alice.id}", headers=admin.headers)).json()
    assert [item["id"] for item in only_alice["items"]] == [str(alices.id)]
    assert (await client.get(f"/api/jobs/{system.id}", headers=admin.headers)).status_code == 200

    spying = await client.get(f"/api/jobs?owner_id={alice.id}", headers=bob.headers)
    assert spying.status_code == 403
    own = await client.get(f"/api/jobs?owner_id={bob.id}", headers=bob.headers)
    assert own.status_code == 200


async def test_anonymous_callers_are_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    job = await enqueue_job(runtime, kind="test.sleep")
    for method, path in [
        ("GET", "/api/jobs"),
        ("GET", f"/api/jobs/{job.id}"),
        ("POST", f"/api/jobs/{job.id}/cancel"),
        ("POST", f"/api/jobs/{job.id}/retry"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "not_authenticated"
    forged = await client.get("/api/jobs", headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/jobs/not-a-uuid",
        "/api/jobs/1",
        "/api/jobs/%27%3B%20drop%20table%20jobs%3B--",
        "/api/jobs?status=exploded",
        "/api/jobs?limit=0",
        "/api/jobs?limit=100000",
        "/api/jobs?offset=-1",
        "/api/jobs?kind=%27%3B%20drop%20table%20jobs%3B--",
        "/api/jobs?kind=" + "a" * 101,
        "/api/jobs?queue=UPPER",
        "/api/jobs?owner_id=nobody",
    ],
)
async def test_malformed_requests_are_422(
    client: httpx.AsyncClient, make_user: MakeUser, path: str
) -> None:
    user = await make_user()
    response = await client.get(path, headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_malformed_ids_on_actions_are_422(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user()
    for action in ("cancel", "retry"):
        response = await client.post(f"/api/jobs/xyz/{action}", headers=user.headers)
        assert response.status_code == 422


async def test_cancel_a_queued_job(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_user: MakeUser,
    recording_bus: RecordingBus,
    worker: WorkerFactory,
) -> None:
    user = await make_user()
    job = await enqueue_job(runtime, kind="test.sleep", owner_id=user.id)
    response = await client.post(f"/api/jobs/{job.id}/cancel", headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["finished_at"] is not None and body["cancel_requested_at"] is not None
    async with runtime.db.sessionmaker() as session:
        delivery = await session.scalar(
            text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"),
            {"id": job.procrastinate_job_id},
        )
    assert delivery == "cancelled"
    assert recording_bus.of(f"jobs:{user.id}")[-1]["status"] == "cancelled"

    again = await client.post(f"/api/jobs/{job.id}/cancel", headers=user.headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "job_state_conflict"

    # A worker never runs it.
    async with worker():
        await wait_for(runtime, job.id, "cancelled")
        detail = (await client.get(f"/api/jobs/{job.id}", headers=user.headers)).json()
    assert detail["attempts_history"] == []


async def test_cancel_a_running_job_through_the_api(
    client: httpx.AsyncClient, runtime: Runtime, make_user: MakeUser, worker: WorkerFactory
) -> None:
    user = await make_user()
    job = await enqueue_job(
        runtime, kind="test.sleep", payload={"seconds": 20, "steps": 40}, owner_id=user.id
    )
    async with worker():
        await wait_for(runtime, job.id, "running")
        response = await client.post(f"/api/jobs/{job.id}/cancel", headers=user.headers)
        assert response.status_code == 200
        assert response.json()["status"] == "running"
        assert response.json()["cancel_requested_at"] is not None
        await wait_for(runtime, job.id, "cancelled", within=10)
    detail = (await client.get(f"/api/jobs/{job.id}", headers=user.headers)).json()
    assert detail["status"] == "cancelled"
    assert [a["outcome"] for a in detail["attempts_history"]] == ["cancelled"]


async def test_manual_retry_of_a_failed_job(
    client: httpx.AsyncClient, runtime: Runtime, make_user: MakeUser, worker: WorkerFactory
) -> None:
    user = await make_user()
    job = await enqueue_job(runtime, kind="test.flaky", payload={"fail_times": 2}, owner_id=user.id)
    async with worker():
        failed = await wait_for(runtime, job.id)
        assert failed.status == "failed" and failed.attempts == 2

        not_yet = await client.post(f"/api/jobs/{job.id}/cancel", headers=user.headers)
        assert not_yet.status_code == 409

        response = await client.post(f"/api/jobs/{job.id}/retry", headers=user.headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["attempts"], body["finished_at"]) == ("queued", 0, None)
        await wait_for(runtime, job.id, "succeeded")

    detail = (await client.get(f"/api/jobs/{job.id}", headers=user.headers)).json()
    assert detail["attempts"] == 1
    history = detail["attempts_history"]
    assert [(a["number"], a["outcome"]) for a in history] == [
        (1, "failed"),
        (2, "failed"),
        (3, "succeeded"),
    ]
    assert "flaky failure 2" in history[1]["error"]

    done = await client.post(f"/api/jobs/{job.id}/retry", headers=user.headers)
    assert done.status_code == 409


async def test_retry_refused_while_an_identical_job_is_pending(
    client: httpx.AsyncClient, runtime: Runtime, make_user: MakeUser
) -> None:
    admin = await make_user(is_admin=True)
    first = await enqueue_job(runtime, kind="test.sleep", dedup_key="same")
    cancelled = await client.post(f"/api/jobs/{first.id}/cancel", headers=admin.headers)
    assert cancelled.status_code == 200
    await enqueue_job(runtime, kind="test.sleep", dedup_key="same")
    response = await client.post(f"/api/jobs/{first.id}/retry", headers=admin.headers)
    assert response.status_code == 409
    assert "dedup" in response.json()["error"]["message"]


async def test_metrics_count_jobs_by_status(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await enqueue_job(runtime, kind="test.sleep")
    await enqueue_job(runtime, kind="test.sleep")
    metrics = (await client.get("/metrics")).text
    assert 'meadhall_jobs{status="queued"} 2.0' in metrics


async def test_openapi_documents_the_job_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    operations = {
        op["operationId"]
        for path, item in spec["paths"].items()
        if path.startswith("/api/jobs")
        for op in item.values()
    }
    assert operations == {"list_jobs", "get_job", "cancel_job", "retry_job"}


async def test_health_sees_a_live_worker(client: httpx.AsyncClient, worker: WorkerFactory) -> None:
    before = (await client.get("/health")).json()
    assert before["job_workers"]["status"] == "error"
    assert before["status"] == "degraded"
    async with worker():
        # The worker registers itself as it starts running, just after the context opens.
        for _ in range(100):
            health = (await client.get("/health")).json()
            if health["job_workers"]["status"] == "ok":
                break
            await asyncio.sleep(0.05)
    assert health["job_workers"]["status"] == "ok"
    assert health["status"] == "ok"
