"""The Library's whole story in one browser session, the way a new group meets it.

onboarding → upload a set of photos → they sit in the timeline under the right months → the
viewer → a tag → an album → search → trash → restore → the admin retries a failed job.
Each step has its own detailed tests beside this file; this one proves they fit together.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import ServerProcess
from tests.e2e.library import ADMIN, photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHOTOS = [
    photo("longship.jpg", taken="2024:05:28 09:15:00", color=(40, 90, 200)),
    photo("mead-hall.jpg", taken="2024:05:03 19:40:00", color=(200, 120, 30)),
    photo("runestone.jpg", taken="2023:11:11 12:00:00", color=(90, 160, 70)),
    photo("fjord.jpg", taken="2023:11:02 07:30:00", color=(30, 140, 170)),
]
SCAN = "library.scan_folder"


def tile(page: Any, name: str) -> Any:
    return page.locator("a.tile").filter(has=page.get_by_role("img", name=name, exact=True))


def wait_for_job(client: httpx.Client, job_id: str, *statuses: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get(f"/api/jobs/{job_id}").json()["status"] in statuses:
            return
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never reached {statuses}")


def test_a_new_group_meets_the_library(
    spawn_server: Callable[..., ServerProcess],
    database_factory: Callable[[], str],
    open_page: Callable[..., Any],
    tmp_path: Path,
) -> None:
    server = spawn_server(database_factory())
    page = open_page(viewport={"width": 1280, "height": 1400})

    # Onboarding: the first visitor sets up the server and lands on an empty timeline.
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/onboarding")
    for field, value in (
        ("display_name", ADMIN["display_name"]),
        ("email", ADMIN["email"]),
        ("password", ADMIN["password"]),
        ("password_confirm", ADMIN["password"]),
    ):
        page.locator(f'[data-form="onboarding"] [name="{field}"]').fill(value)
    page.get_by_role("button", name="Create admin account").click()
    expect(page.get_by_role("heading", name="No photos yet")).to_be_visible()

    # Upload a set of photos with the picker; they arrive without a reload.
    files = [{"name": name, "mimeType": "image/jpeg", "buffer": data} for name, data in PHOTOS]
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload", exact=True).click()
    chooser.value.set_files(files)
    panel = page.get_by_role("region", name=re.compile("Upload"))
    expect(panel.get_by_role("heading")).to_have_text("Uploads finished", timeout=30_000)
    for name, _ in PHOTOS:
        expect(tile(page, name.removesuffix(".jpg"))).to_have_count(1, timeout=30_000)

    # The right months, newest first, and the photos in capture order within them.
    expect(page.locator(".agrid__month")).to_have_text(["May 2024", "November 2023"])
    # Tiles are positioned, so read the order off the screen rather than the DOM.
    order = page.locator("a.tile img").evaluate_all(
        """imgs => imgs
            .map(i => ({alt: i.alt, box: i.getBoundingClientRect()}))
            .sort((a, b) => a.box.top - b.box.top || a.box.left - b.box.left)
            .map(i => i.alt)"""
    )
    assert order == ["longship", "mead-hall", "runestone", "fjord"]

    # The viewer: open a photo, step to the next with the keyboard, tag it, put it in an album.
    tile(page, "mead-hall").click()
    viewer = page.locator("[data-viewer]")
    expect(viewer.get_by_role("heading", name="mead-hall")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(viewer.get_by_role("heading", name="runestone")).to_be_visible()
    page.keyboard.press("i")
    info = page.locator("[data-viewer-info]")
    tag_field = info.get_by_role("combobox", name="Add a tag")
    tag_field.fill("lore")
    tag_field.press("Enter")
    expect(info.get_by_role("button", name="Remove tag lore")).to_be_visible()
    page.get_by_role("button", name="Add to album").click()
    page.get_by_label("New album name").fill("Saga of the north")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(info.locator("[data-viewer-albums]")).to_contain_text("Saga of the north")
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)

    # The album holds it.
    page.get_by_role("link", name="Albums").click()
    page.get_by_role("link", name=re.compile("Saga of the north")).first.click()
    expect(page.locator("a.tile img")).to_have_attribute("alt", "runestone")

    # Search by text, then by the tag from the tags page.
    page.get_by_role("link", name="Search").click()
    page.get_by_role("searchbox").fill("fjord")
    page.get_by_role("searchbox").press("Enter")
    expect(page.locator("a.tile img")).to_have_count(1)
    expect(page.locator("a.tile img")).to_have_attribute("alt", "fjord")
    page.get_by_role("link", name="Tags").click()
    page.get_by_role("link", name=re.compile("lore")).first.click()
    expect(page).to_have_url(re.compile(r"/search\?tag="))
    expect(page.locator("a.tile img")).to_have_count(1)
    expect(page.locator("a.tile img")).to_have_attribute("alt", "runestone")

    # Trash from the viewer, then restore from the trash page.
    page.get_by_role("link", name="Photos").click()
    tile(page, "longship").click()
    expect(page.locator("[data-viewer]").get_by_role("heading", name="longship")).to_be_visible()
    page.keyboard.press("Delete")
    expect(page.locator(".toast").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(tile(page, "longship")).to_have_count(0)
    page.get_by_role("link", name="Trash").click()
    expect(tile(page, "longship")).to_have_count(1)
    tile(page, "longship").locator("[data-select]").click()
    page.get_by_role("toolbar", name="Selected photos").get_by_role(
        "button", name="Restore"
    ).click()
    expect(tile(page, "longship")).to_have_count(0)
    page.get_by_role("link", name="Photos").click()
    expect(tile(page, "longship")).to_have_count(1)

    # The admin retries a failed job: a folder whose disk went away fails its scan; once the
    # disk is back, Retry on the jobs page brings it to success, live.
    folder = tmp_path / "usb-disk"
    folder.mkdir()
    (folder / "map.jpg").write_bytes(photo("map.jpg", color=(120, 60, 160))[1])
    login = httpx.post(
        server.url + "/api/auth/login",
        json={"email": ADMIN["email"], "password": ADMIN["password"]},
        timeout=30,
    )
    token = login.json()["access_token"]
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        me = client.get("/api/me").json()
        created = client.post(
            "/api/library/folders", json={"path": str(folder), "owner_id": me["id"], "watch": False}
        )
        assert created.status_code == 201, created.text
        folder_id = created.json()["id"]
        first_scan = client.get("/api/jobs", params={"kind": SCAN}).json()["items"][0]["id"]
        wait_for_job(client, first_scan, "succeeded")
        folder.rename(tmp_path / "unplugged")
        job_id = client.post(f"/api/library/folders/{folder_id}/rescan").json()["id"]
        wait_for_job(client, job_id, "failed", timeout=60)

    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Jobs").click()
    job = page.locator(f'tr[data-job-id="{job_id}"]')
    expect(job.locator("[data-status]")).to_have_text("Failed")
    (tmp_path / "unplugged").rename(folder)
    job.get_by_role("button", name="Retry").click()
    expect(job.locator("[data-status]")).to_have_text("Succeeded", timeout=30_000)
