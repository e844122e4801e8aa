"""Resumable uploads: chunks at offsets, resuming after a cut, checksums, expiry and cleanup."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from meadhall.library.ingest.uploads import part_path
from meadhall.library.models import Upload
from meadhall.platform.runtime import Runtime
from tests.conftest import ServerProcess
from tests.library.ingest.conftest import (
    WorkerFactory,
    assets_of,
    library_files,
    noisy_jpeg,
    temp_files,
    wait_for_job_id,
)

UPLOADS = "/api/library/uploads"
OCTET = {"Content-Type": "application/octet-stream"}


async def _start(
    client: httpx.AsyncClient, user: Any, data: bytes, *, sha256: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"filename": "big-map.jpg", "size_bytes": len(data), **extra}
    if sha256 is not None:
        body["sha256"] = sha256
    response = await client.post(UPLOADS, json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _patch(
    client: httpx.AsyncClient, user: Any, upload_id: str, offset: int, chunk: bytes
) -> httpx.Response:
    return await client.patch(
        f"{UPLOADS}/{upload_id}",
        content=chunk,
        headers={**user.headers, **OCTET, "Upload-Offset": str(offset)},
    )


async def test_upload_interrupted_and_resumed(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    data = noisy_jpeg(1, size=(300, 200))
    digest = hashlib.sha256(data).hexdigest()
    created = await _start(client, user, data, sha256=digest.upper(), attribution="GM notes")
    assert created["offset"] == 0 and created["complete"] is False
    assert created["chunk_max"] == runtime.settings.upload_chunk_max_bytes
    upload_id = created["id"]

    half = len(data) // 2
    first = await _patch(client, user, upload_id, 0, data[:half])
    assert first.status_code == 200, first.text
    assert first.json() == {"offset": half, "complete": False, "asset": None, "duplicate_of": None}

    # The connection is cut; the client asks where to go on (HEAD, or GET).
    head = await client.head(f"{UPLOADS}/{upload_id}", headers=user.headers)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == str(half)
    assert head.headers["Upload-Length"] == str(len(data))
    got = await client.get(f"{UPLOADS}/{upload_id}", headers=user.headers)
    assert got.json()["offset"] == half

    rest = await _patch(client, user, upload_id, half, data[half:])
    assert rest.status_code == 200, rest.text
    body = rest.json()
    assert body["offset"] == len(data) and body["complete"] is True
    asset = body["asset"]
    assert asset["sha256"] == digest and asset["origin"] == "upload"
    assert asset["original_filename"] == "big-map.jpg" and asset["attribution"] == "GM notes"
    [row] = await assets_of(runtime, user.id)
    assert (runtime.settings.library_dir / row.storage_path).read_bytes() == data
    assert not part_path(runtime.settings, uuid.UUID(upload_id)).exists()

    # The finished upload still answers (a client whose last answer was lost can look).
    done = await client.get(f"{UPLOADS}/{upload_id}", headers=user.headers)
    assert done.json()["complete"] is True and done.json()["asset_id"] == asset["id"]
    again = await _patch(client, user, upload_id, len(data), b"x")
    assert again.status_code == 409


async def test_duplicate_upload_names_the_existing_asset(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    data = noisy_jpeg(2, size=(64, 64))
    first = await _start(client, user, data)
    one = (await _patch(client, user, first["id"], 0, data)).json()
    second = await _start(client, user, data)
    two = (await _patch(client, user, second["id"], 0, data)).json()
    assert two["asset"] is None and two["duplicate_of"] == one["asset"]["id"]
    assert len(library_files(runtime, user.id)) == 1 and temp_files(runtime) == []


async def test_checksum_mismatch_discards_the_upload(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    data = noisy_jpeg(3, size=(64, 64))
    created = await _start(client, user, data, sha256="0" * 64)
    response = await _patch(client, user, created["id"], 0, data)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "checksum_mismatch"
    assert error["details"]["received"] == hashlib.sha256(data).hexdigest()
    gone = await client.get(f"{UPLOADS}/{created['id']}", headers=user.headers)
    assert gone.status_code == 404
    assert await assets_of(runtime, user.id) == [] and temp_files(runtime) == []


async def test_unsupported_file_is_refused_when_complete(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    data = b"plain text pretending to be a photo\n" * 40
    created = await _start(client, user, data)
    response = await _patch(client, user, created["id"], 0, data)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_file"
    assert (await client.get(f"{UPLOADS}/{created['id']}", headers=user.headers)).status_code == 404
    assert temp_files(runtime) == []


async def test_offsets_and_chunk_limits(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    override_settings: Callable[..., None],
) -> None:
    user = await make_user()
    override_settings(upload_chunk_max_bytes=4096)
    data = noisy_jpeg(4, size=(160, 120))
    assert len(data) > 3 * 4096
    created = await _start(client, user, data)
    assert created["chunk_max"] == 4096
    upload_id = created["id"]

    ok = await _patch(client, user, upload_id, 0, data[:1000])
    assert ok.json()["offset"] == 1000
    # A client that lost track: told the current offset.
    mismatch = await _patch(client, user, upload_id, 500, data[500:1500])
    assert mismatch.status_code == 409
    assert mismatch.json()["error"]["code"] == "upload_offset_mismatch"
    assert mismatch.json()["error"]["details"]["offset"] == 1000
    ahead = await _patch(client, user, upload_id, 2000, data[2000:3000])
    assert ahead.status_code == 409

    too_big = await _patch(client, user, upload_id, 1000, data[1000:6000])
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "chunk_too_large"

    async def streamed(chunk: bytes):  # type: ignore[no-untyped-def]
        for start in range(0, len(chunk), 500):
            yield chunk[start : start + 500]

    # Without Content-Length the limit holds while streaming, and nothing of it is kept.
    streamed_big = await client.patch(
        f"{UPLOADS}/{upload_id}",
        content=streamed(data[1000:6000]),
        headers={**user.headers, **OCTET, "Upload-Offset": "1000"},
    )
    assert streamed_big.status_code == 413
    state = await client.get(f"{UPLOADS}/{upload_id}", headers=user.headers)
    assert state.json()["offset"] == 1000
    assert part_path(runtime.settings, uuid.UUID(upload_id)).stat().st_size == 1000

    offset = 1000
    while offset < len(data):
        chunk = data[offset : offset + 4096]
        response = await _patch(client, user, upload_id, offset, chunk)
        assert response.status_code == 200, response.text
        offset = response.json()["offset"]
    assert response.json()["asset"]["size_bytes"] == len(data)


async def test_chunk_past_the_end_is_refused(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    data = noisy_jpeg(5, size=(32, 32))
    created = await _start(client, user, data)
    response = await _patch(client, user, created["id"], 0, data + b"extra")
    assert response.status_code == 413
    assert response.json()["error"]["details"]["remaining"] == len(data)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"filename": "a.jpg", "size_bytes": 0}, 422),
        ({"filename": "a.jpg", "size_bytes": -5}, 422),
        ({"filename": "", "size_bytes": 10}, 422),
        ({"filename": "a.jpg", "size_bytes": 10, "sha256": "xyz"}, 422),
        ({"filename": "a.jpg", "size_bytes": 10, "unknown": 1}, 422),
        ({"filename": "a.jpg", "size_bytes": 10**15}, 413),
    ],
)
async def test_bad_upload_requests(
    client: httpx.AsyncClient, make_user: Any, body: dict[str, Any], status: int
) -> None:
    user = await make_user()
    response = await client.post(UPLOADS, json=body, headers=user.headers)
    assert response.status_code == status, response.text


async def test_quota_refuses_an_upload_that_cannot_fit(
    client: httpx.AsyncClient, make_user: Any, override_settings: Callable[..., None]
) -> None:
    user = await make_user()
    override_settings(library_quota_bytes=1000)
    response = await client.post(
        UPLOADS, json={"filename": "a.jpg", "size_bytes": 5000}, headers=user.headers
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "quota_exceeded"


async def test_chunk_needs_octet_stream_and_an_offset(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    user = await make_user()
    created = await _start(client, user, b"\xff\xd8\xff" + b"\x00" * 100)
    url = f"{UPLOADS}/{created['id']}"
    wrong_type = await client.patch(
        url, content=b"abc", headers={**user.headers, "Upload-Offset": "0"}
    )
    assert wrong_type.status_code == 415
    no_offset = await client.patch(url, content=b"abc", headers={**user.headers, **OCTET})
    assert no_offset.status_code == 422
    negative = await client.patch(
        url, content=b"abc", headers={**user.headers, **OCTET, "Upload-Offset": "-1"}
    )
    assert negative.status_code == 422


async def test_uploads_are_private(client: httpx.AsyncClient, make_user: Any) -> None:
    owner, stranger = await make_user(), await make_user()
    created = await _start(client, owner, b"\xff\xd8\xff" + b"\x00" * 100)
    url = f"{UPLOADS}/{created['id']}"
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (await client.head(url, headers=stranger.headers)).status_code == 404
    stolen = await client.patch(
        url, content=b"abc", headers={**stranger.headers, **OCTET, "Upload-Offset": "0"}
    )
    assert stolen.status_code == 404
    assert (await client.delete(url, headers=stranger.headers)).status_code == 404
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=owner.headers)).status_code == 200


async def test_cancel_removes_the_upload_and_its_bytes(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    data = noisy_jpeg(6, size=(64, 64))
    created = await _start(client, user, data)
    await _patch(client, user, created["id"], 0, data[:100])
    path = part_path(runtime.settings, uuid.UUID(created["id"]))
    assert path.stat().st_size == 100
    cancelled = await client.delete(f"{UPLOADS}/{created['id']}", headers=user.headers)
    assert cancelled.status_code == 204
    assert not path.exists()
    assert (await client.get(f"{UPLOADS}/{created['id']}", headers=user.headers)).status_code == 404


async def test_expired_uploads_and_stray_files_are_cleaned_by_the_job(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    worker: WorkerFactory,
) -> None:
    from meadhall.platform.jobs.service import enqueue

    user = await make_user()
    data = noisy_jpeg(7, size=(64, 64))
    stale = await _start(client, user, data)
    live = await _start(client, user, data)
    await _patch(client, user, stale["id"], 0, data[:50])
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Upload)
            .where(Upload.id == uuid.UUID(stale["id"]))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    # An expired upload refuses chunks at once.
    late = await _patch(client, user, stale["id"], 50, data[50:100])
    assert late.status_code == 410 and late.json()["error"]["code"] == "upload_expired"

    tmp = runtime.settings.tmp_dir
    old_stray, new_stray = tmp / "crashed.part", tmp / "writing-now.part"
    orphan = tmp / "uploads" / f"{uuid.uuid4().hex}.part"
    for path in (old_stray, new_stray, orphan):
        path.write_bytes(b"leftover")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old_stray, (two_days_ago, two_days_ago))
    os.utime(orphan, (two_days_ago, two_days_ago))
    live_path = part_path(runtime.settings, uuid.UUID(live["id"]))
    os.utime(live_path, (two_days_ago, two_days_ago))

    async with runtime.db.transaction() as session:
        queued = await enqueue(session, kind="library.clean_uploads", payload={})
    async with worker():
        job = await wait_for_job_id(runtime, queued.id)
    assert job.status == "succeeded", job.last_error
    assert job.progress_message == "1 expired uploads, 2 stray temp files removed"

    assert (await client.get(f"{UPLOADS}/{stale['id']}", headers=user.headers)).status_code == 404
    assert not part_path(runtime.settings, uuid.UUID(stale["id"])).exists()
    assert not old_stray.exists() and not orphan.exists()
    # A fresh temp file and a live upload (however old its file) stay.
    assert new_stray.exists() and live_path.exists()
    assert (await client.get(f"{UPLOADS}/{live['id']}", headers=user.headers)).status_code == 200


def _raw_patch_cut(
    server: ServerProcess, token: str, upload_id: str, data: bytes, sent: int
) -> None:
    """Announce ``len(data)`` bytes, send only ``sent`` of them, then drop the connection."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = (
            f"PATCH {UPLOADS}/{upload_id} HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: application/octet-stream\r\n"
            "Upload-Offset: 0\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode()
        sock.sendall(head + data[:sent])
        time.sleep(0.5)


