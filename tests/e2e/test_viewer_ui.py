"""The photo viewer and the random button, in a real browser against a real server.

Photos carry real EXIF (camera, exposure, capture time with its UTC offset, GPS) so the info
panel has something true to show; every change made in the viewer is checked through the API.
"""

from __future__ import annotations

import io
import re
import time
from fractions import Fraction
from typing import Any

import pytest
from PIL import Image, TiffImagePlugin
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, SCREENSHOTS
from tests.e2e.library import LibraryServer, photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
MAKE, MODEL = 0x010F, 0x0110
EXPOSURE, F_NUMBER, ISO = 0x829A, 0x829D, 0x8827
TAKEN, OFFSET_TAKEN = 0x9003, 0x9011
FOCAL_LENGTH, LENS_MODEL = 0x920A, 0xA434


def camera_photo(name: str, *, size: tuple[int, int] = (2400, 1600)) -> tuple[str, bytes]:
    """A photo as a camera writes it: make, model, lens, exposure, offset time and GPS (Oslo)."""
    # A small gradient scaled up: large enough to zoom past the preview, quick to make.
    _, plain = photo(name, size=(size[0] // 8, size[1] // 8), color=(40, 120, 200))
    image = Image.open(io.BytesIO(plain)).resize(size, Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[MAKE] = "Canon"
    exif[MODEL] = "Canon EOS R6"
    details = exif.get_ifd(EXIF_IFD)
    details[TAKEN] = "2024:05:03 14:22:00"
    details[OFFSET_TAKEN] = "+02:00"
    details[EXPOSURE] = TiffImagePlugin.IFDRational(Fraction(1, 250))
    details[F_NUMBER] = TiffImagePlugin.IFDRational(Fraction(28, 10))
    details[ISO] = 200
    details[FOCAL_LENGTH] = TiffImagePlugin.IFDRational(35)
    details[LENS_MODEL] = "RF 35mm F1.8"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (59.0, 54.0, 50.0)
    gps[3], gps[4] = "E", (10.0, 45.0, 8.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=90)
    return name, buffer.getvalue()


def asset(library: LibraryServer, asset_id: str) -> dict[str, Any]:
    with library.api() as client:
        response = client.get(f"/api/library/assets/{asset_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


def open_viewer(library: LibraryServer, open_page: Any, asset_id: str, **options: Any) -> Any:
    """The timeline, then a click on the photo's tile: the viewer walks the timeline from it."""
    page = library.open(open_page, "/", **options)
    page.locator(f'.tile[data-asset-id="{asset_id}"]').click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator("[data-viewer]")).to_have_attribute("data-asset-id", asset_id)
    expect(page).to_have_url(re.compile(f"/photos/{asset_id}$"))
    return page


def test_viewer_browse_zoom_info_and_edit(
    library: LibraryServer, open_page: Any, screenshot: Any
) -> None:
    files = [
        photo("newest.jpg", taken="2024:05:20 10:00:00"),
        camera_photo("harbour.jpg"),
        photo("oldest.jpg", taken="2024:05:01 10:00:00", color=(200, 60, 90)),
    ]
    newest, harbour, oldest = ids = library.upload(*files)
    library.wait_processed(ids)
    with library.api() as client:
        # A tag that exists already, for the autocomplete to find.
        assert (
            client.post(f"/api/library/assets/{newest}/tags", json={"names": ["npc"]}).status_code
            == 200
        )

    page = open_viewer(library, open_page, harbour)
    viewer = page.locator("[data-viewer]")
    expect(viewer.get_by_role("heading", name="harbour")).to_be_visible()
    expect(viewer.get_by_role("img", name="harbour")).to_be_visible()
    assert page.url.endswith(f"/photos/{harbour}")

    # Next and previous with the keyboard; the address follows.
    page.keyboard.press("ArrowRight")
    expect(viewer).to_have_attribute("data-asset-id", oldest)
    expect(page).to_have_url(re.compile(f"/photos/{oldest}$"))
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(viewer).to_have_attribute("data-asset-id", newest)
    page.keyboard.press("ArrowRight")
    expect(viewer).to_have_attribute("data-asset-id", harbour)

    # Zoom: buttons and keys; past the preview's pixels the original is loaded.
    stage = page.locator("[data-viewer-stage]")
    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    expect(stage).to_have_attribute("data-zoom", "2.25")
    expect(stage).to_have_attribute("data-original", "loaded")
    page.keyboard.press("-")
    expect(stage).to_have_attribute("data-zoom", "1.50")
    page.get_by_role("button", name="Zoom out").click()
    expect(stage).to_have_attribute("data-zoom", "1.00")
    stage.dblclick()
    expect(stage).to_have_attribute("data-zoom", "2.50")
    stage.dblclick()
    expect(stage).to_have_attribute("data-zoom", "1.00")
    stage.hover()
    page.mouse.wheel(0, -200)
    expect(stage).not_to_have_attribute("data-zoom", "1.00")
    page.keyboard.press("0")
    expect(stage).to_have_attribute("data-zoom", "1.00")

    # Focus stays inside the viewer (the page behind is inert).
    for _ in range(14):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.querySelector('[data-viewer]').contains(document.activeElement)"
        )
    screenshot(page, "viewer")

    # The info panel: camera, exposure, time with its zone, place, palette, size.
    page.keyboard.press("i")
    info = page.locator("[data-viewer-info]")
    expect(info).to_be_visible()
    expect(info.locator('[data-fact="camera"]')).to_contain_text("Canon EOS R6")
    expect(info.locator('[data-fact="camera"]')).to_contain_text("RF 35mm F1.8")
    expect(info.locator('[data-fact="exposure"] dd')).to_have_text(
        "1/250 s · f/2.8 · ISO 200 · 35 mm"
    )
    taken = info.locator('[data-fact="taken"]')
    expect(taken).to_contain_text("2024")
    expect(taken).to_contain_text("2:22")
    expect(info.locator('[data-fact="place"]')).to_contain_text("Oslo")
    expect(info.locator('[data-fact="place"]')).to_contain_text("59.91")
    expect(info.locator('[data-fact="size"]')).to_contain_text("2400 \u00d7 1600")
    detail = asset(library, harbour)
    assert detail["capture"]["timezone"]
    expect(taken).to_contain_text(detail["capture"]["timezone"])
    palette = detail["palette"]
    assert palette
    expect(info.locator('[data-fact="palette"] li')).to_have_count(len(palette))
    expect(info.locator('[data-fact="palette"]')).to_contain_text(palette[0])
    screenshot(page, "viewer-info", desktop_only=True)

    # Editing, field by field: a bad value is refused inline, good ones are saved.
    name = info.get_by_label("Name", exact=True)
    name.fill("")
    name.press("Enter")
    expect(info.get_by_text("Name can't be empty.")).to_be_visible()
    name.fill("Harbour at dusk")
    name.press("Enter")
    expect(page.get_by_role("heading", name="Harbour at dusk")).to_be_visible()
    expect(info.get_by_text("Name can't be empty.")).to_be_hidden()
    info.get_by_label("Description").fill("The fleet before the raid.")
    info.get_by_label("Type").select_option("character")
    info.get_by_label("Attribution").fill("Brynja, CC BY 4.0")
    info.get_by_label("Attribution").press("Enter")
    expect(info.locator('[data-field="attribution"]')).to_contain_text("Saved")
    detail = asset(library, harbour)
    assert detail["name"] == "Harbour at dusk"
    assert detail["description"] == "The fleet before the raid."
    assert detail["type"] == "character"
    assert detail["attribution"] == "Brynja, CC BY 4.0"

    # The focus point: pick it on the photo, then clear it.
    info.get_by_role("button", name="Set focus point").click()
    box = page.locator('[data-viewer-stage] img[alt="Harbour at dusk"]').bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.75)
    expect(page.locator("[data-focus-marker]")).to_be_visible()
    expect(info.locator("[data-focus-status]")).to_have_text("25% across, 75% down")
    focus = asset(library, harbour)["focus"]
    assert focus and abs(focus["x"] - 0.25) < 0.01 and abs(focus["y"] - 0.75) < 0.01
    info.get_by_role("button", name="Clear focus").click()
    expect(info.locator("[data-focus-status]")).to_have_text("Not set")
    assert asset(library, harbour)["focus"] is None

    # Tags: an existing one through the suggestions, a new one with Enter, then remove it.
    tag_field = info.get_by_role("combobox", name="Add a tag")
    tag_field.fill("np")
    info.get_by_role("option", name="npc").click()
    tag_field.fill("tavern")
    tag_field.press("Enter")
    expect(info.get_by_role("button", name="Remove tag tavern")).to_be_visible()
    assert sorted(tag["name"] for tag in asset(library, harbour)["tags"]) == ["npc", "tavern"]
    info.get_by_role("button", name="Remove tag tavern").click()
    expect(info.get_by_role("button", name="Remove tag tavern")).to_be_hidden()
    assert [tag["name"] for tag in asset(library, harbour)["tags"]] == ["npc"]

    # Favourite with F; add to a new album.
    page.locator("[data-viewer-stage]").click(position={"x": 5, "y": 5})
    page.keyboard.press("f")
    expect(page.get_by_role("button", name="Remove from favourites")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert asset(library, harbour)["is_favourite"] is True
    page.get_by_role("button", name="Add to album").click()
    page.get_by_label("New album name").fill("Raid on the coast")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text('Added to "Raid on the coast"')).to_be_visible()
    expect(info.locator("[data-viewer-albums]")).to_contain_text("Raid on the coast")
    assert [album["name"] for album in asset(library, harbour)["albums"]] == ["Raid on the coast"]

    # Download the original: the very bytes uploaded.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download original").click()
    download = download_info.value
    path = download.path()
    assert path is not None
    with open(path, "rb") as handle:
        assert handle.read() == files[1][1]

    # Delete moves to the trash and on to the next photo; Undo brings it back.
    page.locator("[data-viewer-stage]").click(position={"x": 5, "y": 5})
    page.keyboard.press("Delete")
    expect(viewer).to_have_attribute("data-asset-id", oldest)
    assert asset(library, harbour)["trashed_at"] is not None
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text('"Harbour at dusk" restored')).to_be_visible()
    assert asset(library, harbour)["trashed_at"] is None

    # Escape closes the viewer and the address goes back to the timeline.
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/$"))


