"""Files: originals with ranges and validators, derivatives, resized copies, base64."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import pytest
from PIL import Image

from meadhall.library.storage import LibraryStorage
from meadhall.platform.runtime import Runtime
from tests.library.assets.support import make_asset
from tests.library.factories import image_bytes

API = "/api/library/assets"
IMMUTABLE = "private, max-age=31536000, immutable"


async def test_original_with_ranges_and_etag(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    data = image_bytes(width=300, height=200)
    asset = await make_asset(runtime, owner_id=user.id, data=data, filename="Été à Paris.jpg")
    url = f"{API}/{asset.id}/original"
    size = len(data)

    full = await client.get(url, headers=user.headers)
    assert full.status_code == 200
    assert full.content == data
    assert full.headers["content-type"] == "image/jpeg"
    assert full.headers["etag"] == f'"{asset.sha256}"'
    assert full.headers["cache-control"] == IMMUTABLE
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-length"] == str(size)
    assert full.headers["x-content-type-options"] == "nosniff"
    disposition = full.headers["content-disposition"]
    assert disposition.startswith("inline; filename=")
    assert "filename*=UTF-8''%C3%89t%C3%A9%20%C3%A0%20Paris.jpg" in disposition
    download = await client.get(url, params={"download": "true"}, headers=user.headers)
    assert download.headers["content-disposition"].startswith("attachment;")

    cases = {
        "bytes=0-9": (0, 10),
        "bytes=10-": (10, size),
        "bytes=-20": (size - 20, size),
        f"bytes=5-{size + 100}": (5, size),
        f"bytes=-{size + 50}": (0, size),
    }
    for header, (start, end) in cases.items():
        response = await client.get(url, headers={**user.headers, "Range": header})
        assert response.status_code == 206, header
        assert response.content == data[start:end], header
        assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
        assert response.headers["content-length"] == str(end - start)

    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        response = await client.get(url, headers={**user.headers, "Range": header})
        assert response.status_code == 416, header
        assert response.headers["content-range"] == f"bytes */{size}"
        assert response.json()["error"]["code"] == "range_not_satisfiable"

    # Ranges that are not one well-formed byte range are ignored: the whole file.
    for header in ("bytes=9-3", "items=0-5", "bytes=0-1,4-5", "bytes=abc", "bytes=-"):
        response = await client.get(url, headers={**user.headers, "Range": header})
        assert response.status_code == 200, header
        assert response.content == data

    # If-Range with an old validator: the whole (new) file, not a mismatched piece.
    stale = await client.get(
        url, headers={**user.headers, "Range": "bytes=0-9", "If-Range": '"other"'}
    )
    assert stale.status_code == 200 and stale.content == data
    fresh = await client.get(
        url, headers={**user.headers, "Range": "bytes=0-9", "If-Range": f'"{asset.sha256}"'}
    )
    assert fresh.status_code == 206

    for validator in (f'"{asset.sha256}"', f'W/"{asset.sha256}"', f'"x", "{asset.sha256}"', "*"):
        cached = await client.get(url, headers={**user.headers, "If-None-Match": validator})
        assert cached.status_code == 304, validator
        assert cached.content == b""
        assert cached.headers["etag"] == f'"{asset.sha256}"'
    changed = await client.get(url, headers={**user.headers, "If-None-Match": '"other"'})
    assert changed.status_code == 200


async def test_missing_original_is_gone(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    asset = await make_asset(runtime, owner_id=user.id)
    LibraryStorage(runtime.settings).original_path(asset.storage_path).unlink()
    response = await client.get(f"{API}/{asset.id}/original", headers=user.headers)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "original_missing"


async def test_thumbnail_and_preview_from_cache_or_rebuilt(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    asset = await make_asset(runtime, owner_id=user.id, data=image_bytes(2000, 1000))
    storage = LibraryStorage(runtime.settings)
    cached = image_bytes(256, 128, fmt="WEBP")
    storage.write_derivative(asset.id, "thumbnail.webp", cached)

    thumb = await client.get(f"{API}/{asset.id}/thumbnail", headers=user.headers)
    assert thumb.status_code == 200
    assert thumb.content == cached
    assert thumb.headers["content-type"] == "image/webp"
    assert thumb.headers["cache-control"] == IMMUTABLE
    etag = thumb.headers["etag"]
    again = await client.get(
        f"{API}/{asset.id}/thumbnail", headers={**user.headers, "If-None-Match": etag}
    )
    assert again.status_code == 304

    # The preview is not in the cache: it is drawn from the original and kept.
    preview = await client.get(f"{API}/{asset.id}/preview", headers=user.headers)
    assert preview.status_code == 200
    with Image.open(io.BytesIO(preview.content)) as image:
        assert image.format == "WEBP"
        assert image.size == (1440, 720)
    assert storage.derivative_path(asset.id, "preview.webp").read_bytes() == preview.content
    assert preview.headers["etag"] != etag

    storage.remove_derivatives(asset.id)
    rebuilt = await client.get(f"{API}/{asset.id}/thumbnail", headers=user.headers)
    with Image.open(io.BytesIO(rebuilt.content)) as image:
        assert image.size == (256, 128)


async def test_pending_failed_and_video_assets_have_no_pictures_yet(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    pending = await make_asset(runtime, owner_id=user.id, status="pending", width=None)
    failed = await make_asset(
        runtime,
        owner_id=user.id,
        status="failed",
        error="the image data cannot be decoded",
        width=None,
        height=None,
    )
    storage = LibraryStorage(runtime.settings)
    storage.original_path(failed.storage_path).write_bytes(b"this is text, not a jpeg")
    for path in ("thumbnail", "preview", "image?width=10", "image.json?width=10"):
        response = await client.get(f"{API}/{pending.id}/{path}", headers=user.headers)
        assert response.status_code == 409, path
        assert response.json()["error"]["code"] == "asset_not_ready"
        assert response.headers["retry-after"]
        response = await client.get(f"{API}/{failed.id}/{path}", headers=user.headers)
        assert response.status_code == 422, path
        assert response.json()["error"]["code"] == "asset_unreadable"
        assert "cannot be decoded" in response.json()["error"]["details"]["reason"]
    video = await make_asset(runtime, owner_id=user.id, media="video", mime_type="video/mp4")
    response = await client.get(f"{API}/{video.id}/thumbnail", headers=user.headers)
    assert response.status_code == 422
    assert "video" in response.json()["error"]["message"]
    # The original of a failed asset is still there to download.
    original = await client.get(f"{API}/{failed.id}/original", headers=user.headers)
    assert original.content == b"this is text, not a jpeg"


async def test_ready_but_undecodable_original_is_a_clear_error(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    asset = await make_asset(runtime, owner_id=user.id)
    path = LibraryStorage(runtime.settings).original_path(asset.storage_path)
    path.write_bytes(path.read_bytes()[:200])
    response = await client.get(f"{API}/{asset.id}/preview", headers=user.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "asset_unreadable"


async def test_resized_images(client: httpx.AsyncClient, runtime: Runtime, make_user: Any) -> None:
    user = await make_user()
    asset = await make_asset(runtime, owner_id=user.id, data=image_bytes(800, 400))
    url = f"{API}/{asset.id}/image"

    async def size_of(**params: Any) -> tuple[int, int]:
        response = await client.get(url, params=params, headers=user.headers)
        assert response.status_code == 200, response.text
        with Image.open(io.BytesIO(response.content)) as image:
            return image.size

    assert await size_of(width=200) == (200, 100)
    assert await size_of(height=50) == (100, 50)
    assert await size_of(width=200, height=50) == (100, 50)
    assert await size_of(scale=0.25) == (200, 100)
    assert await size_of(scale=0.5, width=300) == (300, 150)
    # Never enlarged.
    assert await size_of(width=4000) == (800, 400)
    assert await size_of() == (800, 400)
    assert await size_of(scale=0.05) == (40, 20)

    for fmt, mime, pil in (
        ("webp", "image/webp", "WEBP"),
        ("jpeg", "image/jpeg", "JPEG"),
        ("png", "image/png", "PNG"),
    ):
        response = await client.get(url, params={"width": 80, "format": fmt}, headers=user.headers)
        assert response.headers["content-type"] == mime
        assert response.headers["cache-control"] == IMMUTABLE
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.format == pil and image.size == (80, 40)
        cached = await client.get(
            url,
            params={"width": 80, "format": fmt},
            headers={**user.headers, "If-None-Match": response.headers["etag"]},
        )
        assert cached.status_code == 304
        # The second request is served from the cache folder, byte for byte.
        again = await client.get(url, params={"width": 80, "format": fmt}, headers=user.headers)
        assert again.content == response.content
    storage = LibraryStorage(runtime.settings)
    assert storage.derivative_path(asset.id, "image-w80-h0-s1000.png").exists()

    data = await client.get(
        f"{url}.json", params={"width": 100, "format": "png"}, headers=user.headers
    )
    assert data.status_code == 200
    body = data.json()
    assert body["mime_type"] == "image/png"
    assert (body["width"], body["height"]) == (100, 50)
    with Image.open(io.BytesIO(base64.b64decode(body["data"]))) as image:
        assert image.format == "PNG" and image.size == (100, 50)


@pytest.mark.parametrize(
    "params",
    [
        {"width": 0},
        {"width": 4097},
        {"height": -1},
        {"height": 10_000},
        {"scale": 0.01},
        {"scale": 1.5},
        {"scale": "nan"},
        {"scale": "inf"},
        {"width": "wide"},
        {"format": "gif"},
        {"format": "svg"},
    ],
)
async def test_resize_limits(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any, params: dict[str, Any]
) -> None:
    user = await make_user()
    asset = await make_asset(runtime, owner_id=user.id)
    for path in ("image", "image.json"):
        response = await client.get(f"{API}/{asset.id}/{path}", params=params, headers=user.headers)
        assert response.status_code == 422, (path, params)
        assert response.json()["error"]["code"] == "validation_error"


async def test_huge_originals_are_capped_at_4096(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    asset = await make_asset(runtime, owner_id=user.id, data=image_bytes(5000, 100, fmt="PNG"))
    response = await client.get(
        f"{API}/{asset.id}/image.json", params={"format": "png"}, headers=user.headers
    )
    assert response.status_code == 200
    assert (response.json()["width"], response.json()["height"]) == (4096, 82)
