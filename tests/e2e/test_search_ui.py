"""The search page in a real browser: text, tags, type, dates, camera, place and favourites
over real uploaded photos with real EXIF; the address bar as the search's state; and bulk
tagging a shift-clicked range of results."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from playwright.sync_api import expect

from tests.e2e.library import LibraryServer, photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAKE, MODEL = 0x010F, 0x0110
EXIF_IFD, GPS_IFD, DATETIME_ORIGINAL = 0x8769, 0x8825, 0x9003
ASSETS = "/api/library/assets"
PARIS = (48.8566, 2.3522)
BERGEN = (60.3913, 5.3221)


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600 * 100)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 100)


def camera_photo(
    name: str,
    *,
    taken: str,
    color: tuple[int, int, int],
    camera: tuple[str, str] | None = None,
    gps: tuple[float, float] | None = None,
) -> tuple[str, bytes]:
    """A real JPEG with the EXIF a camera writes: capture time, maker and model, position."""
    _, plain = photo(name, size=(480, 320), color=color)
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = taken
    if camera:
        exif[MAKE], exif[MODEL] = camera
    if gps:
        block = exif.get_ifd(GPS_IFD)
        block[1], block[2] = ("N" if gps[0] >= 0 else "S"), _dms(gps[0])
        block[3], block[4] = ("E" if gps[1] >= 0 else "W"), _dms(gps[1])
    out = io.BytesIO()
    with Image.open(io.BytesIO(plain)) as image:
        image.save(out, "JPEG", quality=85, exif=exif)
    return name, out.getvalue()


def names_shown(page: Any) -> list[str]:
    """Alt texts of the result tiles, sorted (the grid orders by capture time)."""
    return sorted(
        page.locator("[data-search-results] a.tile img").evaluate_all("els => els.map(e => e.alt)")
    )


def expect_results(page: Any, *names: str) -> None:
    tiles = page.locator("[data-search-results] a.tile")
    expect(tiles).to_have_count(len(names))
    assert names_shown(page) == sorted(names)


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_filters_links_and_history(
    library: LibraryServer, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    ids = library.upload(
        camera_photo(
            "harbour",
            taken="2021:06:02 05:40:00",
            color=(40, 90, 160),
            camera=("Canon", "EOS R5"),
            gps=BERGEN,
        ),
        camera_photo(
            "tavern",
            taken="2022:11:20 21:15:00",
            color=(160, 80, 30),
            camera=("Fujifilm", "X-T5"),
            gps=PARIS,
        ),
        camera_photo(
            "dragon", taken="2023:03:14 12:00:00", color=(150, 30, 30), camera=("Fujifilm", "X-T5")
        ),
        camera_photo("castle map", taken="2023:09:01 09:30:00", color=(90, 120, 60)),
        camera_photo(
            "market",
            taken="2024:05:18 11:05:00",
            color=(200, 160, 40),
            camera=("Canon", "EOS R5"),
            gps=PARIS,
        ),
        camera_photo("forest", taken="2024:08:09 16:45:00", color=(30, 110, 50)),
    )
    library.wait_processed(ids)
    harbour, tavern, dragon, castle, _market, _forest = ids
    with library.api() as client:

        def ok(response: Any) -> Any:
            assert response.status_code < 300, response.text
            return response

        ok(client.patch(f"{ASSETS}/{harbour}", json={"description": "Fishing boats at dawn"}))
        for asset_id in (tavern, dragon):
            ok(client.patch(f"{ASSETS}/{asset_id}", json={"type": "character"}))
        ok(client.patch(f"{ASSETS}/{castle}", json={"type": "map"}))
        for asset_id in (harbour, dragon):
            ok(client.post(f"{ASSETS}/{asset_id}/tags", json={"names": ["coast"]}))
        ok(client.post(f"{ASSETS}/{tavern}/favourite"))
        tags = ok(client.get("/api/library/tags", params={"prefix": "coast"})).json()
        coast = tags["items"][0]["id"]

    # Tall enough that the grid (which draws only what is near the screen) shows every result.
    page = library.open(open_page, "/search", viewport={"width": 1280, "height": 2000})
    expect_results(page, "harbour", "tavern", "dragon", "castle map", "market", "forest")
    expect(page.get_by_role("status").filter(has_text="6 photos")).to_be_visible()

    # "/" from anywhere focuses the box; typing searches after a pause, by name...
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    box = page.get_by_role("searchbox", name="Search names and descriptions")
    expect(box).to_be_focused()
    page.keyboard.type("harb")
    expect_results(page, "harbour")
    assert query_of(page) == {"q": ["harb"]}
    # ... and by description, at once on Enter.
    box.fill("boats")
    box.press("Enter")
    expect_results(page, "harbour")
    box.fill("")
    box.press("Enter")
    expect_results(page, "harbour", "tavern", "dragon", "castle map", "market", "forest")

    # Tag from the suggestions, then a type on top of it.
    tags = page.get_by_role("combobox", name="Tags")
    tags.fill("coa")
    page.get_by_role("option", name=re.compile("coast")).click()
    expect_results(page, "harbour", "dragon")
    assert query_of(page) == {"tag": [coast]}
    expect(page.get_by_role("list", name="Active filters")).to_contain_text("coast")
    page.get_by_label("Type", exact=True).select_option("character")
    expect_results(page, "dragon")
    assert query_of(page) == {"tag": [coast], "type": ["character"]}

    # Reloading keeps the search; Back restores the one before.
    page.reload()
    expect_results(page, "dragon")
    expect(page.get_by_label("Type", exact=True)).to_have_value("character")
    page.go_back()
    expect_results(page, "harbour", "dragon")
    expect(page.get_by_label("Type", exact=True)).to_have_value("")
    assert query_of(page) == {"tag": [coast]}
    page.go_forward()
    expect_results(page, "dragon")

    # The empty state offers to clear everything.
    page.get_by_role("button", name="Favourites", exact=True).click()
    expect(page.get_by_role("heading", name="No photos match")).to_be_visible()
    page.locator("[data-search-empty]").get_by_role("button", name="Clear filters").click()
    expect_results(page, "harbour", "tavern", "dragon", "castle map", "market", "forest")
    assert page.url.endswith("/search")

    # A date range.
    page.get_by_label("From", exact=True).fill("2023-01-01")
    page.get_by_label("To", exact=True).fill("2023-12-31")
    expect_results(page, "dragon", "castle map")
    assert query_of(page) == {"from": ["2023-01-01"], "to": ["2023-12-31"]}
    page.get_by_role("button", name=re.compile("Remove filter")).click()

    # Camera and place come from what the library holds, with counts.
    camera = page.get_by_label("Camera", exact=True)
    expect(camera.locator("option", has_text="Fujifilm X-T5 (2)")).to_have_count(1)
    camera.select_option(label="Fujifilm X-T5 (2)")
    expect_results(page, "tavern", "dragon")
    assert query_of(page) == {"camera_make": ["Fujifilm"], "camera_model": ["X-T5"]}
    camera.select_option(label="Canon (2)")
    expect_results(page, "harbour", "market")
    place = page.get_by_label("Place", exact=True)
    place.select_option(label="Paris, France (2)")
    expect_results(page, "market")
    place.select_option(label="Norway (1)")
    expect_results(page, "harbour")
    camera.select_option(label="Any camera")
    place.select_option(label="France (2)")
    expect_results(page, "tavern", "market")
    page.get_by_role("button", name="Favourites", exact=True).click()
    expect_results(page, "tavern")
    assert query_of(page) == {"country": ["France"], "favourite": ["true"]}
    expect(page.get_by_role("button", name="Favourites", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )

    # A link with everything (and some rubbish) opens as that search.
    rubbish = "type=bogus&tag=not-an-id&from=2022-13-45"
    page.goto(f"{library.url}/search?q=a&type=character&favourite=true&to=2022-12-31&{rubbish}")
    expect_results(page, "tavern")
    assert query_of(page) == {
        "q": ["a"],
        "type": ["character"],
        "to": ["2022-12-31"],
        "favourite": ["true"],
    }
    expect(box).to_have_value("a")

    page.goto(f"{library.url}/search?country=France")
    expect_results(page, "tavern", "market")
    screenshot(page, "search")


def test_range_select_bulk_tag_and_archive(
    library: LibraryServer, open_page: Callable[..., Any]
) -> None:
    # Newest first in the grid: a, b, c, d, e.
    files = [
        photo(
            f"{name} scroll", taken=f"2020:0{9 - n}:10 10:00:00", color=(40 * n, 90, 200 - 30 * n)
        )
        for n, name in enumerate(["a", "b", "c", "d", "e"])
    ]
    ids = library.upload(*files)
    library.wait_processed(ids)

    page = library.open(open_page, "/search?q=scroll", viewport={"width": 1280, "height": 2000})
    expect_results(page, "a scroll", "b scroll", "c scroll", "d scroll", "e scroll")
    tiles = page.locator("[data-search-results] a.tile")
    expect(tiles.nth(0).locator("img")).to_have_attribute("alt", "a scroll")

    # Pick b with its check, shift-click d: b, c and d are selected.
    tiles.nth(1).hover()
    tiles.nth(1).locator("[data-select]").click()
    tiles.nth(3).click(modifiers=["Shift"])
    selection = page.get_by_role("toolbar", name="Selected photos")
    expect(selection).to_contain_text("3 selected")
    selection.get_by_role("button", name="Add tags").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("combobox", name="Tags to add").fill("quest")
    dialog.get_by_role("combobox", name="Tags to add").press("Enter")
    dialog.get_by_role("button", name="Add tags").click()
    expect(page.get_by_text("Tagged 3 photos with quest")).to_be_visible()
    expect(selection).to_be_hidden()

    # The tag filter finds exactly them (the suggestion shows how many carry it).
    tags = page.get_by_role("combobox", name="Tags")
    tags.fill("que")
    page.get_by_role("option", name=re.compile(r"quest\s*3")).click()
    expect_results(page, "b scroll", "c scroll", "d scroll")
    searched = page.url

    # A result opens in the viewer; closing it comes back to the same search and grid.
    page.locator("[data-asset-grid]").evaluate("grid => grid.dataset.marked = 'yes'")
    tiles.nth(1).click()
    expect(page).to_have_url(re.compile(r"/photos/[0-9a-f-]+$"))
    page.keyboard.press("Escape")
    expect(page).to_have_url(searched)
    expect(page.locator("[data-asset-grid][data-marked]")).to_have_count(1)
    expect_results(page, "b scroll", "c scroll", "d scroll")

    # Archive one: it leaves the results, and "Archived only" finds it and can bring it back.
    tiles.nth(0).hover()
    tiles.nth(0).locator("[data-select]").click()
    selection.get_by_role("button", name="Archive").click()
    expect_results(page, "c scroll", "d scroll")
    expect(page.locator("[data-search-status]")).to_have_text("2 photos")
    page.get_by_label("Archived", exact=True).select_option("any")
    expect_results(page, "b scroll", "c scroll", "d scroll")
    expect(page).to_have_url(re.compile(r"archived=any"))
    page.get_by_label("Archived", exact=True).select_option("true")
    expect_results(page, "b scroll")
    tiles.nth(0).hover()
    tiles.nth(0).locator("[data-select]").click()
    selection.get_by_role("button", name="Unarchive").click()
    expect(page.get_by_role("heading", name="No photos match")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"archived=any"))
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"archived="))
    expect_results(page, "b scroll", "c scroll", "d scroll")

    # Changes made elsewhere (another tab, a phone) reach the results shown: a rename shows,
    # a photo put in the trash leaves, and the count follows.
    expect(page.locator("[data-search-status]")).to_have_text("3 photos")
    with library.api() as client:
        renamed = client.patch(f"/api/library/assets/{ids[3]}", json={"name": "d scroll, renamed"})
        assert renamed.status_code == 200, renamed.text
        trashed = client.delete(f"/api/library/assets/{ids[2]}")
        assert trashed.status_code in (200, 204), trashed.text
    expect_results(page, "b scroll", "d scroll, renamed")
    expect(page.locator("[data-search-status]")).to_have_text("2 photos")

    # On a phone the filters fold behind one button that counts them.
    page.set_viewport_size({"width": 360, "height": 740})
    panel = page.locator("[data-filters-panel]")
    expect(panel).to_be_hidden()
    toggle = page.get_by_role("button", name="Filters, 1 set")
    toggle.click()
    expect(panel).to_be_visible()
    expect(page.get_by_label("Type", exact=True)).to_be_visible()
    toggle.click()
    expect(panel).to_be_hidden()
