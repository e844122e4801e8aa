"""The tags page in a real browser: counts, sorting and filtering, rename (with a name that is
taken), merge into another tag, delete, and removing the tags no photo uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.library import MEMBER, LibraryServer, photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def tag_ids(library: LibraryServer) -> dict[str, dict[str, Any]]:
    with library.api() as client:
        page = client.get("/api/library/tags", params={"limit": 500}).json()
    return {tag["name"]: tag for tag in page["items"]}


def row(page: Any, name: str) -> Any:
    return page.locator(".tagrow").filter(has=page.locator(".tagrow__name", has_text=name))


def test_tags_page(
    library: LibraryServer, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    ids = library.upload(
        *(photo(f"scene-{n}.jpg", taken=f"2023:0{n}:14 18:02:00") for n in range(1, 5))
    )
    library.wait_processed(ids)
    with library.api() as client:
        for asset_id, names in zip(
            ids, (["dragon", "npc"], ["dragon"], ["dragon", "npc"], ["wyrm"]), strict=True
        ):
            answer = client.post(f"/api/library/assets/{asset_id}/tags", json={"names": names})
            assert answer.status_code == 200, answer.text
        assert client.post("/api/library/tags", json={"name": "leftover"}).status_code == 201
    tags = tag_ids(library)

    page = library.open(open_page, "/tags")
    expect(page.locator(".tagrow")).to_have_count(4)
    expect(row(page, "dragon")).to_contain_text("3 photos")
    expect(row(page, "leftover")).to_contain_text("0 photos")
    # Each tag leads to the search page filtered by it, and shows a few of its photos.
    expect(row(page, "dragon").get_by_role("link")).to_have_attribute(
        "href", f"/search?tag={tags['dragon']['id']}"
    )
    expect(row(page, "dragon").locator(".tagrow__thumb img")).to_have_count(3)
    # By name first; "Most used" puts the busiest tag on top.
    expect(page.locator(".tagrow__name").first).to_have_text("dragon")
    page.get_by_label("Sort tags").select_option("count")
    expect(page.locator(".tagrow__name")).to_have_text(["dragon", "npc", "wyrm", "leftover"])
    page.get_by_label("Filter tags").fill("WY")
    expect(page.locator(".tagrow__name")).to_have_text(["wyrm"])
    page.get_by_label("Filter tags").fill("nothing-like-this")
    expect(page.get_by_text("No tag matches")).to_be_visible()
    page.get_by_label("Filter tags").fill("")
    expect(page.locator(".tagrow")).to_have_count(4)
    screenshot(page, "tags")

    # Rename onto a name in use: a clear message and the dialog stays; then a free name.
    page.get_by_role("button", name="Rename npc").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Dragon")
    dialog.get_by_role("button", name="Rename").click()
    expect(dialog.locator("[data-dialog-error]")).to_contain_text("already have a tag named")
    dialog.get_by_label("Name").fill("")
    dialog.get_by_role("button", name="Rename").click()
    expect(dialog.locator("[data-dialog-error]")).to_contain_text("Enter a name")
    dialog.get_by_label("Name").fill("Characters")
    dialog.get_by_role("button", name="Rename").click()
    expect(dialog).to_be_hidden()
    expect(row(page, "Characters")).to_contain_text("2 photos")
    assert tag_ids(library)["Characters"]["id"] == tags["npc"]["id"]

    # Merge "wyrm" into "dragon" by choosing it from the suggestions: its photo moves over.
    page.get_by_role("button", name="Merge wyrm into another tag").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Merge").click()
    expect(dialog.locator("[data-dialog-error]")).to_contain_text("Choose the tag")
    dialog.get_by_label("Merge into").fill("dra")
    dialog.get_by_role("option", name="dragon").click()
    expect(dialog).to_contain_text("will be merged into “dragon”")
    dialog.get_by_role("button", name="Merge").click()
    expect(dialog).to_be_hidden()
    expect(row(page, "wyrm")).to_have_count(0)
    expect(row(page, "dragon")).to_contain_text("4 photos")
    with library.api() as client:
        tagged = client.get(
            "/api/library/assets", params={"tag": tags["dragon"]["id"], "limit": 10}
        ).json()
    assert {asset["id"] for asset in tagged["items"]} == set(ids)

    # Delete asks first; cancelling keeps the tag.
    page.get_by_role("button", name="Delete Characters").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(row(page, "Characters")).to_have_count(1)
    page.get_by_role("button", name="Delete Characters").click()
    expect(page.get_by_role("dialog")).to_contain_text("comes off 2 photos")
    page.get_by_role("dialog").get_by_role("button", name="Delete tag").click()
    expect(row(page, "Characters")).to_have_count(0)

    # "Remove unused" knows there is one tag without photos and removes just that one.
    unused = page.locator('[data-action="remove-unused"]')
    expect(unused).to_have_text("Remove unused (1)")
    unused.click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(page.locator(".tagrow__name")).to_have_text(["dragon"])
    expect(unused).to_be_disabled()
    assert set(tag_ids(library)) == {"dragon"}

    # Someone without tags gets a friendly empty page, not an empty list.
    library.add_member()
    other = library.open(open_page, "/tags", user=MEMBER)
    expect(other.get_by_role("heading", name="No tags yet")).to_be_visible()
