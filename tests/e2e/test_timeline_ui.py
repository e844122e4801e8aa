"""The timeline in a real browser: months and days, placeholders, live updates, selection and
bulk actions, the keyboard, and a 100k-photo library that keeps a bounded DOM while scrolling.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
import thumbhash
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.e2e.library import (
    ADMIN,
    EXIF_DATETIME_ORIGINAL,
    EXIF_IFD,
    LibraryServer,
    start_library,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# (name, EXIF capture time, size, colour): three months, varied shapes and colours.
SCENE = [
    ("Harbour at dusk.jpg", "2024:05:28 20:41:00", (900, 600), (230, 120, 40)),
    ("Dragon on the table.jpg", "2024:05:28 19:02:00", (600, 800), (40, 160, 90)),
    ("Tavern map.jpg", "2024:05:26 15:30:00", (800, 800), (200, 170, 60)),
    ("Night market.jpg", "2024:05:19 22:10:00", (1000, 560), (180, 40, 160)),
    ("Lanterns.jpg", "2024:05:19 21:55:00", (560, 840), (250, 90, 60)),
    ("Dice tower.jpg", "2024:05:11 18:00:00", (700, 520), (60, 90, 220)),
    ("Painted elf.jpg", "2024:05:11 17:45:00", (520, 700), (120, 200, 180)),
    ("Fjord.jpg", "2024:05:03 09:12:00", (1200, 500), (20, 140, 200)),
    ("Forest path.jpg", "2024:03:30 11:00:00", (800, 600), (70, 170, 50)),
    ("Ruined keep.jpg", "2024:03:30 10:20:00", (600, 900), (150, 110, 90)),
    ("Campfire.jpg", "2024:03:22 21:30:00", (800, 600), (240, 150, 30)),
    ("Orc warband.jpg", "2024:03:22 20:15:00", (900, 700), (110, 150, 40)),
    ("Snowy pass.jpg", "2024:03:09 13:40:00", (1000, 650), (200, 220, 240)),
    ("Wizard portrait.jpg", "2024:03:09 13:10:00", (560, 760), (140, 60, 200)),
    ("City gates.jpg", "2024:03:02 16:00:00", (880, 600), (210, 80, 80)),
    ("Yule feast.jpg", "2023:12:24 19:30:00", (900, 600), (200, 40, 50)),
    ("Frost giant.jpg", "2023:12:24 18:50:00", (600, 840), (100, 180, 230)),
    ("Winter village.jpg", "2023:12:16 14:20:00", (1100, 620), (230, 200, 160)),
    ("Candlelit library.jpg", "2023:12:08 20:00:00", (720, 720), (190, 120, 50)),
    ("Sea serpent.jpg", "2023:12:02 12:00:00", (960, 540), (30, 110, 150)),
]
MONTHS = ["2024-05", "2024-03", "2023-12"]


def scene_photo(
    name: str, taken: str, size: tuple[int, int], colour: tuple[int, int, int]
) -> tuple[str, bytes]:
    """A small painted landscape with an EXIF capture time, drawn with whole-image operations.

    A sky fading from ``colour``, a soft sun and two ranges of hills placed from the name, so
    every thumbnail and its placeholder look different.
    """
    width, height = size
    seed = sum(name.encode())
    pale = tuple(min(255, c + 110) for c in colour)
    sky = Image.composite(
        Image.new("RGB", size, colour),
        Image.new("RGB", size, pale),
        Image.linear_gradient("L").resize(size),
    )
    glow = (
        Image.radial_gradient("L").resize((width // 2, width // 2)).point(lambda v: min(255, v * 3))
    )
    sun = Image.new("RGB", glow.size, (255, 244, 214))
    sky.paste(
        sun, (seed * 37 % max(1, width // 2), height // 8), Image.eval(glow, lambda v: 255 - v)
    )
    draw = ImageDraw.Draw(sky)
    for layer, shade in enumerate((0.55, 0.3)):
        base = height * (0.62 + 0.14 * layer)
        points = [(0, height)]
        for step in range(9):
            x = width * step / 8
            points.append(
                (x, base - height * 0.12 * (((seed >> step) + step * (layer + 3)) % 5) / 4)
            )
        points.append((width, height))
        draw.polygon(points, fill=tuple(int(c * shade) for c in colour[::-1]))
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[EXIF_DATETIME_ORIGINAL] = taken
    buffer = io.BytesIO()
    sky.save(buffer, "JPEG", exif=exif, quality=85)
    return name, buffer.getvalue()


def tile(page: Any, asset_id: str) -> Any:
    return page.locator(f'a.tile[data-asset-id="{asset_id}"]')


def visual_order(page: Any) -> list[str]:
    """Tile ids as a reader sees them: by row, then left to right."""
    return list(
        page.locator("a.tile").evaluate_all(
            """ts => ts.map(t => [t.getBoundingClientRect(), t.dataset.assetId])
                .sort(([a], [b]) => a.top - b.top || a.left - b.left).map(([, id]) => id)"""
        )
    )


def names_by_id(library: LibraryServer, ids: list[str]) -> dict[str, str]:
    with library.api() as client:
        return {i: client.get(f"/api/library/assets/{i}").json()["name"] for i in ids}


@pytest.fixture
def library(spawn_server: Callable[..., Any], database_factory: Callable[[], str]) -> LibraryServer:
    """The shared fixture's server, with more workers: twenty photos get processed at once."""
    return start_library(spawn_server, database_factory(), MEADHALL_WORKER_CONCURRENCY="8")