@pytest.mark.slow
async def test_connection_cut_mid_chunk_keeps_what_arrived(
    spawn_server: Callable[..., ServerProcess],
    database_url: str,
    make_user: Any,
    tmp_path: Path,
) -> None:
    user = await make_user()
    server = spawn_server(database_url, tmp_path / "data", MEADHALL_WORKERS_IN_PROCESS="false")
    data = noisy_jpeg(8, size=(600, 400))
    digest = hashlib.sha256(data).hexdigest()
    async with httpx.AsyncClient(base_url=server.url, headers=user.headers) as http:
        created = (
            await http.post(
                UPLOADS, json={"filename": "cut.jpg", "size_bytes": len(data), "sha256": digest}
            )
        ).json()
        sent = len(data) // 3
        _raw_patch_cut(server, user.token, created["id"], data, sent)
        deadline = time.monotonic() + 10
        while True:
            offset = int((await http.head(f"{UPLOADS}/{created['id']}")).headers["Upload-Offset"])
            if offset > 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        # What arrived counts (every byte that reached the server was kept).
        assert offset == sent
        rest = await http.patch(
            f"{UPLOADS}/{created['id']}",
            content=data[offset:],
            headers={**OCTET, "Upload-Offset": str(offset)},
        )
        assert rest.status_code == 200, rest.text
        assert rest.json()["asset"]["sha256"] == digest
