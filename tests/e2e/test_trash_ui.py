"""The trash in a real browser: what is in it and when it goes, restore, delete forever, and
emptying it, each checked against the API."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.library import LibraryServer, photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def tile(page: Any, asset_id: str) -> Any:
    return page.locator(f'.tile[data-asset-id="{asset_id}"]')


def select(page: Any, asset_id: str) -> None:
    target = tile(page, asset_id)
    target.hover()
    target.locator("[data-select]").click()


def test_restore_delete_forever_and_empty(
    library: LibraryServer, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    names = ["tavern", "ruins", "dragon", "harbour", "keep"]
    ids = library.upload(
        *(
            photo(f"{name}.jpg", taken=f"2023:05:1{n} 20:00:00", color=(60 + 30 * n, 80, 120))
            for n, name in enumerate(names)
        )
    )
    library.wait_processed(ids)
    kept, restored, purged, *rest = ids
    with library.api() as client:
        response = client.post("/api/library/assets/bulk", json={"ids": ids[1:], "action": "trash"})
        assert response.json()["done"] == 4

    page = library.open(open_page, "/trash")
    expect(page.get_by_role("heading", name="Trash", exact=True)).to_be_visible()
    expect(page.locator("[data-trash-note]")).to_have_text(
        "Photos in the trash are deleted for good 30 days after they were moved here."
    )
    expect(page.locator(".tile[data-asset-id]")).to_have_count(4)
    expect(tile(page, kept)).to_have_count(0)
    expect(tile(page, restored).locator(".trash-expiry")).to_have_text("30 days left")
    expect(tile(page, restored).get_by_role("img", name="ruins")).to_be_visible()
    empty_button = page.get_by_role("button", name="Empty trash")
    expect(empty_button).to_be_enabled()
    screenshot(page, "trash")

    # The viewer opens in its trash mode.
    tile(page, rest[0]).click()
    viewer = page.get_by_role("dialog", name=re.compile("dragon|harbour|keep"))
    expect(viewer.get_by_role("button", name="Restore")).to_be_visible()
    expect(viewer.get_by_role("button", name="Delete forever")).to_be_visible()
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    # Restore one: it leaves the trash and is back on the timeline.
    select(page, restored)
    bar = page.get_by_role("toolbar", name="Selected photos")
    expect(bar).to_contain_text("1 selected")
    bar.get_by_role("button", name="Restore").click()
    expect(tile(page, restored)).to_have_count(0)
    expect(page.locator(".toast").filter(has_text="1 item restored")).to_be_visible()
    with library.api() as client:
        assert client.get(f"/api/library/assets/{restored}").json()["trashed_at"] is None

    # Delete one forever, after saying so.
    select(page, purged)
    bar.get_by_role("button", name="Delete forever").click()
    dialog = page.get_by_role("dialog", name="Delete 1 item forever?")
    dialog.get_by_role("button", name="Delete forever").click()
    expect(tile(page, purged)).to_have_count(0)
    expect(page.locator(".tile[data-asset-id]")).to_have_count(2)
    with library.api() as client:
        assert client.get(f"/api/library/assets/{purged}").status_code == 404

    # Empty the trash; cancelling the question first changes nothing.
    empty_button.click()
    page.get_by_role("dialog", name="Empty the trash?").get_by_role("button", name="Cancel").click()
    expect(page.locator(".tile[data-asset-id]")).to_have_count(2)
    empty_button.click()
    page.get_by_role("dialog", name="Empty the trash?").get_by_role(
        "button", name="Empty trash"
    ).click()
    expect(page.get_by_role("heading", name="Trash is empty")).to_be_visible()
    expect(empty_button).to_be_disabled()
    with library.api() as client:
        assert client.get("/api/library/assets", params={"trashed": True}).json()["items"] == []
        for asset_id in rest:
            assert client.get(f"/api/library/assets/{asset_id}").status_code == 404

    timeline = library.open(open_page, "/")
    expect(tile(timeline, restored)).to_be_visible()
    expect(tile(timeline, kept)).to_be_visible()
    expect(timeline.locator(".tile[data-asset-id]")).to_have_count(2)
