"""Uploading in a real browser: pick and drop files, watch their progress, duplicates and
failures with their reasons, a file over the limit refused without sending, and a large file
that survives a cut connection by resuming from the server's offset."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.conftest import ServerProcess
from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, PageProblems
from tests.e2e.library import LibraryServer, photo, start_library

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNSUPPORTED = "not an image or video in a supported format"


def as_payload(name: str, data: bytes, mime: str = "image/jpeg") -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


def pick(page: Any, *files: dict[str, Any]) -> None:
    """Through the Upload button and the browser's file chooser, like a person."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload", exact=True).click()
    assert chooser.value.is_multiple()
    chooser.value.set_files(list(files))


def drop(page: Any, name: str, data: bytes, mime: str) -> bool:
    """Drag a file over the page and drop it; returns whether the drop overlay showed."""
    return bool(
        page.evaluate(
            """([name, b64, mime]) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], name, { type: mime }));
                const target = document.querySelector("main");
                const fire = (type) => target.dispatchEvent(new DragEvent(
                    type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
                fire("dragenter");
                fire("dragover");
                const shown = !document.querySelector("[data-upload-drop]").hidden;
                fire("drop");
                return shown;
            }""",
            [name, base64.b64encode(data).decode(), mime],
        )
    )


def row(page: Any, name: str) -> Any:
    return page.locator("[data-upload-item]").filter(has_text=name)