def test_random_button_with_filters(library: LibraryServer, open_page: Any) -> None:
    portrait, landscape = library.upload(
        photo("jarl.jpg", taken="2023:07:14 18:02:00"),
        photo("fjord.jpg", taken="2023:07:15 18:02:00", color=(30, 160, 90)),
    )
    library.wait_processed([portrait, landscape])
    with library.api() as client:
        assert (
            client.post(
                f"/api/library/assets/{portrait}/tags", json={"names": ["portrait"]}
            ).status_code
            == 200
        )
        assert (
            client.patch(f"/api/library/assets/{portrait}", json={"type": "character"}).status_code
            == 200
        )
        assert client.post("/api/library/tags", json={"name": "dragon"}).status_code == 201

    page = library.open(open_page, "/")
    page.get_by_role("button", name="Random").click()
    dialog = page.get_by_role("dialog", name="Random photo")
    dialog.get_by_label("Type").select_option("character")
    dialog.get_by_label("Tag").fill("portrait")
    dialog.get_by_role("button", name="Pick").click()
    viewer = page.locator("[data-viewer]")
    expect(viewer).to_have_attribute("data-asset-id", portrait)
    expect(page).to_have_url(re.compile(f"/photos/{portrait}$"))
    # Only one photo matches: "Another" says so instead of showing the same one again.
    page.get_by_role("button", name="Another").click()
    expect(page.get_by_text("This is the only photo that matches.")).to_be_visible()
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/$"))

    # The filters are remembered; a tag nothing carries and an unknown tag both say so.
    page.get_by_role("button", name="Random").click()
    expect(dialog.get_by_label("Tag")).to_have_value("portrait")
    expect(dialog.get_by_label("Type")).to_have_value("character")
    dialog.get_by_label("Tag").fill("dragon")
    dialog.get_by_role("button", name="Pick").click()
    expect(dialog.get_by_text("No photo matches these filters.")).to_be_visible()
    dialog.get_by_label("Tag").fill("wyvern")
    dialog.get_by_role("button", name="Pick").click()
    expect(dialog.get_by_text("There is no tag named “wyvern”.")).to_be_visible()
    dialog.get_by_label("Type").select_option("")
    dialog.get_by_label("Tag").fill("")
    dialog.get_by_role("button", name="Pick").click()
    expect(viewer).to_have_attribute("data-asset-id", re.compile(f"^({portrait}|{landscape})$"))

    # A shared link opens the viewer on its photo; Back leaves for the timeline behind it.
    page.goto(f"{library.url}/photos/{landscape}")
    expect(viewer).to_have_attribute("data-asset-id", landscape)
    expect(viewer.get_by_role("heading", name="fjord")).to_be_visible()
    page.go_back()
    expect(viewer).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/$"))


