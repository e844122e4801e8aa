"""``POST /api/library/assets``: multipart uploads of one or many files, with every refusal."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from meadhall.library.ingest.service import ingest_file
from meadhall.library.models import Asset, Origin, StorageQuota
from meadhall.library.storage import LibraryStorage
from meadhall.platform.runtime import Runtime
from tests.library.ingest.conftest import (
    MP4_BYTES,
    assets_of,
    distinct_jpeg,
    encoded,
    jobs_of,
    library_files,
    noisy_jpeg,
    temp_files,
)

URL = "/api/library/assets"


async def test_single_file_is_stored_and_queued(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    data = distinct_jpeg(1)
    response = await client.post(
        URL,
        files=[("files", ("Dragon Lair.JPG", data, "image/jpeg"))],
        data={"attribution": "  Photo by Ann  "},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["created"], report["duplicates"], report["failed"]) == (1, 0, 0)
    [item] = report["files"]
    assert item["filename"] == "Dragon Lair.JPG" and item["status"] == "created"
    asset = item["asset"]
    assert asset["origin"] == "upload" and asset["status"] == "pending"
    assert asset["mime_type"] == "image/jpeg" and asset["size_bytes"] == len(data)
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()
    assert asset["name"] == "Dragon Lair" and asset["attribution"] == "Photo by Ann"
    assert asset["owner_id"] == str(user.id) and asset["folder_id"] is None

    [row] = await assets_of(runtime, user.id)
    assert str(row.id) == asset["id"] and row.type == "photo"
    assert row.local_at is not None and row.sort_at is not None
    stored = runtime.settings.library_dir / row.storage_path
    assert stored.read_bytes() == data
    assert row.storage_path.startswith(f"{user.id}/") and row.storage_path.endswith(".JPG")
    # Processing is queued in the same transaction, once per asset.
    jobs = await jobs_of(runtime, "library.process_asset")
    assert [j.payload for j in jobs] == [{"asset_id": asset["id"]}]
    assert temp_files(runtime) == []


async def test_many_files_of_every_format(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    cases = {
        "a.jpg": (encoded("JPEG"), "image/jpeg"),
        "b.png": (encoded("PNG"), "image/png"),
        "c.gif": (encoded("GIF"), "image/gif"),
        "d.webp": (encoded("WEBP"), "image/webp"),
        "e.tiff": (encoded("TIFF"), "image/tiff"),
        "f.avif": (encoded("AVIF"), "image/avif"),
        "g.heic": (encoded("HEIF"), "image/heic"),
        "h.mpo": (encoded("MPO"), "image/jpeg"),
        "i.mp4": (MP4_BYTES, "video/mp4"),
        # The extension lies; the bytes decide.
        "j.jpg": (encoded("PNG", seed=9), "image/png"),
    }
    files = [
        ("files", (name, data, "application/octet-stream")) for name, (data, _) in cases.items()
    ]
    response = await client.post(URL, files=files, headers=user.headers)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["created"] == len(cases), report
    got = {item["filename"]: item["asset"]["mime_type"] for item in report["files"]}
    assert got == {name: mime for name, (_, mime) in cases.items()}
    assert len(library_files(runtime, user.id)) == len(cases)


async def test_name_without_extension_gets_one_from_its_content(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    response = await client.post(
        URL, files=[("files", ("scan", encoded("PNG"), "image/png"))], headers=user.headers
    )
    assert response.status_code == 201
    [row] = await assets_of(runtime, user.id)
    assert row.original_filename == "scan" and row.storage_path.endswith("/scan.png")


async def test_duplicates_in_one_batch_and_across_batches(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    same, other = distinct_jpeg(2), distinct_jpeg(3)
    first = await client.post(
        URL,
        files=[
            ("files", ("one.jpg", same, "image/jpeg")),
            ("files", ("copy.jpg", same, "image/jpeg")),
            ("files", ("other.jpg", other, "image/jpeg")),
        ],
        headers=user.headers,
    )
    assert first.status_code == 201
    one, copy, _ = first.json()["files"]
    assert one["status"] == "created"
    assert copy["status"] == "duplicate" and copy["duplicate_of"] == one["asset"]["id"]
    assert copy["asset"] is None
    assert first.json()["duplicates"] == 1

    again = await client.post(
        URL, files=[("files", ("again.jpg", same, "image/jpeg"))], headers=user.headers
    )
    # Nothing new: 200, and the existing asset named.
    assert again.status_code == 200
    [item] = again.json()["files"]
    assert item == {
        "filename": "again.jpg",
        "status": "duplicate",
        "asset": None,
        "duplicate_of": one["asset"]["id"],
        "error": None,
    }
    assert len(await assets_of(runtime, user.id)) == 2
    assert len(library_files(runtime, user.id)) == 2
    assert temp_files(runtime) == []

    # A trashed asset still counts: the bytes are in the library.
    async with runtime.db.transaction() as session:
        asset = await session.get(Asset, uuid.UUID(one["asset"]["id"]))
        assert asset is not None
        asset.trashed_at = datetime.now(UTC)
    trashed = await client.post(
        URL, files=[("files", ("t.jpg", same, "image/jpeg"))], headers=user.headers
    )
    assert trashed.json()["files"][0]["duplicate_of"] == one["asset"]["id"]

    # Another user's copy of the same bytes is theirs to keep.
    stranger = await make_user()
    theirs = await client.post(
        URL, files=[("files", ("mine.jpg", same, "image/jpeg"))], headers=stranger.headers
    )
    assert theirs.status_code == 201 and theirs.json()["files"][0]["status"] == "created"


async def test_identical_uploads_at_the_same_time_store_one_copy(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    for round_ in range(4):
        data = distinct_jpeg(100 + round_, size=(400, 300))

        async def send(name: str, data: bytes = data) -> httpx.Response:
            return await client.post(
                URL, files=[("files", (name, data, "image/jpeg"))], headers=user.headers
            )

        answers = await asyncio.gather(send("a.jpg"), send("b.jpg"), send("c.jpg"))
        statuses = sorted(r.json()["files"][0]["status"] for r in answers)
        assert statuses == ["created", "duplicate", "duplicate"], [r.text for r in answers]
        created = next(r for r in answers if r.status_code == 201).json()["files"][0]["asset"]
        for r in answers:
            if r.status_code == 200:
                assert r.json()["files"][0]["duplicate_of"] == created["id"]
    assert len(await assets_of(runtime, user.id)) == 4
    assert len(library_files(runtime, user.id)) == 4
    assert temp_files(runtime) == []


async def test_quota_is_enforced_per_user(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    override_settings: Callable[..., None],
) -> None:
    user = await make_user()
    small, big = distinct_jpeg(4), noisy_jpeg(5)
    override_settings(library_quota_bytes=len(small) + 100)
    ok = await client.post(
        URL, files=[("files", ("small.jpg", small, "image/jpeg"))], headers=user.headers
    )
    assert ok.status_code == 201
    refused = await client.post(
        URL, files=[("files", ("big.jpg", big, "image/jpeg"))], headers=user.headers
    )
    assert refused.status_code == 200
    [item] = refused.json()["files"]
    assert item["status"] == "failed"
    assert item["error"]["code"] == "quota_exceeded" and item["error"]["status"] == 413
    assert item["error"]["details"]["used_bytes"] == len(small)
    assert len(library_files(runtime, user.id)) == 1 and temp_files(runtime) == []

    # A per-user quota overrides the default (None: no limit for this user).
    async with runtime.db.transaction() as session:
        session.add(StorageQuota(user_id=user.id, quota_bytes=None))
    allowed = await client.post(
        URL, files=[("files", ("big.jpg", big, "image/jpeg"))], headers=user.headers
    )
    assert allowed.status_code == 201


def _multipart(parts: list[tuple[str, bytes]], boundary: str = "b0undary") -> bytes:
    body = b""
    for name, data in parts:
        body += f"--{boundary}\r\n".encode()
        body += (
            f'Content-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        body += data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


async def _trickle(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    # No Content-Length: the limits must hold while the bytes stream in.
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_size_limit_is_enforced_while_streaming(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    override_settings: Callable[..., None],
) -> None:
    user = await make_user()
    override_settings(upload_max_bytes=4096)
    large = noisy_jpeg(6)
    assert len(large) > 4096
    small = distinct_jpeg(7, size=(16, 16))
    body = _multipart([("large.jpg", large), ("small.jpg", small)])
    response = await client.post(
        URL,
        content=_trickle(body),
        headers={**user.headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert response.status_code == 201, response.text
    large_item, small_item = response.json()["files"]
    assert large_item["status"] == "failed"
    assert large_item["error"]["code"] == "file_too_large"
    assert large_item["error"]["status"] == 413
    assert small_item["status"] == "created"
    assert len(library_files(runtime, user.id)) == 1 and temp_files(runtime) == []


async def test_request_limits_refuse_the_whole_request(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    override_settings: Callable[..., None],
) -> None:
    user = await make_user()
    headers = {**user.headers, "Content-Type": "multipart/form-data; boundary=b0undary"}
    override_settings(upload_max_request_bytes=20_000)
    parts = [(f"{i}.jpg", noisy_jpeg(20 + i, size=(100, 100))) for i in range(6)]
    body = _multipart(parts)
    assert len(body) > 20_000
    streamed = await client.post(URL, content=_trickle(body), headers=headers)
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "request_too_large"
    announced = await client.post(URL, content=body, headers=headers)
    assert announced.status_code == 413

    override_settings(upload_max_request_bytes=10**9, upload_max_files=2)
    many = await client.post(URL, content=_trickle(body), headers=headers)
    assert many.status_code == 413 and many.json()["error"]["code"] == "too_many_files"
    # Files that had arrived before the refusal are not kept either.
    assert await assets_of(runtime, user.id) == []
    assert library_files(runtime, user.id) == [] and temp_files(runtime) == []


async def test_empty_text_and_traversal_files(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    jpeg = distinct_jpeg(8)
    response = await client.post(
        URL,
        files=[
            ("files", ("empty.jpg", b"", "image/jpeg")),
            ("files", ("notes.jpg", b"just some text, not a picture\n" * 10, "image/jpeg")),
            ("files", ("../../etc/passwd.jpg", jpeg, "image/jpeg")),
            ("files", ("..\\..\\windows\\evil.jpg", distinct_jpeg(9), "image/jpeg")),
        ],
        headers=user.headers,
    )
    assert response.status_code == 201
    empty, text, traversal, backslashes = response.json()["files"]
    assert empty["status"] == "failed" and empty["error"]["code"] == "invalid_file"
    assert empty["error"]["status"] == 422
    assert text["status"] == "failed" and text["error"]["code"] == "unsupported_file"
    assert text["error"]["status"] == 415
    assert traversal["filename"] == "passwd.jpg" and traversal["status"] == "created"
    assert backslashes["filename"] == "evil.jpg"
    root = runtime.settings.library_dir.resolve()
    for path in library_files(runtime, user.id):
        assert root in path.resolve().parents
    names = sorted(a.original_filename for a in await assets_of(runtime, user.id))
    assert names == ["evil.jpg", "passwd.jpg"]
    assert len(library_files(runtime, user.id)) == 2 and temp_files(runtime) == []


async def test_every_file_failing_is_still_a_report(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    user = await make_user()
    response = await client.post(
        URL,
        files=[("files", ("a.jpg", b"", "image/jpeg")), ("files", ("b.txt", b"hi", "text/plain"))],
        headers=user.headers,
    )
    assert response.status_code == 200
    assert response.json()["failed"] == 2 and response.json()["created"] == 0


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        ("application/json", b'{"files": []}', 415, "unsupported_media_type"),
        ("multipart/form-data", b"--x\r\n", 400, "malformed_upload"),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken", 400, "malformed_upload"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="attribution"\r\n\r\nhi\r\n--x--\r\n',
            400,
            "malformed_upload",
        ),
    ],
)
async def test_malformed_requests(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    content_type: str,
    body: bytes,
    status: int,
    code: str,
) -> None:
    user = await make_user()
    response = await client.post(
        URL, content=body, headers={**user.headers, "Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert temp_files(runtime) == []


async def test_attribution_too_long(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    response = await client.post(
        URL,
        files=[("files", ("a.jpg", distinct_jpeg(10), "image/jpeg"))],
        data={"attribution": "x" * 501},
        headers=user.headers,
    )
    assert response.status_code == 422


async def test_upload_needs_authentication(client: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await client.post(URL, files=[("files", ("a.jpg", distinct_jpeg(11), "image/jpeg"))])
    assert response.status_code == 401
    assert temp_files(runtime) == []


async def test_new_assets_are_announced_to_their_owner(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime
) -> None:
    user = await make_user()
    events: list[tuple[str, str, dict[str, Any]]] = []
    original = runtime.bus.publish

    async def record(topic: str, type: str, data: dict[str, Any]) -> Any:
        events.append((topic, type, data))
        return await original(topic, type, data)

    runtime.bus.publish = record  # type: ignore[method-assign]
    try:
        response = await client.post(
            URL,
            files=[
                ("files", ("a.jpg", distinct_jpeg(12), "image/jpeg")),
                ("files", ("b.jpg", distinct_jpeg(12), "image/jpeg")),
            ],
            headers=user.headers,
        )
    finally:
        runtime.bus.publish = original  # type: ignore[method-assign]
    created = response.json()["files"][0]["asset"]
    added = [(topic, data) for topic, kind, data in events if kind == "asset.added"]
    # One event: the duplicate adds nothing.
    assert added == [(f"library:{user.id}", added[0][1])]
    assert added[0][1]["id"] == created["id"] and added[0][1]["status"] == "pending"


async def test_a_rolled_back_ingest_leaves_no_file(make_user: Any, runtime: Runtime) -> None:
    user = await make_user()
    storage = LibraryStorage(runtime.settings)
    stored = []
    for commit in (False, True):
        with storage.temp_writer() as (temp, handle):
            handle.write(distinct_jpeg(13))
        async with runtime.db.sessionmaker() as session:
            result = await ingest_file(
                session,
                storage=storage,
                settings=runtime.settings,
                owner_id=user.id,
                temp_path=temp,
                filename=f"kept-{commit}.jpg",
                origin=Origin.UPLOAD,
            )
            assert result.asset is not None
            path = runtime.settings.library_dir / result.asset.storage_path
            assert path.exists() and not temp.exists()
            # A savepoint released in between must not hand the file over early.
            async with session.begin_nested():
                pass
            if commit:
                await session.commit()
            else:
                await session.rollback()
        stored.append(path)
    assert not stored[0].exists()
    assert stored[1].exists()
    assert len(await assets_of(runtime, user.id)) == 1
