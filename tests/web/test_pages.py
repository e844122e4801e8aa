"""Page shells: who is sent where, what every page carries, and the HTML 404."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from meadhall.platform.accounts.deps import ACCESS_COOKIE

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PUBLIC_PAGES = [
    "/login",
    "/register",
    "/register?code=abc",
    "/forgot-password",
    "/reset-password",
    "/reset-password?token=t0ken",
]


async def sign_in(client: httpx.AsyncClient, make_user: Callable[..., Any], **kwargs: Any) -> Any:
    user = await make_user(**kwargs)
    client.cookies.set(ACCESS_COOKIE, user.token)
    return user


def assert_page_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] in {"same-origin", "no-referrer"}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("text/html")


def assert_no_inline_code(html: str) -> None:
    """The CSP forbids inline code, so a page that relies on it would silently break."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert not re.search(r"<style[\s>]", html), "inline <style>"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


# Where a browser is sent ----------------------------------------------------------------------


async def test_home_sends_a_fresh_server_to_onboarding(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/onboarding"
    assert response.headers["cache-control"] == "no-store"


async def test_home_sends_signed_out_visitors_to_login(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    await make_user(is_admin=True)
    response = await client.get("/", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


@pytest.mark.parametrize("cookie", ["garbage", "a.b.c", "x" * 5000])
async def test_a_bad_session_cookie_means_signed_out_not_an_error(
    client: httpx.AsyncClient, make_user: Callable[..., Any], cookie: str
) -> None:
    await make_user(is_admin=True)
    client.cookies.set(ACCESS_COOKIE, cookie)
    response = await client.get("/", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"
    login = await client.get("/login?next=/", headers=HTML)
    assert login.status_code == 200


async def test_home_is_the_timeline_of_the_signed_in_user(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    user = await sign_in(client, make_user, email="brynja@example.com", is_admin=True)
    response = await client.get("/", headers=HTML)
    assert response.status_code == 200, response.text
    assert_page_headers(response)
    assert_no_inline_code(response.text)
    assert '<h1 class="page__title">Photos</h1>' in response.text
    assert "brynja" in response.text
    assert 'aria-current="page"' in response.text
    assert "Admin" in response.text
    assert user.email not in response.text


async def test_home_escapes_the_display_name(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    await sign_in(client, make_user, email="<img src=x onerror=alert(1)>@example.com")
    response = await client.get("/", headers=HTML)
    assert response.status_code == 200
    assert "<img src=x" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text


async def test_onboarding_only_until_the_first_account(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    response = await client.get("/onboarding", headers=HTML)
    assert response.status_code == 200
    assert_page_headers(response)
    assert "Create admin account" in response.text
    for path in ("/login", "/register?code=abc"):
        early = await client.get(path, headers=HTML)
        assert early.status_code == 303
        assert early.headers["location"] == "/onboarding"

    await make_user(is_admin=True)
    response = await client.get("/onboarding", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_login_page_for_signed_out_visitors(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    await make_user(is_admin=True)
    response = await client.get("/login?next=/", headers=HTML)
    assert response.status_code == 200
    assert_page_headers(response)
    assert 'data-next="/"' in response.text
    assert 'href="/forgot-password"' in response.text
    assert "Your password was changed" not in response.text
    reset = await client.get("/login?reset=1", headers=HTML)
    assert "Your password was changed" in reset.text


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/", "/"),
        ("/library?album=1", "/library?album=1"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/login", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("/" + "a" * 3000, "/"),
        ("", "/"),
    ],
)
async def test_login_returns_signed_in_users_only_to_local_paths(
    client: httpx.AsyncClient, make_user: Callable[..., Any], next_value: str, expected: str
) -> None:
    await sign_in(client, make_user)
    response = await client.get("/login", params={"next": next_value}, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == expected


async def test_login_page_never_echoes_a_hostile_next(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    await make_user(is_admin=True)
    response = await client.get(
        "/login", params={"next": '/x"><script>alert(1)</script>'}, headers=HTML
    )
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert 'data-next="/x&#34;&gt;&lt;script&gt;' in response.text


# Registration and password reset pages --------------------------------------------------------


async def test_register_page_prefills_the_invite_code_escaped(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    await make_user(is_admin=True)
    response = await client.get("/register", params={"invite": "abc123"}, headers=HTML)
    assert response.status_code == 200
    assert_page_headers(response)
    assert response.headers["referrer-policy"] == "no-referrer"
    assert 'value="abc123"' in response.text

    hostile = await client.get(
        "/register", params={"code": '"><script>alert(1)</script>'}, headers=HTML
    )
    assert "<script>alert(1)" not in hostile.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in hostile.text

    oversized = await client.get("/register", params={"code": "c" * 5000}, headers=HTML)
    assert oversized.status_code == 200
    assert "c" * 600 not in oversized.text


async def test_forgot_password_without_mail_explains_instead_of_offering_a_form(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/forgot-password", headers=HTML)
    assert response.status_code == 200
    assert_page_headers(response)
    assert "cannot send e-mail" in response.text
    assert 'data-form="forgot-password"' not in response.text


async def test_reset_password_page_carries_the_token_but_not_its_referrer(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/reset-password", params={"token": "tok-123"}, headers=HTML)
    assert response.status_code == 200
    assert_page_headers(response)
    assert response.headers["referrer-policy"] == "no-referrer"
    assert 'data-token="tok-123"' in response.text

    missing = await client.get("/reset-password", headers=HTML)
    assert "This link is incomplete" in missing.text
    assert "data-token" not in missing.text


@pytest.mark.parametrize("path", PUBLIC_PAGES)
async def test_public_pages_carry_security_headers_and_no_inline_code(
    client: httpx.AsyncClient, make_user: Callable[..., Any], path: str
) -> None:
    await make_user(is_admin=True)
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200
    assert_page_headers(response)
    assert_no_inline_code(response.text)
    # Every input has a label tied to it.
    ids = set(re.findall(r'<input[^>]*\sid="([^"]+)"', response.text))
    labelled = set(re.findall(r'<label[^>]*\sfor="([^"]+)"', response.text))
    assert ids <= labelled


async def test_pages_answer_head_like_get_without_a_body(client: httpx.AsyncClient) -> None:
    for path in ("/onboarding", "/login", "/", "/albums", "/admin/jobs"):
        got = await client.get(path, headers=HTML)
        head = await client.head(path, headers=HTML)
        assert head.status_code == got.status_code, path
        assert head.headers.get("location") == got.headers.get("location"), path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        assert head.content == b"", path
    page = await client.head("/onboarding", headers=HTML)
    assert page.status_code == 200
    assert_page_headers(page)


async def test_pages_refuse_other_methods_with_the_envelope(client: httpx.AsyncClient) -> None:
    response = await client.post("/login", headers=HTML)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# Not found ------------------------------------------------------------------------------------


async def test_browser_navigation_to_an_unknown_page_gets_an_html_404(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert_page_headers(response)
    assert "Page not found" in response.text
    assert_no_inline_code(response.text)


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/no-such-thing", HTML),
        ("GET", "/api", HTML),
        ("GET", "/no/such/page", {"Accept": "application/json"}),
        ("GET", "/no/such/page", {}),
        ("DELETE", "/no/such/page", HTML),
    ],
)
async def test_api_and_non_browser_404s_keep_the_json_envelope(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> None:
    response = await client.request(method, path, headers=headers)
    assert response.status_code in (404, 405)
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] in ("not_found", "method_not_allowed")


# The Library's and the admin's page shells ---------------------------------------------------

LIBRARY_PAGES = {
    "/": ("Photos", "js/pages/timeline.js"),
    "/search": ("Search", "js/pages/search.js"),
    "/albums": ("Albums", "js/pages/albums.js"),
    "/tags": ("Tags", "js/pages/tags.js"),
    "/trash": ("Trash", "js/pages/trash.js"),
    "/photos/0190e1d2-7a4b-7c3d-8e5f-0123456789ab": ("Photos", "js/pages/timeline.js"),
    "/albums/0190e1d2-7a4b-7c3d-8e5f-0123456789ab": ("Album", "js/pages/album.js"),
}
ADMIN_PAGES = ["/admin/users", "/admin/folders", "/admin/jobs", "/admin/storage"]


@pytest.mark.parametrize("path", [*LIBRARY_PAGES, *ADMIN_PAGES])
async def test_signed_out_visitors_go_to_sign_in_and_back(
    client: httpx.AsyncClient, make_user: Callable[..., Any], path: str
) -> None:
    await make_user(is_admin=True)
    response = await client.get(path, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + path


@pytest.mark.parametrize("path", list(LIBRARY_PAGES))
async def test_library_pages_are_shells_with_one_module(
    client: httpx.AsyncClient, make_user: Callable[..., Any], path: str
) -> None:
    await sign_in(client, make_user)
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200, response.text
    assert_page_headers(response)
    assert_no_inline_code(response.text)
    title, module = LIBRARY_PAGES[path]
    assert f"<title>{title} · Meadhall</title>" in response.text
    assert f'src="/static/{module}?v=' in response.text
    assert "data-page=" in response.text
    # Members see no admin entry in the navigation.
    assert 'href="/admin"' not in response.text


async def test_photo_and_album_links_carry_their_id_and_refuse_garbage(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    await sign_in(client, make_user)
    asset_id = "0190e1d2-7a4b-7c3d-8e5f-0123456789ab"
    photo = await client.get(f"/photos/{asset_id}", headers=HTML)
    assert f'data-open-asset="{asset_id}"' in photo.text
    album = await client.get(f"/albums/{asset_id}", headers=HTML)
    assert f'data-album-id="{asset_id}"' in album.text
    for path in ("/photos/not-an-id", "/albums/%3Cscript%3E", "/photos/" + "9" * 500):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 404, path
        assert "<script>" not in response.text


async def test_admin_pages_for_admins_only(
    client: httpx.AsyncClient, make_user: Callable[..., Any]
) -> None:
    await sign_in(client, make_user)
    for path in [*ADMIN_PAGES, "/admin"]:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 404, path

    await sign_in(client, make_user, email="admin@example.com", is_admin=True)
    first = await client.get("/admin", headers=HTML)
    assert first.status_code == 303 and first.headers["location"] == "/admin/users"
    for path in ADMIN_PAGES:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert_no_inline_code(response.text)
        assert 'aria-current="page"' in response.text
        section = path.rsplit("/", 1)[1]
        assert f'src="/static/js/pages/admin_{section}.js?v=' in response.text
    assert (await client.get("/admin/nothing-here", headers=HTML)).status_code == 404