def test_viewer_on_a_phone(library: LibraryServer, open_page: Any) -> None:
    ids = library.upload(
        photo("first.jpg", taken="2024:06:02 10:00:00"),
        camera_photo("second.jpg", size=(1200, 800)),
    )
    library.wait_processed(ids)
    page = open_viewer(
        library,
        open_page,
        ids[0],
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    viewer = page.locator("[data-viewer]")

    # A swipe to the left shows the next photo; to the right, the previous one.
    def swipe(from_x: float, to_x: float) -> None:
        cdp = page.context.new_cdp_session(page)
        y = 370
        cdp.send(
            "Input.dispatchTouchEvent",
            {"type": "touchStart", "touchPoints": [{"x": from_x, "y": y}]},
        )
        for step in range(1, 9):
            x = from_x + (to_x - from_x) * step / 8
            cdp.send(
                "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
            )
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()

    swipe(300, 60)
    expect(viewer).to_have_attribute("data-asset-id", ids[1])
    swipe(60, 300)
    expect(viewer).to_have_attribute("data-asset-id", ids[0])
    swipe(300, 60)
    expect(viewer).to_have_attribute("data-asset-id", ids[1])

    # The info panel is a bottom sheet over the photo, within the 360 px screen.
    page.get_by_role("button", name="Info").click()
    info = page.locator("[data-viewer-info]")
    expect(info).to_be_visible()
    expect(info.locator('[data-fact="exposure"] dd')).to_have_text(
        "1/250 s · f/2.8 · ISO 200 · 35 mm"
    )
    box = info.bounding_box()
    assert box
    assert box["x"] == 0 and box["width"] == PHONE["width"]
    assert abs(box["y"] + box["height"] - PHONE["height"]) < 2
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "viewer-info-phone.png"))


