"""Folders indexed in place: admin API, scans, rescans that only read what changed."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from meadhall.library.models import Asset
from meadhall.platform.jobs.models import Job
from meadhall.platform.runtime import Runtime
from tests.library.ingest.conftest import (
    WorkerFactory,
    distinct_jpeg,
    encoded,
    wait_for_job,
    wait_until_idle,
)

FOLDERS = "/api/library/folders"
SCAN = "library.scan_folder"


async def wait_for_attempt(runtime: Runtime, job_id: uuid.UUID, within: float = 20.0) -> Job:
    """The job once one attempt has failed."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with runtime.db.sessionmaker() as session:
            job = await session.get(Job, job_id)
        assert job is not None
        if job.last_error:
            return job
        assert asyncio.get_running_loop().time() < deadline, job.status
        await asyncio.sleep(0.1)


async def folder_assets(runtime: Runtime, folder_id: str) -> dict[str, Asset]:
    async with runtime.db.sessionmaker() as session:
        rows = await session.scalars(select(Asset).where(Asset.folder_id == uuid.UUID(folder_id)))
        return {asset.storage_path: asset for asset in rows}


def _mtimes(root: Path) -> dict[Path, int]:
    return {p: p.lstat().st_mtime_ns for p in root.rglob("*")}


def _write(path: Path, data: bytes, *, mtime: float | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    _write(root / "keep.jpg", distinct_jpeg(1), mtime=1_600_000_000)
    _write(root / "change.jpg", distinct_jpeg(2), mtime=1_600_000_000)
    _write(root / "remove.png", encoded("PNG", seed=3), mtime=1_600_000_000)
    _write(root / "2024" / "session one" / "table.jpg", distinct_jpeg(4))
    _write(root / ".hidden.jpg", distinct_jpeg(5))
    _write(root / ".thumbnails" / "t.jpg", distinct_jpeg(6))
    _write(root / "notes.txt", b"not a picture")
    _write(root / "fake.jpg", b"text in disguise")
    outside = tmp_path / "outside.jpg"
    _write(outside, distinct_jpeg(7))
    (root / "link-out.jpg").symlink_to(outside)
    (root / "link-in.jpg").symlink_to(root / "keep.jpg")
    (root / "loop").symlink_to(root)
    return root


async def _create(client: httpx.AsyncClient, admin: Any, **body: Any) -> httpx.Response:
    return await client.post(FOLDERS, json=body, headers=admin.headers)


async def test_scan_then_rescan_finds_new_changed_and_removed_files(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    worker: WorkerFactory,
    photo_folder: Path,
) -> None:
    admin, owner = await make_user(is_admin=True), await make_user()
    created = await _create(client, admin, path=str(photo_folder), owner_id=str(owner.id))
    assert created.status_code == 201, created.text
    folder = created.json()
    assert folder["path"] == str(photo_folder) and folder["watch"] is True
    before = _mtimes(photo_folder)

    async with worker():
        first = await wait_for_job(runtime, SCAN, payload={"folder_id": folder["id"]})
        await wait_until_idle(runtime)
    assert first.status == "succeeded", first.last_error
    assert first.owner_id == owner.id
    assets = await folder_assets(runtime, folder["id"])
    # Hidden files, links leading out, a link to a folder and non-media names are skipped;
    # the link inside the folder has the same bytes as keep.jpg (a duplicate, not indexed);
    # fake.jpg is text (failed).
    assert sorted(assets) == ["2024/session one/table.jpg", "change.jpg", "keep.jpg", "remove.png"]
    assert first.progress_message == (
        "4 new, 0 changed, 0 removed, 0 unchanged, 1 duplicates, 1 failed"
    )
    # The same pipeline as uploads processed them.
    assert {a.status for a in assets.values()} == {"ready"}
    keep = assets["keep.jpg"]
    assert keep.origin == "scan" and keep.owner_id == owner.id
    assert keep.folder_id == uuid.UUID(folder["id"])
    assert keep.file_mtime is not None and keep.file_mtime.timestamp() == 1_600_000_000
    assert keep.local_at.year == 2020  # the file time stands in until metadata is read
    # Read-only: nothing in the folder was written, nothing copied into the library.
    assert _mtimes(photo_folder) == before
    assert not (runtime.settings.library_dir / str(owner.id)).exists()

    listed = await client.get(FOLDERS, headers=admin.headers)
    [item] = listed.json()["items"]
    assert item["asset_count"] == len(assets) and item["last_scan_at"] is not None

    unchanged = {path: (a.id, a.updated_at, a.sha256) for path, a in assets.items()}
    new_bytes = distinct_jpeg(20)
    _write(photo_folder / "change.jpg", new_bytes, mtime=1_700_000_000)
    (photo_folder / "remove.png").unlink()
    _write(photo_folder / "2025" / "new.webp", encoded("WEBP", seed=21))
    _write(photo_folder / "touched.jpg", distinct_jpeg(22), mtime=1_600_000_000)

    rescan = await client.post(f"{FOLDERS}/{folder['id']}/rescan", headers=admin.headers)
    assert rescan.status_code == 202 and rescan.json()["kind"] == SCAN
    async with worker():
        second = await wait_for_job(runtime, SCAN, payload={"folder_id": folder["id"]})
    assert second.id != first.id and second.status == "succeeded", second.last_error
    assert second.progress_message is not None
    assert second.progress_message == (
        "2 new, 1 changed, 1 removed, 2 unchanged, 1 duplicates, 1 failed"
    )

    after = await folder_assets(runtime, folder["id"])
    assert "remove.png" not in after
    assert {"2025/new.webp", "touched.jpg"} <= set(after)
    changed = after["change.jpg"]
    assert changed.id == unchanged["change.jpg"][0]
    assert changed.sha256 == hashlib.sha256(new_bytes).hexdigest()
    assert changed.size_bytes == len(new_bytes)
    assert changed.file_mtime is not None and changed.file_mtime.timestamp() == 1_700_000_000
    # Files that did not change were not touched: same id, same row.
    for path in ("keep.jpg", "2024/session one/table.jpg"):
        asset_id, updated_at, sha = unchanged[path]
        assert (after[path].id, after[path].sha256) == (asset_id, sha)
        assert after[path].updated_at == updated_at
    assert photo_folder.joinpath("keep.jpg").exists()


async def test_unchanged_files_are_not_opened(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    admin, owner = await make_user(is_admin=True), await make_user()
    root = tmp_path / "album"
    _write(root / "a.jpg", distinct_jpeg(30), mtime=1_650_000_000)
    folder = (await _create(client, admin, path=str(root), owner_id=str(owner.id))).json()
    async with worker():
        await wait_for_job(runtime, SCAN, payload={"folder_id": folder["id"]})
        await wait_until_idle(runtime)
    [asset] = (await folder_assets(runtime, folder["id"])).values()

    # Same size and time, different bytes: a scan that opened the file would notice.
    same_size = bytearray((root / "a.jpg").read_bytes())
    same_size[-3] ^= 0xFF
    _write(root / "a.jpg", bytes(same_size), mtime=1_650_000_000)
    await client.post(f"{FOLDERS}/{folder['id']}/rescan", headers=admin.headers)
    async with worker():
        job = await wait_for_job(runtime, SCAN, payload={"folder_id": folder["id"]})
    assert job.progress_message is not None and "1 unchanged" in job.progress_message
    [again] = (await folder_assets(runtime, folder["id"])).values()
    assert (again.id, again.sha256, again.updated_at) == (asset.id, asset.sha256, asset.updated_at)


async def test_missing_folder_forgets_nothing(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    admin, owner = await make_user(is_admin=True), await make_user()
    root = tmp_path / "usb-disk"
    _write(root / "a.jpg", distinct_jpeg(31))
    folder = (await _create(client, admin, path=str(root), owner_id=str(owner.id))).json()
    async with worker():
        await wait_for_job(runtime, SCAN, payload={"folder_id": folder["id"]})
    (root / "a.jpg").unlink()
    root.rmdir()
    rescan = await client.post(f"{FOLDERS}/{folder['id']}/rescan", headers=admin.headers)
    job_id = uuid.UUID(rescan.json()["id"])
    async with worker():
        # The attempt fails visibly (and is retried later); the asset is still there.
        job = await wait_for_attempt(runtime, job_id)
    assert "is missing" in (job.last_error or "")
    assert len(await folder_assets(runtime, folder["id"])) == 1


async def test_delete_folder_forgets_assets_and_keeps_files(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    admin, owner = await make_user(is_admin=True), await make_user()
    root = tmp_path / "family"
    _write(root / "a.jpg", distinct_jpeg(32))
    folder = (await _create(client, admin, path=str(root), owner_id=str(owner.id))).json()
    async with worker():
        await wait_for_job(runtime, SCAN, payload={"folder_id": folder["id"]})
    assert len(await folder_assets(runtime, folder["id"])) == 1
    deleted = await client.delete(f"{FOLDERS}/{folder['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    assert await folder_assets(runtime, folder["id"]) == {}
    assert (root / "a.jpg").exists()
    assert (await client.get(FOLDERS, headers=admin.headers)).json() == {"items": []}
    again = await client.delete(f"{FOLDERS}/{folder['id']}", headers=admin.headers)
    assert again.status_code == 404
    rescan = await client.post(f"{FOLDERS}/{folder['id']}/rescan", headers=admin.headers)
    assert rescan.status_code == 404


async def test_folder_requests_are_checked(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime, tmp_path: Path
) -> None:
    admin, owner = await make_user(is_admin=True), await make_user()
    root = tmp_path / "pictures"
    (root / "inner").mkdir(parents=True)
    (tmp_path / "a-file.jpg").write_bytes(b"x")

    def body(path: Any, **extra: Any) -> dict[str, Any]:
        return {"path": str(path), "owner_id": str(owner.id), **extra}

    player = await client.post(FOLDERS, json=body(root), headers=owner.headers)
    assert player.status_code == 403
    assert (await client.get(FOLDERS, headers=owner.headers)).status_code == 403
    assert (await client.post(FOLDERS, json=body(root))).status_code == 401

    refused = {
        "relative": "pictures",
        "missing": tmp_path / "nowhere",
        "a file": tmp_path / "a-file.jpg",
        "data dir": runtime.settings.resolved_data_dir,
        "inside data dir": runtime.settings.library_dir.parent,
        "around data dir": runtime.settings.resolved_data_dir.parent,
    }
    for reason, path in refused.items():
        response = await client.post(FOLDERS, json=body(path), headers=admin.headers)
        assert response.status_code == 400, reason
        assert response.json()["error"]["code"] == "unsafe_folder", reason

    ok = await client.post(FOLDERS, json=body(root, watch=False), headers=admin.headers)
    assert ok.status_code == 201 and ok.json()["watch"] is False
    for overlapping in (root, root / "inner", tmp_path, f"{root}/../pictures"):
        response = await client.post(FOLDERS, json=body(overlapping), headers=admin.headers)
        assert response.status_code == 400, overlapping

    other = tmp_path / "other"
    other.mkdir()
    unknown = await client.post(
        FOLDERS,
        json={"path": str(other), "owner_id": str(uuid.uuid4())},
        headers=admin.headers,
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "user_not_found"
    nul = await client.post(FOLDERS, json=body("/tmp/\x00x"), headers=admin.headers)
    assert nul.status_code == 422
