"""One asset: details, edits, favourite, archive, trash, restore, purge, bulk, events, privacy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from meadhall.library.models import (
    AlbumAsset,
    Asset,
    AssetStep,
    AssetTag,
    LibraryFolder,
    Tag,
)
from meadhall.library.storage import LibraryStorage
from meadhall.platform.runtime import Runtime
from tests.library.assets.conftest import RecordingBus
from tests.library.assets.support import make_asset
from tests.library.factories import image_bytes, make_album, make_tag

API = "/api/library/assets"


async def test_detail_shows_all_metadata(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    when = datetime(2023, 7, 1, 18, 30, tzinfo=UTC)
    asset = await make_asset(
        runtime,
        owner_id=user.id,
        data=image_bytes(64, 48),
        when=when,
        camera_make="Fujifilm",
        camera_model="X-T5",
        lens="XF 23mm",
        iso=400,
        f_number=2.0,
        exposure_seconds=0.004,
        focal_length_mm=23.0,
        latitude=48.85,
        longitude=2.35,
        country="France",
        country_code="FR",
        city="Paris",
        palette=["#112233", "#445566"],
        phash=-1,
        dhash=0x0123456789ABCDEF,
        quality=0.8,
        sharpness=0.9,
        exposure=0.7,
        placeholder="1QcSHQRnh493V4dIh4eXh1h4kJUI",
        capture_tz="Europe/Paris",
        capture_tz_source="gps",
        attribution="Photo by me",
        focus_x=0.25,
        focus_y=0.75,
        exif={"Software": "test"},
    )
    async with runtime.db.transaction() as session:
        session.add(AssetStep(asset_id=asset.id, step="thumbnail", status="done"))
    tag = await make_tag(runtime, owner_id=user.id, name="paris", assets=[asset])
    album = await make_album(runtime, owner_id=user.id, name="Trip", assets=[asset])

    response = await client.get(f"{API}/{asset.id}", headers=user.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["camera"] == {
        "make": "Fujifilm",
        "model": "X-T5",
        "lens": "XF 23mm",
        "iso": 400,
        "f_number": 2.0,
        "exposure_seconds": 0.004,
        "focal_length_mm": 23.0,
    }
    assert body["place"]["city"] == "Paris" and body["place"]["latitude"] == 48.85
    assert body["capture"]["timezone"] == "Europe/Paris"
    assert body["capture"]["source"] == "gps"
    assert body["capture"]["at"].startswith("2023-07-01T18:30:00")
    assert body["hashes"]["sha256"] == asset.sha256
    assert body["hashes"]["phash"] == "ffffffffffffffff"
    assert body["hashes"]["dhash"] == "0123456789abcdef"
    assert body["palette"] == ["#112233", "#445566"]
    assert body["quality"] == {"score": 0.8, "sharpness": 0.9, "exposure": 0.7}
    assert body["focus"] == {"x": 0.25, "y": 0.75}
    assert body["tags"] == [{"id": str(tag), "name": "paris"}]
    assert body["albums"] == [{"id": str(album), "name": "Trip"}]
    assert body["steps"][0]["step"] == "thumbnail" and body["steps"][0]["status"] == "done"
    assert body["origin"] == "upload" and body["indexed"] is False
    assert body["status"] == "ready" and body["error"] is None
    assert body["width"] == 64 and body["height"] == 48


async def test_patch_changes_user_fields_and_announces(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, recording_bus: RecordingBus
) -> None:
    user = await make_user()
    asset = await make_asset(runtime, owner_id=user.id)
    album = await make_album(runtime, owner_id=user.id, assets=[asset])
    response = await client.patch(
        f"{API}/{asset.id}",
        json={
            "name": "  The Keep  ",
            "description": "Line one\nline two",
            "attribution": "CC-BY someone",
            "type": "backdrop",
            "focus": {"x": 0, "y": 1},
        },
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "The Keep"
    assert body["description"] == "Line one\nline two"
    assert body["type"] == "backdrop"
    assert body["focus"] == {"x": 0.0, "y": 1.0}
    topics = [topic for topic, data in recording_bus.of("asset.changed")]
    assert topics == [f"library:{user.id}", f"album:{album}"]
    # Only what is sent changes; null clears optional fields.
    response = await client.patch(
        f"{API}/{asset.id}", json={"focus": None, "description": None}, headers=user.headers
    )
    body = response.json()
    assert body["focus"] is None and body["description"] is None
    assert body["name"] == "The Keep" and body["attribution"] == "CC-BY someone"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "spaceship"},
        {"type": None},
        {"name": None},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 256},
        {"name": "line\nbreak"},
        {"name": "evil\u202eoverride"},
        {"attribution": "a" * 501},
        {"focus": {"x": 1.5, "y": 0.5}},
        {"focus": {"x": -0.1, "y": 0.5}},
        {"focus": {"x": 0.5}},
        {"focus": {"x": 0.5, "y": 0.5, "z": 1}},
        {"owner_id": str(uuid.uuid4())},
        {"status": "ready"},
        {"sha256": "00"},
        [],
    ],
)
async def test_patch_validation(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, body: Any
) -> None:
    user = await make_user()
    asset = await make_asset(runtime, owner_id=user.id)
    response = await client.patch(f"{API}/{asset.id}", json=body, headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_flags_trash_and_restore(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, recording_bus: RecordingBus
) -> None:
    user = await make_user()
    asset = await make_asset(runtime, owner_id=user.id)
    url = f"{API}/{asset.id}"
    assert (await client.post(f"{url}/favourite", headers=user.headers)).json()["is_favourite"]
    assert (await client.post(f"{url}/favourite", headers=user.headers)).status_code == 200
    assert not (await client.delete(f"{url}/favourite", headers=user.headers)).json()[
        "is_favourite"
    ]
    assert (await client.post(f"{url}/archive", headers=user.headers)).json()["is_archived"]
    assert not (await client.delete(f"{url}/archive", headers=user.headers)).json()["is_archived"]
    trashed = await client.delete(url, headers=user.headers)
    assert trashed.status_code == 200 and trashed.json()["trashed_at"] is not None
    listed = await client.get(API, params={"trashed": "true"}, headers=user.headers)
    assert [i["id"] for i in listed.json()["items"]] == [str(asset.id)]
    assert (await client.get(API, headers=user.headers)).json()["items"] == []
    restored = await client.post(f"{url}/restore", headers=user.headers)
    assert restored.json()["trashed_at"] is None
    assert len((await client.get(API, headers=user.headers)).json()["items"]) == 1
    # Every real change was announced once (the repeated favourite was not a change).
    changes = [data for topic, data in recording_bus.of("asset.changed")]
    assert len(changes) == 6
    assert changes[4]["trashed"] is True and changes[5]["trashed"] is False


async def test_purge_removes_row_links_and_files(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, recording_bus: RecordingBus
) -> None:
    user = await make_user()
    asset = await make_asset(runtime, owner_id=user.id)
    storage = LibraryStorage(runtime.settings)
    original = storage.original_path(asset.storage_path)
    thumb = storage.write_derivative(asset.id, "thumbnail.webp", image_bytes(fmt="WEBP"))
    tag = await make_tag(runtime, owner_id=user.id, name="t", assets=[asset])
    album = await make_album(runtime, owner_id=user.id, assets=[asset])
    url = f"{API}/{asset.id}"

    refused = await client.delete(f"{url}/purge", headers=user.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "asset_not_trashed"
    await client.delete(url, headers=user.headers)
    response = await client.delete(f"{url}/purge", headers=user.headers)
    assert response.status_code == 204
    assert not original.exists() and not thumb.exists()
    assert (await client.get(url, headers=user.headers)).status_code == 404
    async with runtime.db.sessionmaker() as session:
        assert await session.get(Asset, asset.id) is None
        assert await session.scalar(select(func.count()).select_from(AssetTag)) == 0
        assert await session.scalar(select(func.count()).select_from(AlbumAsset)) == 0
        assert await session.get(Tag, tag) is not None
    deleted = recording_bus.of("asset.deleted")
    assert sorted(topic for topic, _ in deleted) == sorted([f"library:{user.id}", f"album:{album}"])
    assert deleted[0][1]["id"] == str(asset.id)
    # Force purges straight from the timeline.
    other = await make_asset(runtime, owner_id=user.id)
    forced = await client.delete(
        f"{API}/{other.id}/purge", params={"force": "true"}, headers=user.headers
    )
    assert forced.status_code == 204


async def test_purge_never_deletes_indexed_originals(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, tmp_path: Any
) -> None:
    user = await make_user()
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "kept.jpg").write_bytes(image_bytes())
    async with runtime.db.transaction() as session:
        indexed = LibraryFolder(owner_id=user.id, path=str(folder))
        session.add(indexed)
        await session.flush()
        folder_id = indexed.id
    asset = await make_asset(
        runtime, owner_id=user.id, folder_id=folder_id, storage_path="kept.jpg", origin="scan"
    )
    original = await client.get(f"{API}/{asset.id}/original", headers=user.headers)
    assert original.status_code == 200
    assert original.content == (folder / "kept.jpg").read_bytes()
    response = await client.delete(
        f"{API}/{asset.id}/purge", params={"force": "true"}, headers=user.headers
    )
    assert response.status_code == 204
    assert (folder / "kept.jpg").exists()


async def test_bulk_actions_report_each_id(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    owner, member = await make_user(), await make_user()
    mine = [await make_asset(runtime, owner_id=member.id) for _ in range(2)]
    theirs = await make_asset(runtime, owner_id=owner.id)
    await make_album(runtime, owner_id=owner.id, assets=[theirs], members={member.id: "viewer"})
    missing = uuid.uuid4()
    ids = [str(mine[0].id), str(theirs.id), str(missing), str(mine[1].id), str(mine[0].id)]

    response = await client.post(
        f"{API}/bulk", json={"ids": ids, "action": "favourite"}, headers=member.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["done"] == 2 and body["failed"] == 2
    codes = {item["id"]: item["error"] and item["error"]["code"] for item in body["results"]}
    assert codes == {
        str(mine[0].id): None,
        str(theirs.id): "not_asset_owner",
        str(missing): "asset_not_found",
        str(mine[1].id): None,
    }
    favs = await client.get(API, params={"favourite": "true"}, headers=member.headers)
    assert len(favs.json()["items"]) == 2

    purge = await client.post(
        f"{API}/bulk", json={"ids": ids[:1], "action": "purge"}, headers=member.headers
    )
    assert purge.json()["results"][0]["error"]["code"] == "asset_not_trashed"
    for action in ("trash", "purge"):
        response = await client.post(
            f"{API}/bulk",
            json={"ids": [str(a.id) for a in mine], "action": action},
            headers=member.headers,
        )
        assert response.json()["done"] == 2
    assert (await client.get(API, params={"trashed": "true"}, headers=member.headers)).json()[
        "items"
    ] == []

    for bad in [
        {"ids": [], "action": "trash"},
        {"ids": [str(uuid.uuid4())] * 501, "action": "trash"},
        {"ids": ["nope"], "action": "trash"},
        {"ids": [str(missing)], "action": "explode"},
        {"ids": [str(missing)], "action": "trash", "extra": 1},
    ]:
        response = await client.post(f"{API}/bulk", json=bad, headers=member.headers)
        assert response.status_code == 422, bad


async def test_empty_trash_now_and_by_the_periodic_job(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user, other = await make_user(), await make_user()
    now = datetime.now(UTC)
    days = runtime.settings.trash_retention_days
    old = await make_asset(runtime, owner_id=user.id, trashed_at=now - timedelta(days=days + 1))
    recent = await make_asset(runtime, owner_id=user.id, trashed_at=now - timedelta(days=1))
    kept = await make_asset(runtime, owner_id=user.id)
    others_old = await make_asset(
        runtime, owner_id=other.id, trashed_at=now - timedelta(days=days + 5)
    )
    storage = LibraryStorage(runtime.settings)

    from meadhall.platform.jobs.service import enqueue
    from meadhall.platform.jobs.worker import running_worker
    from tests.platform.jobs.conftest import wait_for

    async with runtime.db.transaction() as session:
        job = await enqueue(session, kind="library.empty_trash", payload={})
    async with running_worker(runtime, concurrency=1):
        finished = await wait_for(runtime, job.id)
    assert finished.status == "succeeded", finished.last_error
    async with runtime.db.sessionmaker() as session:
        left = set((await session.scalars(select(Asset.id))).all())
    assert left == {recent.id, kept.id}
    assert not storage.original_path(old.storage_path).exists()
    assert not storage.original_path(others_old.storage_path).exists()

    response = await client.post("/api/library/trash/empty", headers=user.headers)
    assert response.status_code == 200 and response.json() == {"purged": 1}
    async with runtime.db.sessionmaker() as session:
        assert set((await session.scalars(select(Asset.id))).all()) == {kept.id}


async def test_someone_elses_asset_is_not_found_everywhere(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    owner, stranger = await make_user(), await make_user()
    asset = await make_asset(runtime, owner_id=owner.id)
    url = f"{API}/{asset.id}"
    calls = [
        ("GET", url, None),
        ("PATCH", url, {"name": "mine now"}),
        ("DELETE", url, None),
        ("POST", f"{url}/restore", None),
        ("DELETE", f"{url}/purge?force=true", None),
        ("POST", f"{url}/favourite", None),
        ("DELETE", f"{url}/favourite", None),
        ("POST", f"{url}/archive", None),
        ("DELETE", f"{url}/archive", None),
        ("GET", f"{url}/original", None),
        ("GET", f"{url}/thumbnail", None),
        ("GET", f"{url}/preview", None),
        ("GET", f"{url}/image?width=10", None),
        ("GET", f"{url}/image.json?width=10", None),
    ]
    for method, path, body in calls:
        response = await client.request(method, path, json=body, headers=stranger.headers)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "asset_not_found"
        missing = path.replace(str(asset.id), str(uuid.uuid4()))
        response = await client.request(method, missing, json=body, headers=owner.headers)
        assert response.status_code == 404, (method, missing)
    bulk = await client.post(
        f"{API}/bulk", json={"ids": [str(asset.id)], "action": "trash"}, headers=stranger.headers
    )
    assert bulk.json()["results"][0]["error"]["code"] == "asset_not_found"
    assert (await client.get(url, headers=owner.headers)).json()["trashed_at"] is None


async def test_album_members_see_but_do_not_change(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    owner, member = await make_user(), await make_user()
    asset = await make_asset(runtime, owner_id=owner.id)
    tag = await make_tag(runtime, owner_id=owner.id, name="owner-only", assets=[asset])
    album = await make_album(
        runtime, owner_id=owner.id, name="Shared", assets=[asset], members={member.id: "viewer"}
    )
    url = f"{API}/{asset.id}"
    detail = await client.get(url, headers=member.headers)
    assert detail.status_code == 200
    assert detail.json()["albums"] == [{"id": str(album), "name": "Shared"}]
    assert detail.json()["tags"] == []
    owner_view = await client.get(url, headers=owner.headers)
    assert owner_view.json()["tags"] == [{"id": str(tag), "name": "owner-only"}]
    assert (await client.get(f"{url}/original", headers=member.headers)).status_code == 200
    for method, path in [("PATCH", url), ("DELETE", url), ("POST", f"{url}/favourite")]:
        response = await client.request(method, path, json={"name": "x"}, headers=member.headers)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "not_asset_owner"
    # Once the owner trashes it, the member no longer sees it at all.
    await client.delete(url, headers=owner.headers)
    assert (await client.get(url, headers=member.headers)).status_code == 404
    assert (await client.get(f"{url}/original", headers=member.headers)).status_code == 404
    assert (await client.get(API, headers=member.headers)).json()["items"] == []
