"""``GET /api/library/usage``: storage per user, split by uploaded and indexed originals."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx

from meadhall.platform.jobs.worker import running_worker
from meadhall.platform.runtime import Runtime
from tests.library.ingest.conftest import distinct_jpeg, wait_for_job, wait_until_idle

USAGE = "/api/library/usage"
ZERO = {
    "assets": 0,
    "uploaded_assets": 0,
    "uploaded_bytes": 0,
    "indexed_assets": 0,
    "indexed_bytes": 0,
    "trashed_assets": 0,
    "trashed_bytes": 0,
}


async def _upload(client: httpx.AsyncClient, user: Any, *files: bytes) -> list[str]:
    response = await client.post(
        "/api/library/assets",
        files=[("files", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(files)],
        headers=user.headers,
    )
    assert response.status_code in (200, 201, 207), response.text
    return [item["asset"]["id"] for item in response.json()["files"]]


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ZERO}


async def test_usage_counts_uploads_indexed_folders_and_trash(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime, tmp_path: Path
) -> None:
    admin, owner, idle = (
        await make_user(is_admin=True),
        await make_user(),
        await make_user(),
    )
    one, two, three = distinct_jpeg(1), distinct_jpeg(2, (128, 96)), distinct_jpeg(3)
    uploaded = await _upload(client, owner, one, two)
    await _upload(client, admin, three)

    # A folder indexed in place for the owner: counted, but apart from what Meadhall stores.
    folder = tmp_path / "table-photos"
    folder.mkdir()
    indexed = [distinct_jpeg(10), distinct_jpeg(11, (96, 64))]
    for index, data in enumerate(indexed):
        (folder / f"{index}.jpg").write_bytes(data)
    created = await client.post(
        "/api/library/folders",
        json={"path": str(folder), "owner_id": str(owner.id), "watch": False},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    async with running_worker(runtime, concurrency=2):
        scan = await wait_for_job(runtime, "library.scan_folder")
        await wait_until_idle(runtime)
    assert scan.status == "succeeded", scan.last_error

    trashed = await client.delete(f"/api/library/assets/{uploaded[1]}", headers=owner.headers)
    assert trashed.status_code in (200, 204), trashed.text

    response = await client.get(USAGE, headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    rows = {row["user_id"]: row for row in body["users"]}
    assert set(rows) == {str(admin.id), str(owner.id), str(idle.id)}
    assert _figures(rows[str(owner.id)]) == {
        "assets": 4,
        "uploaded_assets": 2,
        "uploaded_bytes": len(one) + len(two),
        "indexed_assets": 2,
        "indexed_bytes": sum(map(len, indexed)),
        "trashed_assets": 1,
        "trashed_bytes": len(two),
    }
    assert _figures(rows[str(admin.id)]) == {
        **ZERO,
        "assets": 1,
        "uploaded_assets": 1,
        "uploaded_bytes": len(three),
    }
    # Someone without assets is listed with zeros, last (largest first).
    assert _figures(rows[str(idle.id)]) == ZERO
    assert body["users"][0]["user_id"] == str(owner.id)
    assert body["users"][-1]["user_id"] == str(idle.id)
    assert rows[str(owner.id)]["email"] == owner.email
    assert rows[str(owner.id)]["quota_bytes"] is None
    assert body["totals"] == {
        "assets": 5,
        "uploaded_assets": 3,
        "uploaded_bytes": len(one) + len(two) + len(three),
        "indexed_assets": 2,
        "indexed_bytes": sum(map(len, indexed)),
        "trashed_assets": 1,
        "trashed_bytes": len(two),
    }
    disk = shutil.disk_usage(runtime.settings.resolved_data_dir)
    assert body["disk"]["total_bytes"] == disk.total
    assert 0 <= body["disk"]["free_bytes"] <= body["disk"]["total_bytes"]

    # Emptying the trash gives the bytes back.
    emptied = await client.post("/api/library/trash/empty", headers=owner.headers)
    assert emptied.status_code in (200, 202, 204), emptied.text
    async with running_worker(runtime, concurrency=1):
        await wait_until_idle(runtime)
    again = (await client.get(USAGE, headers=admin.headers)).json()
    after = {row["user_id"]: row for row in again["users"]}
    assert after[str(owner.id)]["trashed_assets"] == 0
    assert after[str(owner.id)]["uploaded_bytes"] == len(one)


async def test_usage_is_for_admins_only(client: httpx.AsyncClient, make_user: Any) -> None:
    assert (await client.get(USAGE)).status_code == 401
    member = await make_user()
    refused = await client.get(USAGE, headers=member.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    # Nothing to send: a body or odd query changes nothing, and writes are not routes.
    admin = await make_user(is_admin=True)
    assert (await client.get(USAGE + "?users=garbage", headers=admin.headers)).status_code == 200
    assert (await client.post(USAGE, json={"x": 1}, headers=admin.headers)).status_code == 405


async def test_disk_usage_of_a_library_folder_not_made_yet(tmp_path: Path) -> None:
    from meadhall.library.usage.service import disk_usage

    usage = disk_usage(tmp_path / "not" / "yet" / "there")
    assert usage.total_bytes == shutil.disk_usage(tmp_path).total
    assert usage.used_bytes + usage.free_bytes <= usage.total_bytes