def test_timeline_months_live_selection_and_keyboard(
    library: LibraryServer, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    files = [scene_photo(*spec) for spec in SCENE]
    ids = library.upload(*files)
    library.wait_processed(ids)
    names = names_by_id(library, ids)

    page = library.open(open_page)
    headings = page.locator(".agrid__month")
    expect(headings).to_have_text(["May 2024", "March 2024", "December 2023"])
    tops = [headings.nth(i).bounding_box()["y"] for i in range(3)]  # type: ignore[index]
    assert tops == sorted(tops)
    expect(page.locator(".agrid__day").first).to_have_text("Tue, May 28")
    # Newest first: the first tile is the latest photo, and every tile's alt text is its name.
    first = page.locator("a.tile").first
    expect(first).to_have_attribute("data-asset-id", ids[0])
    expect(first.locator("img")).to_have_attribute("alt", names[ids[0]])
    expect(first).to_have_attribute("href", f"/photos/{ids[0]}")
    # The placeholder is painted behind the tile and the thumbnail fades in over it.
    assert "data:image/png" in first.evaluate("t => t.style.backgroundImage")
    expect(first).to_have_class("tile is-loaded")
    # The page's own ThumbHash decoder: its mean colour is the hash's, and the picture it
    # paints resembles the real thumbnail (mean error of a few levels out of 255).
    with library.api() as client:
        placeholder = client.get(f"/api/library/assets/{ids[0]}").json()["placeholder"]
        thumbnail = Image.open(
            io.BytesIO(client.get(f"/api/library/assets/{ids[0]}/thumbnail").content)
        )
    width, height, rgba = page.evaluate(
        """async (hash) => {
            const { decodeThumbHash } = await import("/static/js/library/thumbhash.js");
            const { width, height, rgba } = decodeThumbHash(hash);
            return [width, height, Array.from(rgba)];
        }""",
        placeholder,
    )
    average = thumbhash.thumb_hash_to_average_rgba(base64.b64decode(placeholder))
    for channel in range(3):
        mean = sum(rgba[channel::4]) / (width * height) / 255
        assert abs(mean - average[channel]) < 0.01, (channel, mean, average)
    expected = list(thumbnail.convert("RGB").resize((width, height)).tobytes())
    painted = [value for n, value in enumerate(rgba) if n % 4 != 3]
    assert sum(abs(a - b) for a, b in zip(painted, expected, strict=True)) / len(expected) < 20
    # Each tile's box is set from the photo's shape before anything loads (no layout jumps).
    box = tile(page, ids[7]).bounding_box()  # Fjord, 1200x500
    assert box and box["width"] > 2 * box["height"]
    expect(page.locator("[data-scrubber] [data-month]")).to_have_count(3)
    months = page.locator("[data-scrubber] [data-month]").evaluate_all(
        "ns => ns.map(n => n.dataset.month)"
    )
    assert months == MONTHS
    page.mouse.move(0, 0)
    screenshot(page, "timeline")

    # Alt text everywhere, checked at the end of the page too.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    for asset_id in ids[-5:]:
        expect(tile(page, asset_id).locator("img")).to_have_attribute("alt", names[asset_id])
    page.evaluate("window.scrollTo(0, 0)")

    # A photo uploaded while the page is open appears in place without a reload.
    [late] = library.upload(
        scene_photo("Late arrival.jpg", "2024:05:27 12:00:00", (640, 480), (250, 200, 0))
    )
    expect(tile(page, late).locator("img")).to_have_attribute(
        "alt", names_by_id(library, [late])[late]
    )
    expect(tile(page, late)).to_have_class("tile is-loaded", timeout=30_000)
    expect(page.get_by_role("heading", name="Mon, May 27")).to_be_visible()
    assert visual_order(page)[:4] == [ids[0], ids[1], late, ids[2]]

    # Shift-click selects a range (the late photo sits inside it); bulk favourite shows hearts.
    picked = [ids[0], ids[1], late, ids[2]]
    tile(page, ids[0]).hover()
    tile(page, ids[0]).locator("[data-select]").click()
    bar = page.locator("[data-selection-bar]")
    expect(bar).to_contain_text("1 selected")
    tile(page, ids[2]).click(modifiers=["Shift"])
    expect(bar).to_contain_text("4 selected")
    bar.get_by_role("button", name="Add to favourites").click()
    expect(page.get_by_text("4 photos added to favourites")).to_be_visible()
    expect(bar).to_be_hidden()
    for asset_id in picked:
        expect(tile(page, asset_id).locator(".tile__badge--favourite")).to_have_count(1)
    expect(page.locator(".tile__badge--favourite")).to_have_count(4)
    with library.api() as client:
        assert all(client.get(f"/api/library/assets/{i}").json()["is_favourite"] for i in picked)

    # Trash one: it leaves; Undo brings it back in place.
    tile(page, ids[3]).locator("[data-select]").click()
    bar.get_by_role("button", name="Move to trash").click()
    expect(tile(page, ids[3])).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("1 photo restored")).to_be_visible()
    expect(tile(page, ids[3])).to_have_count(1)
    with library.api() as client:
        assert client.get(f"/api/library/assets/{ids[3]}").json()["trashed_at"] is None

    # Keyboard: Tab reaches the grid at its first tile; arrows move; Space selects, Escape
    # clears; Enter opens the viewer.
    page.get_by_role("button", name="Random").focus()
    page.keyboard.press("Tab")
    expect(page.locator("a.tile:focus")).to_have_attribute("data-asset-id", ids[0])
    page.keyboard.press("ArrowRight")
    expect(page.locator("a.tile:focus")).to_have_attribute("data-asset-id", ids[1])
    page.keyboard.press("ArrowDown")
    below = page.locator("a.tile:focus")
    assert below.get_attribute("data-asset-id") not in (ids[0], ids[1])
    page.keyboard.press("Space")
    expect(bar).to_contain_text("1 selected")
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()
    focused = below.get_attribute("data-asset-id")
    page.keyboard.press("Enter")
    expect(page.locator("[data-viewer]")).to_be_visible()
    expect(page.locator("[data-viewer]")).to_have_attribute("data-asset-id", str(focused))
    page.keyboard.press("Escape")
    expect(page.locator("[data-viewer]")).to_have_count(0)

    # A kept link (/photos/<id>) opens the viewer over the timeline, walking its order.
    page.goto(f"{library.url}/photos/{ids[5]}")
    viewer = page.locator("[data-viewer]")
    expect(viewer).to_have_attribute("data-asset-id", ids[5])
    page.keyboard.press("ArrowRight")
    expect(viewer).to_have_attribute("data-asset-id", ids[6])


