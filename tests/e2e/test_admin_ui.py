"""The admin pages in a real browser: users and invites, indexed folders, jobs, storage.

Each test runs its own ``meadhall serve`` with an onboarded admin. Failures are real: a folder
scan whose folder vanished from the disk fails with its traceback, and succeeds once the
folder is back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.library import ADMIN, MEMBER, LibraryServer, photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GUEST = {"email": "sigrid@example.com", "password": "rune-and-raven-31", "display_name": "Sigrid"}
SCAN = "library.scan_folder"


def write_photos(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        # The colour comes from the name: two files never share their bytes (no duplicates).
        shade = sum(map(ord, name)) % 256
        _, data = photo(name, taken=f"2023:07:{10 + index:02d} 18:02:00", color=(shade, 90, 40))
        (folder / name).write_bytes(data)


def wait_for_scan(library: LibraryServer, folder_id: str, *, timeout: float = 30) -> dict[str, Any]:
    """The newest scan job of ``folder_id`` once it has finished."""
    deadline = time.monotonic() + timeout
    with library.api() as client:
        while time.monotonic() < deadline:
            jobs = client.get("/api/jobs", params={"kind": SCAN, "limit": 50}).json()["items"]
            mine = [job for job in jobs if job["payload"].get("folder_id") == folder_id]
            if mine and mine[0]["status"] in ("succeeded", "failed", "cancelled"):
                return dict(mine[0])
            time.sleep(0.2)
    raise AssertionError(f"no finished scan of {folder_id}")


def dismiss_toasts(page: Any) -> None:
    """Close the confirmations of earlier steps, so screenshots show the page itself."""
    # Toasts also leave on their own: removing them directly cannot race with that.
    page.evaluate("document.querySelectorAll('[data-toast]').forEach((toast) => toast.remove())")


def row(page: Any, table: str, text: str) -> Any:
    return page.locator(f'[data-table="{table}"] tbody tr', has_text=text)


def test_invites_and_accounts(
    library: LibraryServer, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    page = library.open(open_page, "/admin/users")
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    me = row(page, "users", ADMIN["email"])
    expect(me).to_contain_text("(you)")
    expect(me.get_by_role("cell").nth(1)).to_have_text("Admin")
    # Guard rails: nobody demotes, disables or deletes themselves.
    for name in ("Remove admin", "Disable", f"Delete {ADMIN['display_name']}"):
        expect(me.get_by_role("button", name=name)).to_be_disabled()

    # An invite for one person; its link is shown once, with a copy button.
    page.get_by_role("button", name="New invite").click()
    dialog = page.get_by_role("dialog", name="New invite")
    dialog.get_by_label("How many people may use it").fill("1")
    dialog.get_by_label("Note (optional)").fill("For Sigrid")
    dialog.get_by_role("button", name="Create invite").click()
    shown = page.get_by_role("dialog", name="Invite link")
    link = shown.get_by_label("Invite link").input_value()
    assert re.fullmatch(re.escape(library.url) + r"/register\?invite=[\w-]+", link), link
    shown.get_by_role("button", name="Copy link").click()
    expect(shown.get_by_role("button", name=re.compile("Copied|Ctrl"))).to_be_visible()
    expect(shown).to_contain_text("shown only once")
    shown.get_by_role("button", name="Done").click()
    invite = row(page, "invites", "For Sigrid")
    expect(invite).to_contain_text("0 of 1")
    expect(invite.locator("[data-invite-status]")).to_have_text("Active")

    # The invited person registers in a browser of their own.
    guest = open_page()
    guest.goto(link)
    expect(guest.get_by_label("Invite code")).not_to_be_empty()
    form = guest.locator('[data-form="register"]')
    form.locator('[name="display_name"]').fill(GUEST["display_name"])
    form.locator('[name="email"]').fill(GUEST["email"])
    form.locator('[name="password"]').fill(GUEST["password"])
    form.locator('[name="password_confirm"]').fill(GUEST["password"])
    guest.get_by_role("button", name="Create account").click()
    expect(guest).to_have_url(library.url + "/")

    # The admin's open page follows without a reload: her row appears, the invite is used up.
    sigrid = row(page, "users", GUEST["email"])
    expect(sigrid).to_contain_text("Member")
    expect(sigrid.locator("[data-user-status]")).to_have_text("Active")
    expect(invite.locator("[data-invite-status]")).to_have_text("Used up")
    expect(invite).to_contain_text("1 of 1")

    # A second invite, never sent: revoked.
    page.get_by_role("button", name="New invite").click()
    dialog = page.get_by_role("dialog", name="New invite")
    dialog.get_by_label("Note (optional)").fill("Spare")
    dialog.get_by_role("button", name="Create invite").click()
    page.get_by_role("dialog", name="Invite link").get_by_role("button", name="Done").click()
    spare = row(page, "invites", "Spare")
    spare.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(spare.locator("[data-invite-status]")).to_have_text("Revoked")

    # An account made by the admin, then disabled and enabled again; a bad one is refused
    # with the server's reason.
    page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog", name="New user")
    dialog.get_by_label("Display name").fill(MEMBER["display_name"])
    dialog.get_by_label("E-mail").fill(GUEST["email"])
    dialog.get_by_label("Password").fill(MEMBER["password"])
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog.locator("[data-dialog-error]")).to_be_visible()
    dialog.get_by_label("E-mail").fill(MEMBER["email"])
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog).to_be_hidden()
    gudrun = row(page, "users", MEMBER["email"])
    expect(gudrun.locator("[data-user-status]")).to_have_text("Active")

    gudrun.get_by_role("button", name="Disable").click()
    page.get_by_role("dialog").get_by_role("button", name="Disable").click()
    expect(gudrun.locator("[data-user-status]")).to_have_text("Disabled")
    with library.api() as client:
        refused = client.post(
            "/api/auth/login", json={"email": MEMBER["email"], "password": MEMBER["password"]}
        )
    assert refused.status_code in (401, 403), refused.text
    gudrun.get_by_role("button", name="Enable").click()
    expect(gudrun.locator("[data-user-status]")).to_have_text("Active")
    gudrun.get_by_role("button", name="Make admin").click()
    expect(gudrun.locator("[data-role]")).to_have_text("Admin")
    gudrun.get_by_role("button", name="Remove admin").click()
    expect(gudrun.locator("[data-role]")).to_have_text("Member")
    dismiss_toasts(page)
    screenshot(page, "admin-users")

    # Removing an account: delete or anonymise, chosen in the dialog.
    sigrid.get_by_role("button", name=f"Delete {GUEST['display_name']}").click()
    removal = page.get_by_role("dialog", name=f"Remove {GUEST['display_name']}?")
    removal.get_by_label("Anonymise").check()
    removal.get_by_role("button", name="Remove account").click()
    expect(removal).to_be_hidden()
    deadline = time.monotonic() + 20
    with library.api() as client:
        while time.monotonic() < deadline:
            users = client.get("/api/admin/users").json()["items"]
            if all(user["email"] != GUEST["email"] for user in users):
                break
            time.sleep(0.2)
    assert any(user["display_name"] == "Deleted user" for user in users)
    # The page heard the job finish: the anonymised row replaced hers without a reload.
    expect(page.locator('[data-table="users"] tr', has_text="Deleted user")).to_have_count(1)
    expect(page.locator(f'[data-table="users"] tr[data-email="{GUEST["email"]}"]')).to_have_count(0)


def test_folder_assign_and_rescan(
    library: LibraryServer,
    open_page: Callable[..., Any],
    screenshot: Callable[..., None],
    tmp_path: Path,
) -> None:
    member_token = library.add_member()
    folder = tmp_path / "campaign-photos"
    write_photos(folder, "tavern.jpg", "dragon.jpg", "map.jpg")

    page = library.open(open_page, "/admin/folders")
    expect(page.locator('[data-page="folders"][data-live="on"]')).to_be_attached()
    expect(page.get_by_text("No folders indexed")).to_be_visible()

    # The server's reason for a bad path shows next to the field.
    page.get_by_label("Folder on the server").fill(str(tmp_path / "nowhere"))
    page.get_by_role("button", name="Add folder").click()
    path_error = page.locator('[data-error-for="path"]')
    expect(path_error).to_have_text(re.compile("no such directory", re.I))

    page.get_by_label("Folder on the server").fill(str(folder))
    owner = f"{MEMBER['display_name']} ({MEMBER['email']})"
    page.get_by_label("Photos belong to").select_option(label=owner)
    page.get_by_label("Watch for new files").uncheck()
    page.get_by_role("button", name="Add folder").click()
    expect(path_error).to_be_hidden()
    line = row(page, "folders", str(folder))
    expect(line).to_contain_text(MEMBER["display_name"])
    # The first scan runs by itself; its outcome and the counts arrive without a reload.
    expect(line.locator("[data-scan-status]")).to_have_attribute("data-scan-status", "succeeded")
    expect(line.locator("[data-asset-count]")).to_have_attribute("data-asset-count", "3")
    expect(line).to_contain_text("3 new")

    with library.api(member_token) as client:
        names = sorted(asset["name"] for asset in client.get("/api/library/assets").json()["items"])
    assert names == ["dragon", "map", "tavern"]

    # A new file, a rescan from the page: the scan's progress and result show live.
    write_photos(folder, "owlbear.jpg")
    line.get_by_role("button", name="Rescan", exact=True).click()
    expect(line).to_contain_text("1 new, 0 changed, 0 removed, 3 unchanged")
    expect(line.locator("[data-asset-count]")).to_have_attribute("data-asset-count", "4")
    dismiss_toasts(page)
    screenshot(page, "admin-folders")

    # Stop indexing: the photos leave the library, the files stay.
    line.get_by_role("button", name=f"Stop indexing {folder}").click()
    page.get_by_role("dialog").get_by_role("button", name="Stop indexing").click()
    expect(page.get_by_text("No folders indexed")).to_be_visible()
    assert (folder / "owlbear.jpg").exists()
    with library.api(member_token) as client:
        assert client.get("/api/library/assets").json()["items"] == []


def test_failed_job_traceback_cancel_and_retry(
    library: LibraryServer,
    open_page: Callable[..., Any],
    screenshot: Callable[..., None],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "usb-disk"
    write_photos(folder, "one.jpg", "two.jpg")
    with library.api() as client:
        me = client.get("/api/me").json()
        created = client.post(
            "/api/library/folders", json={"path": str(folder), "owner_id": me["id"], "watch": False}
        )
        assert created.status_code == 201, created.text
    folder_id = created.json()["id"]
    assert wait_for_scan(library, folder_id)["status"] == "succeeded"

    page = library.open(open_page, f"/admin/jobs?kind={SCAN}")
    expect(page.locator('[data-page="jobs"][data-live="on"]')).to_be_attached()
    expect(page.locator('[data-table="jobs"] tbody tr')).to_have_count(1)

    # The disk goes away; a rescan fails its first attempt and waits to retry: cancel it.
    folder.rename(tmp_path / "unplugged")
    with library.api() as client:
        job_id = client.post(f"/api/library/folders/{folder_id}/rescan").json()["id"]
    job = page.locator(f'tr[data-job-id="{job_id}"]')
    expect(job.locator("[data-status]")).to_have_text("Retrying")
    expect(job.locator("[data-job-error]")).to_contain_text("missing or not a directory")
    job.get_by_role("button", name="Cancel").click()
    expect(job.locator("[data-status]")).to_have_text("Cancelled")

    # Retried, it fails for good: the page shows the whole traceback of every attempt.
    job.get_by_role("button", name="Retry").click()
    expect(job.locator("[data-status]")).to_have_text("Failed", timeout=20_000)
    expect(page.locator('[data-status-filter="failed"]')).to_contain_text("1")
    job.get_by_role("button", name=re.compile("Folder scan")).click()
    panel = page.get_by_role("dialog", name="Folder scan")
    error = panel.locator("[data-last-error]")
    expect(error).to_contain_text("Traceback (most recent call last)")
    expect(error).to_contain_text("FolderUnavailable")
    expect(error).to_contain_text(f"the folder {folder} is missing or not a directory")
    expect(panel.locator("[data-attempt-error]").first).to_contain_text("Traceback")
    assert panel.locator("[data-attempt]").count() >= 3
    expect(panel).to_contain_text(folder_id)
    screenshot(page, "admin-job-detail", desktop_only=True)

    # The disk is back: Retry runs it again and the success arrives live, panel and row.
    (tmp_path / "unplugged").rename(folder)
    panel.get_by_role("button", name="Retry").click()
    expect(panel.locator("[data-detail-status]")).to_have_attribute(
        "data-detail-status", "succeeded", timeout=15_000
    )
    expect(panel.get_by_role("button", name="Retry")).to_have_count(0)
    panel.get_by_role("button", name="Close").click()
    expect(job.locator("[data-status]")).to_have_text("Succeeded")
    expect(job.locator("[data-progress-message]")).to_contain_text("2 unchanged")
    expect(job.get_by_role("button", name="Retry")).to_be_hidden()
    dismiss_toasts(page)
    screenshot(page, "admin-jobs")


def test_storage_matches_the_api_and_members_see_nothing(
    library: LibraryServer, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    member_token = library.add_member()
    mine = library.upload(
        photo("keep.jpg", size=(800, 600)), photo("toss.jpg", color=(20, 200, 90))
    )
    theirs = library.upload(photo("gudrun.jpg", size=(320, 240)), token=member_token)
    library.wait_processed(mine)
    library.wait_processed(theirs, token=member_token)
    with library.api() as client:
        assert client.delete(f"/api/library/assets/{mine[1]}").status_code in (200, 204)
        usage = client.get("/api/library/usage").json()

    page = library.open(open_page, "/admin/storage")
    expect(page.locator('[data-page="storage"][data-ready="true"]')).to_be_attached()
    for user in usage["users"]:
        line = page.locator(f'[data-table="storage"] tr[data-user-id="{user["user_id"]}"]')
        expect(line.locator('[data-field="assets"]')).to_have_text(str(user["assets"]))
        for field in ("uploaded_bytes", "indexed_bytes", "trashed_bytes"):
            expect(line.locator(f'[data-field="{field}"]')).to_have_attribute(
                "data-bytes", str(user[field])
            )
        expect(page.locator(f'[data-chart-user="{user["user_id"]}"]')).to_be_visible()
    totals = page.locator("[data-totals]")
    expect(totals.locator('[data-field="uploaded_bytes"]')).to_have_attribute(
        "data-bytes", str(usage["totals"]["uploaded_bytes"])
    )
    expect(totals.locator('[data-field="trashed_bytes"]')).to_have_attribute(
        "data-bytes", str(usage["totals"]["trashed_bytes"])
    )
    expect(totals.locator('[data-field="assets"]')).to_have_text("3")
    expect(page.locator('[data-stat="trashed"]')).to_contain_text("1 asset,")
    screenshot(page, "admin-storage")

    # The users list shows the same storage figure.
    page.get_by_role("link", name="Users", exact=True).click()
    admin_row = row(page, "users", ADMIN["email"])
    admin_usage = next(u for u in usage["users"] if u["email"] == ADMIN["email"])
    expect(admin_row.locator("[data-storage] [data-bytes]")).to_have_attribute(
        "data-bytes", str(admin_usage["uploaded_bytes"])
    )

    # Members get the same 404 page as for an address that does not exist.
    member = library.open(open_page, "/admin/users", user=MEMBER)
    expect(member.get_by_role("heading", name="Page not found")).to_be_visible()
    for section in ("folders", "jobs", "storage"):
        member.goto(f"{library.url}/admin/{section}")
        expect(member.get_by_role("heading", name="Page not found")).to_be_visible()