def test_viewer_in_the_trash_and_in_an_album(library: LibraryServer, open_page: Any) -> None:
    first, second, third, fourth = ids = library.upload(
        photo("first.jpg", taken="2024:03:04 10:00:00"),
        photo("second.jpg", taken="2024:03:03 10:00:00"),
        photo("third.jpg", taken="2024:03:02 10:00:00"),
        photo("fourth.jpg", taken="2024:03:01 10:00:00"),
    )
    library.wait_processed(ids)
    with library.api() as client:
        for asset_id in (first, second):
            assert client.delete(f"/api/library/assets/{asset_id}").status_code == 200
        album = client.post("/api/library/albums", json={"name": "Crew"}).json()
        added = client.post(
            f"/api/library/albums/{album['id']}/assets", json={"asset_ids": [third, fourth]}
        )
        assert added.status_code == 200, added.text

    # The trash: restore, then delete forever (after a confirmation); the last one closes it.
    page = library.open(open_page, "/trash")
    page.locator(f'.tile[data-asset-id="{first}"]').click()
    viewer = page.locator("[data-viewer]")
    expect(viewer).to_have_attribute("data-asset-id", first)
    expect(viewer.get_by_role("button", name="Favourite")).to_have_count(0)
    viewer.get_by_role("button", name="Restore").click()
    expect(page.get_by_text('"first" restored')).to_be_visible()
    expect(viewer).to_have_attribute("data-asset-id", second)
    assert asset(library, first)["trashed_at"] is None
    page.keyboard.press("Delete")
    page.get_by_role("dialog", name="Delete forever?").get_by_role(
        "button", name="Delete forever"
    ).click()
    expect(viewer).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/trash$"))
    with library.api() as client:
        assert client.get(f"/api/library/assets/{second}").status_code == 404

    # An album: remove a photo from it (the viewer moves on), then Undo.
    page.goto(f"{library.url}/albums/{album['id']}")
    page.locator(f'.tile[data-asset-id="{third}"]').click()
    expect(viewer).to_have_attribute("data-asset-id", third)
    viewer.get_by_role("button", name="Remove from album").click()
    expect(viewer).to_have_attribute("data-asset-id", fourth)

    def album_ids() -> list[str]:
        with library.api() as client:
            items = client.get(f"/api/library/albums/{album['id']}/assets").json()["items"]
        return sorted(item["id"] for item in items)

    assert album_ids() == [fourth]
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text('"third" removed from the album')).to_be_hidden()
    deadline = time.monotonic() + 5
    while album_ids() != sorted([third, fourth]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert album_ids() == sorted([third, fourth])