# 100,000 photos over ~19 years, straight into the database. The statement-level triggers of
# migrations 0007/0009 keep timeline_months and timeline_pages current for the whole insert.
SYNTHETIC = """
INSERT INTO assets (
    id, owner_id, origin, sha256, size_bytes, mime_type, original_filename, storage_path,
    name, type, status, media, width, height, placeholder, captured_local, captured_at,
    capture_tz, capture_tz_source, local_at, sort_at, is_favourite, is_archived
)
SELECT gen_random_uuid(), %(owner)s, 'upload', md5('s' || i::text) || md5(i::text || 's'),
       3000000, 'image/jpeg', 'IMG_' || i || '.jpg', 'synthetic/' || i || '.jpg',
       'IMG_' || i, 'photo', 'ready', 'image',
       CASE WHEN i %% 4 = 0 THEN 3000 ELSE 4000 END, CASE WHEN i %% 4 = 0 THEN 4000 ELSE 3000 END,
       '1QcSHQRnh493V4dIh4eXh1h4kJUI8Qs', t, t, 'UTC', 'server_default', t, t,
       i %% 50 = 0, false
FROM (
    SELECT i, timestamp '2025-06-30 18:00' - i * interval '99 minutes'
              - (i %% 7) * interval '13 minutes' AS t
    FROM generate_series(1, 100000) AS i
) AS rows
"""
DOM_BOUND = 1500


