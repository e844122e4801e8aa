"""Albums in a real browser: creating one, adding photos from the timeline, the cover, editing
in place, removing, deleting; and sharing with a second person in their own browser, whose page
follows the owner's changes of role live."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.library import MEMBER, LibraryServer, photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def tile(page: Any, asset_id: str, within: Any = None) -> Any:
    return (within or page).locator(f'.tile[data-asset-id="{asset_id}"]')


def select(page: Any, asset_id: str, within: Any = None) -> None:
    """Tick a tile's check mark (a plain click on a tile opens the viewer)."""
    target = tile(page, asset_id, within)
    target.hover()
    target.locator("[data-select]").click()


def album(library: LibraryServer, album_id: str, token: str | None = None) -> Any:
    with library.api(token) as client:
        return client.get(f"/api/library/albums/{album_id}")


def saved_album(library: LibraryServer, album_id: str, **expected: Any) -> dict[str, Any]:
    """The album once the server has the ``expected`` values (the page saves in the background)."""
    deadline = time.monotonic() + 10
    while True:
        body: dict[str, Any] = album(library, album_id).json()
        if all(body[key] == value for key, value in expected.items()):
            return body
        assert time.monotonic() < deadline, (expected, body)
        time.sleep(0.1)


def test_album_lifecycle(
    library: LibraryServer, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    ids = library.upload(
        photo("harbour.jpg", taken="2023:07:14 18:02:00", color=(40, 90, 180)),
        photo("tavern.jpg", taken="2023:07:15 21:10:00", color=(180, 90, 40), size=(480, 640)),
        photo("keep.jpg", taken="2023:08:01 09:30:00", color=(60, 150, 60)),
    )
    library.wait_processed(ids)
    harbour, tavern, keep = ids

    # No albums yet: the empty page offers to start one.
    page = library.open(open_page, "/albums")
    expect(page.get_by_role("heading", name="No albums yet")).to_be_visible()
    page.locator('[data-action="new-album"]').click()
    page.get_by_role("dialog").get_by_label("Name").fill("Harbour session")
    page.get_by_role("dialog").get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/albums/[0-9a-f-]{36}$"))
    album_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name="This album is empty")).to_be_visible()

    # Add two photos by picking them from the timeline in a dialog.
    page.locator('[data-action="add-photos"]').click()
    picker = page.get_by_role("dialog")
    expect(tile(page, keep, picker)).to_be_visible()
    tile(page, harbour, picker).click()
    tile(page, tavern, picker).click()
    expect(picker.locator(".album-picker__count")).to_have_text("2 photos selected")
    picker.locator('[data-action="add-selected"]').click()
    expect(picker).to_be_hidden()
    expect(page.get_by_text("Added 2 photos")).to_be_visible()
    expect(page.locator(".album__grid .tile")).to_have_count(2)
    expect(page.locator("[data-album-count]")).to_have_text("2 photos")
    expect(tile(page, harbour).locator("img")).to_have_attribute("alt", "harbour")

    # Rename and describe in place; Escape abandons an edit.
    page.get_by_role("button", name="Harbour session (rename)").click()
    page.get_by_label("Album name").fill("Harbour night")
    page.get_by_label("Album name").press("Escape")
    expect(page.get_by_role("heading", name="Harbour session")).to_be_visible()
    page.get_by_role("button", name="Harbour session (rename)").click()
    page.get_by_label("Album name").fill("Harbour night")
    page.get_by_label("Album name").press("Enter")
    expect(page.get_by_role("heading", name="Harbour night")).to_be_visible()
    page.get_by_role("button", name="Add a description").click()
    page.get_by_label("Album description").fill("The smugglers' landing, session 12.")
    page.get_by_label("Album description").press("Control+Enter")
    expect(page.locator(".album__description")).to_contain_text("smugglers' landing")
    saved = saved_album(
        library,
        album_id,
        name="Harbour night",
        description="The smugglers' landing, session 12.",
    )

    # The older photo becomes the cover (without it the newest one is).
    assert saved["cover_asset_id"] == tavern
    select(page, harbour)
    page.get_by_role("button", name="Set as cover").click()
    expect(page.get_by_text("Cover changed")).to_be_visible()
    saved_album(library, album_id, cover_asset_id=harbour, explicit_cover=True)

    # Remove one from the album: it leaves the grid, the photo itself stays in the library.
    select(page, tavern)
    page.get_by_role("button", name="Remove from album").click()
    expect(page.locator(".album__grid .tile")).to_have_count(1)
    expect(page.locator("[data-album-count]")).to_have_text("1 photo")
    with library.api() as client:
        assert client.get(f"/api/library/assets/{tavern}").json()["trashed_at"] is None
    screenshot(page, "album")

    # The albums page shows the chosen cover and the count.
    page.goto(library.url + "/albums")
    card = page.locator(f'.album-card[data-album-id="{album_id}"]')
    expect(card.locator("img")).to_have_attribute("src", f"/api/library/assets/{harbour}/thumbnail")
    expect(card).to_contain_text("Harbour night")
    expect(card).to_contain_text("1 photo")

    # Delete asks first, then the album is gone for good.
    card.get_by_role("link").click()
    page.locator('[data-action="delete-album"]').click()
    page.get_by_role("dialog").get_by_role("button", name="Delete album").click()
    expect(page).to_have_url(library.url + "/albums")
    assert album(library, album_id).status_code == 404
    expect(page.get_by_role("heading", name="No albums yet")).to_be_visible()

    # An album made from a selection on the timeline ("Add to album", then a new name).
    page.goto(library.url + "/")
    select(page, keep)
    select(page, tavern)
    page.locator('[data-selection-bar] [data-action="album"]').click()
    page.get_by_role("dialog").get_by_label("New album name").fill("Tavern brawl")
    page.get_by_role("dialog").get_by_role("button", name="Add").click()
    page.get_by_role("button", name="Open album").click()
    expect(page.get_by_role("heading", name="Tavern brawl")).to_be_visible()
    expect(page.locator(".album__grid .tile")).to_have_count(2)
    page.goto(library.url + "/albums")
    card = page.locator(".album-card", has_text="Tavern brawl")
    expect(card).to_contain_text("2 photos")
    expect(card.locator("img")).to_have_attribute("src", f"/api/library/assets/{keep}/thumbnail")


