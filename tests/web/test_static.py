"""Static assets: fingerprinted URLs cache for a year, everything else revalidates."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from meadhall.platform.accounts.deps import ACCESS_COOKIE
from meadhall.web.static import STATIC_DIR, asset_url

PAGES = [
    "/login",
    "/register",
    "/forgot-password",
    "/reset-password?token=x",
    "/",
    "/search",
    "/albums",
    "/tags",
    "/trash",
    "/admin/users",
    "/admin/jobs",
]


async def test_fingerprinted_url_is_immutable(client: httpx.AsyncClient) -> None:
    url = asset_url("app.css")
    assert re.fullmatch(r"/static/app\.css\?v=[0-9a-f]{12}", url)
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("query", ["", "?v=0123456789ab", "?v=", "?other=1"])
async def test_unversioned_or_stale_urls_revalidate(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get("/static/js/api.js" + query)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert "javascript" in response.headers["content-type"]
    again = await client.get(
        "/static/js/api.js" + query, headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path", ["/static/nothing.css", "/static/../config.py", "/static/%2e%2e/web/router.py"]
)
async def test_missing_or_escaping_paths_are_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404


async def test_every_asset_a_page_links_exists(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    user = await make_user(is_admin=True)
    client.cookies.set(ACCESS_COOKIE, user.token)
    seen: set[str] = set()
    for page in PAGES:
        response = await client.get(page, headers={"Accept": "text/html"})
        assert response.status_code in (200, 303)
        seen.update(re.findall(r'(?:href|src)="(/static/[^"]+)"', response.text))
    assert any(url.startswith("/static/app.css?v=") for url in seen)
    assert any(url.startswith("/static/js/shell.js?v=") for url in seen)
    for url in seen:
        asset = await client.get(url.replace("&amp;", "&"))
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"].endswith("immutable"), url


async def test_modules_import_only_files_that_exist(client: httpx.AsyncClient) -> None:
    """Module imports are relative paths; a typo would only show up in a browser."""
    queue = [
        "/static/js/shell.js",
        "/static/js/events.js",
        "/static/js/library/everywhere.js",
    ] + [f"/static/js/pages/{path.name}" for path in sorted((STATIC_DIR / "js/pages").glob("*.js"))]
    done: set[str] = set()
    while queue:
        url = queue.pop()
        if url in done:
            continue
        done.add(url)
        response = await client.get(url)
        assert response.status_code == 200, url
        base = url.rsplit("/", 1)[0]
        # Static imports, side-effect imports and dynamic import("…") of relative paths.
        for target in re.findall(r'(?:from |import |import\()"(\.{1,2}/[^"]+)"', response.text):
            parts = (base + "/" + target).split("/")
            resolved: list[str] = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part != ".":
                    resolved.append(part)
            queue.append("/".join(resolved))
    assert "/static/js/api.js" in done and "/static/js/forms.js" in done
    assert "/static/js/library/grid.js" in done and "/static/js/library/viewer.js" in done