def test_timeline_100k_keeps_dom_bounded(
    spawn_server: Callable[..., Any],
    database_factory: Callable[[], str],
    open_page: Callable[..., Any],
) -> None:
    url = database_factory()
    library = start_library(spawn_server, url)
    began = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM users WHERE email = %s", (ADMIN["email"],)).fetchone()
        assert row is not None
        conn.execute(SYNTHETIC, {"owner": row[0]})  # type: ignore[arg-type]
        conn.execute("ANALYZE assets")
    print(f"\ninserted 100,000 assets in {time.monotonic() - began:.1f} s")

    page = library.open(open_page)
    grid = page.locator(".agrid")
    months = page.locator("[data-scrubber] [data-month]")
    expect(months.first).to_have_attribute("data-month", "2025-06")
    assert months.count() > 200
    counts = {}

    def settle_and_count(label: str) -> int:
        # Tiles on screen, nothing pending, then the size of the grid's DOM.
        page.wait_for_function(
            """() => {
                const bar = document.querySelector('.topbar').getBoundingClientRect().bottom;
                const on = [...document.querySelectorAll('a.tile')].filter((t) => {
                    const r = t.getBoundingClientRect();
                    return r.bottom > bar && r.top < innerHeight;
                });
                const skeleton = document.querySelector('.agrid__skeleton');
                return on.length >= 10 && !skeleton?.getBoundingClientRect().height;
            }"""
        )
        nodes = int(grid.evaluate("g => g.querySelectorAll('*').length"))
        counts[label] = nodes
        assert nodes < DOM_BOUND, (label, nodes)
        return nodes

    settle_and_count("top")
    expect(page.get_by_role("heading", name="June 2025")).to_be_visible()

    # The middle, through the scrubber: a click halfway down lands around 2016.
    scrubber = page.locator("[data-scrubber]").bounding_box()
    assert scrubber
    page.mouse.click(scrubber["x"] + scrubber["width"] / 2, scrubber["y"] + scrubber["height"] / 2)
    settle_and_count("middle")
    label = page.locator("[data-scrubber]").get_attribute("aria-valuetext") or ""
    assert any(year in label for year in ("2015", "2016", "2017")), label

    # Scroll through a stretch by wheel: still bounded.
    for _ in range(10):
        page.mouse.wheel(0, 1500)
    settle_and_count("after wheel")

    # The very end (estimates below are replaced as it gets there; scroll until it holds).
    for _ in range(6):
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_timeout(150)
    settle_and_count("bottom")
    expect(page.locator("[data-scrubber]")).to_have_attribute("aria-valuetext", "September 2006")
    expect(page.get_by_role("heading", name="Sun, Sep 3")).to_be_in_viewport()
    print("grid DOM nodes by depth:", counts)


def zoned_photo(name: str, taken: str, offset: str) -> tuple[str, bytes]:
    """A photo whose camera wrote its local time and zone offset (EXIF OffsetTimeOriginal)."""
    image = Image.new("RGB", (640, 480), (90, 120, 200))
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[EXIF_DATETIME_ORIGINAL] = taken
    exif.get_ifd(EXIF_IFD)[0x9011] = offset
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return name, buffer.getvalue()


def test_days_are_local_even_when_zones_interleave_them(
    library: LibraryServer, open_page: Callable[..., Any]
) -> None:
    # Newest instant first these are: breakfast (28th 09:00Z), supper (28th 01:00Z, but the
    # 27th where it was taken), night (27th 13:00Z, but the 28th in its zone). Each local day
    # must still be one group under one heading.
    ids = library.upload(
        zoned_photo("breakfast.jpg", "2024:05:28 09:00:00", "+00:00"),
        zoned_photo("supper.jpg", "2024:05:27 20:00:00", "-05:00"),
        zoned_photo("night.jpg", "2024:05:28 01:00:00", "+12:00"),
    )
    library.wait_processed(ids)
    page = library.open(open_page)
    expect(page.locator(".agrid__day")).to_have_text(["Tue, May 28", "Mon, May 27"])
    order = page.locator("a.tile img").evaluate_all(
        """imgs => imgs
            .map(i => ({alt: i.alt, box: i.getBoundingClientRect()}))
            .sort((a, b) => a.box.top - b.box.top || a.box.left - b.box.left)
            .map(i => i.alt)"""
    )
    assert order == ["breakfast", "night", "supper"]