def test_sharing_roles(
    library: LibraryServer, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    member_token = library.add_member()
    ids = library.upload(
        photo("map.jpg", taken="2023:05:02 12:00:00", color=(90, 60, 160)),
        photo("dice.jpg", taken="2023:05:03 12:00:00", color=(160, 60, 90)),
    )
    (own,) = library.upload(photo("gudrun.jpg", taken="2023:05:04 10:00:00"), token=member_token)
    library.wait_processed(ids)
    library.wait_processed([own], token=member_token)
    with library.api() as client:
        created = client.post("/api/library/albums", json={"name": "Campaign maps"}).json()
        added = client.post(f"/api/library/albums/{created['id']}/assets", json={"asset_ids": ids})
        assert added.status_code == 200, added.text
    album_id = created["id"]

    # The owner shares it with Gudrun as a viewer.
    owner = library.open(open_page, f"/albums/{album_id}")
    owner.locator('[data-action="share"]').click()
    share = owner.get_by_role("dialog")
    share.get_by_label("Add people").fill("gu")
    share.get_by_role("button", name="Add Gudrun").click()
    member_row = share.locator(".share__member", has_text="Gudrun")
    expect(member_row.get_by_label("Role of Gudrun")).to_have_value("viewer")
    screenshot(owner, "album-share", desktop_only=True)
    share.get_by_role("button", name="Done").click()
    expect(owner.locator(".album__people")).to_contain_text("Shared with 1 person")
    # On the albums page the card says so, and its cover is painted before it loads.
    owner.goto(library.url + "/albums")
    mine = owner.locator(f'.album-card[data-album-id="{album_id}"]')
    expect(mine.locator("[data-share-badge]")).to_have_text("Shared · 1")
    expect(mine.locator("[data-share-badge]")).to_have_attribute("title", "Shared with 1 person")
    assert "data:image/png" in mine.locator(".album-card__cover").evaluate(
        "node => node.style.backgroundImage"
    )
    owner.goto(library.url + f"/albums/{album_id}")
    expect(owner.locator(".album__people")).to_contain_text("Shared with 1 person")

    # Gudrun, in her own browser, finds it under "Shared with me" and can only look.
    guest = library.open(open_page, "/albums", user=MEMBER)
    guest.get_by_role("button", name="Shared with me").click()
    card = guest.locator(f'.album-card[data-album-id="{album_id}"]')
    expect(card).to_contain_text("by Brynja")
    expect(card.locator("[data-role-badge]")).to_have_text("Viewer")
    card.get_by_role("link").click()
    expect(guest.get_by_role("heading", name="Campaign maps")).to_be_visible()
    expect(guest.locator(".album__grid .tile")).to_have_count(2)
    expect(guest.locator("[data-album-role]")).to_have_text("Viewer")
    expect(guest.locator('[data-action="add-photos"]')).to_have_count(0)
    expect(guest.locator(".album__title button")).to_have_count(0)
    expect(guest.locator('[data-action="leave-album"]')).to_be_visible()
    select(guest, ids[0])
    expect(guest.get_by_role("button", name="Remove from album")).to_have_count(0)
    guest.keyboard.press("Escape")
    # Her photos open in the viewer, in the album's order.
    tile(guest, ids[1]).click()
    expect(guest.locator("[data-viewer]")).to_be_visible()
    guest.keyboard.press("Escape")
    expect(guest.locator("[data-viewer]")).to_have_count(0)

    # The owner makes her a contributor: her open page follows live and lets her add.
    owner.locator(".album__people").click()
    owner.get_by_role("dialog").get_by_label("Role of Gudrun").select_option("contributor")
    expect(owner.get_by_role("dialog").locator(".share__status")).to_contain_text("contributor")
    owner.get_by_role("dialog").get_by_role("button", name="Done").click()
    expect(guest.locator("[data-album-role]")).to_have_text("Contributor")
    guest.locator('[data-action="add-photos"]').click()
    picker = guest.get_by_role("dialog")
    tile(guest, own, picker).click()
    picker.locator('[data-action="add-selected"]').click()
    expect(guest.locator(".album__grid .tile")).to_have_count(3)
    # The owner's page picks up her photo without a reload.
    expect(owner.locator(".album__grid .tile")).to_have_count(3)
    expect(tile(owner, own)).to_be_visible()
    screenshot(owner, "album-shared", desktop_only=True)

    # Removing her takes the album away from her open page too.
    owner.locator(".album__people").click()
    owner.get_by_role("dialog").get_by_role("button", name="Remove Gudrun").click()
    expect(owner.get_by_role("dialog").locator(".share__member")).to_have_count(1)
    owner.get_by_role("dialog").get_by_role("button", name="Done").click()
    expect(guest).to_have_url(library.url + "/albums", timeout=10_000)
    assert album(library, album_id, member_token).status_code == 404
    owner.goto(library.url + "/albums")
    expect(owner.locator(".album-card img.is-loaded")).to_have_count(1)
    screenshot(owner, "albums")