def noise_png(width: int, height: int, seed: int) -> bytes:
    """A real image that does not compress: ~3 bytes per pixel on disk."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def test_pick_many_then_a_duplicate_and_an_unsupported_file(
    library: LibraryServer, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    page = library.open(open_page)
    # A slow uplink, so the progress of each file and of the whole can be seen moving.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 60_000},
    )
    shots = [
        photo(f"moot-{n}.jpg", taken=f"2023:07:14 18:0{n}:00", color=(40 * n, 90, 160))
        for n in range(5)
    ]
    # The "u" key opens the picker too (the Upload button is used further on).
    expect(page.locator('[data-upload-input][data-ready="true"]')).to_be_attached()
    page.locator("main").click(position={"x": 5, "y": 5})
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("u")
    assert chooser.value.is_multiple()
    chooser.value.set_files([as_payload(name, data) for name, data in shots])

    panel = page.get_by_role("region", name=re.compile("Upload"))
    expect(panel.locator("[data-upload-item]")).to_have_count(5)
    expect(panel.get_by_role("heading")).to_have_text(re.compile(r"Uploading \d+ files?"))
    expect(panel.get_by_text(re.compile(r"Uploading \d+%")).first).to_be_visible()
    total = panel.get_by_role("progressbar", name="Total progress")
    expect(total).to_be_visible()
    expect(panel.get_by_role("progressbar", name="moot-0.jpg")).to_have_attribute(
        "aria-valuenow", re.compile(r"^\d+$")
    )
    expect(panel.get_by_role("heading")).to_have_text("Uploads finished", timeout=30_000)
    expect(panel.locator('[data-state="done"]')).to_have_count(5, timeout=30_000)
    expect(panel.locator("[data-upload-summary]")).to_have_text("5 uploaded")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    with library.api() as client:
        listed = client.get("/api/library/assets", params={"limit": 50}).json()["items"]
    by_name = {item["name"]: item["id"] for item in listed}
    assert len(listed) == 5, listed
    # The new photos are on the timeline without a reload.
    expect(page.locator(".tile[data-asset-id]")).to_have_count(5)

    # The same bytes again: recognised from their hash before anything is sent.
    sent: list[str] = []
    page.on(
        "request",
        lambda request: sent.append(request.url) if request.method != "GET" else None,
    )
    pick(page, as_payload("moot-again.jpg", shots[2][1]))
    again = row(page, "moot-again.jpg")
    link = again.get_by_role("link", name="Already in your library")
    expect(link).to_be_visible()
    original_id = next(value for key, value in by_name.items() if key.startswith("moot-2"))
    expect(link).to_have_attribute("href", f"/photos/{original_id}")
    assert not [url for url in sent if url.endswith("/api/library/assets")], sent

    # Text is refused by the server, which says why; dropped onto the page this time.
    assert drop(page, "notes.jpg", b"Session 12: the party reaches the mead hall.\n", "image/jpeg")
    failed = row(page, "notes.jpg")
    expect(failed).to_have_attribute("data-state", "failed")
    expect(failed).to_contain_text(UNSUPPORTED)
    expect(page.locator("[data-upload-drop]")).to_be_hidden()
    summary = panel.locator("[data-upload-summary]")
    expect(summary).to_have_text("5 uploaded · 1 already in your library · 1 failed")
    screenshot(page, "upload", desktop_only=True)
    # The panel is the point of these pictures, so they are taken of this page, not a new one.
    page.set_viewport_size(PHONE)
    expect(panel).to_have_css("left", "0px")
    page.screenshot(path=str(SCREENSHOTS / "upload-phone.png"))
    page.set_viewport_size(DESKTOP)
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(300)  # the buttons' colour transitions
    page.screenshot(path=str(SCREENSHOTS / "upload-dark.png"))
    page.emulate_media(color_scheme="light")

    # Collapsing keeps the summary; clearing the finished rows closes the panel.
    panel.get_by_role("button", name="Hide the list").click()
    expect(panel.locator("[data-upload-item]").first).to_be_hidden()
    panel.get_by_role("button", name="Show the list").click()
    panel.get_by_role("button", name="Clear finished").click()
    expect(panel).to_be_hidden()


def test_too_large_refused_at_once_and_a_cut_upload_resumes(
    spawn_server: Callable[..., ServerProcess],
    database_factory: Callable[[], str],
    open_page: Callable[..., Any],
    problems: PageProblems,
) -> None:
    library = start_library(
        spawn_server,
        database_factory(),
        MEADHALL_UPLOAD_MAX_BYTES="3000000",
        MEADHALL_UPLOAD_CHUNK_MAX_BYTES="262144",
    )
    page = library.open(open_page)
    sent: list[tuple[str, str]] = []
    page.on("request", lambda request: sent.append((request.method, request.url)))

    # Over the server's limit: refused in the browser, nothing leaves it.
    pick(page, as_payload("campaign-map.png", b"\x89PNG" + bytes(3_200_000), "image/png"))
    big = row(page, "campaign-map.png")
    expect(big).to_have_attribute("data-state", "failed")
    expect(big).to_contain_text("Too large: 3.2 MB, the limit is 3.0 MB")
    expect(big.get_by_role("button", name=re.compile("Retry"))).to_have_count(0)
    assert not [url for method, url in sent if method in ("POST", "PATCH") and "/uploads" in url]
    assert not [url for method, url in sent if method == "POST" and url.endswith("/assets")]

    # A file of several chunks: the third chunk's connection is cut, and the network stays
    # down until the page has said so; then it resumes where the server says it stopped.
    data = noise_png(600, 500, seed=7)
    assert 900_000 < len(data) < 3_000_000
    offsets: list[int] = []
    cut = {"patches": 0, "down": False}

    def network(route: Any) -> None:
        request = route.request
        if request.method == "PATCH":
            cut["patches"] += 1
            if cut["patches"] == 3:
                cut["down"] = True
        if cut["down"]:
            route.abort("connectionreset")
            return
        if request.method == "PATCH":
            offsets.append(int(request.headers["upload-offset"]))
        route.continue_()

    page.route(re.compile(r".*/api/library/uploads/[0-9a-f-]+$"), network)
    pick(page, as_payload("battle-of-the-ford.png", data, "image/png"))
    item = row(page, "battle-of-the-ford.png")
    expect(item).to_have_attribute("data-state", "retrying")
    expect(item).to_contain_text(re.compile(r"Connection lost at \d+%, retrying"))
    with library.api() as client:
        uploads = client.get("/api/library/assets").json()["items"]
        assert uploads == []
    page.context.set_offline(True)
    expect(item).to_contain_text("retrying when back online")
    cut["down"] = False
    page.context.set_offline(False)
    expect(item).to_have_attribute("data-state", re.compile("processing|done"), timeout=20_000)

    chunk = 262_144
    assert offsets[:2] == [0, chunk], offsets
    # The resumed chunk starts at the server's offset: nothing sent twice, nothing skipped.
    assert offsets == [i * chunk for i in range(len(offsets))], offsets
    assert offsets[-1] < len(data) <= offsets[-1] + chunk
    with library.api() as client:
        (asset,) = client.get("/api/library/assets").json()["items"]
        detail = client.get(f"/api/library/assets/{asset['id']}").json()
        stored = client.get(f"/api/library/assets/{asset['id']}/original").content
    assert asset["name"].startswith("battle-of-the-ford")
    assert detail["hashes"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()

    # The deliberate cut made Chromium log failed requests; nothing else may have been logged.
    problems.messages[:] = [m for m in problems.messages if "net::ERR_" not in m]
