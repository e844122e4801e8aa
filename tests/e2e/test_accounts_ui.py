"""The sign-in story in a real browser against a real server process.

Each test starts ``meadhall serve`` on its own empty database, so every test begins with a
server that has never been set up.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import ServerProcess, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN = {"email": "brynja@example.com", "password": "amber-mead-hall-42", "display_name": "Brynja"}
GUEST = {"email": "gudrun@example.com", "password": "salt-and-saga-77", "display_name": "Gudrun"}


@pytest.fixture
def server(
    spawn_server: Callable[..., ServerProcess], database_factory: Callable[[], str]
) -> ServerProcess:
    return spawn_server(database_factory())


def onboard_admin_via_api(server: ServerProcess) -> str:
    response = httpx.post(f"{server.url}/api/auth/onboarding", json=ADMIN, timeout=30)
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


def fill_form(page: Any, form: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.locator(f'[data-form="{form}"] [name="{name}"]').fill(value)


def error_of(page: Any, form: str, field: str) -> Any:
    return page.locator(f'[data-form="{form}"] [data-error-for="{field}"]')


def form_error(page: Any, form: str) -> Any:
    return page.locator(f'[data-form="{form}"] [data-form-error]')


def test_onboarding_login_and_logout(
    server: ServerProcess, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    page = open_page()

    # A server without accounts sends everyone to onboarding.
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/onboarding")
    expect(page.get_by_role("heading", name="Set up Meadhall")).to_be_visible()
    screenshot(page, "onboarding")

    # Client-side checks speak up next to the field, before anything is sent.
    page.get_by_role("button", name="Create admin account").click()
    expect(error_of(page, "onboarding", "display_name")).to_have_text("Enter your display name.")
    expect(page.get_by_label("Display name")).to_be_focused()
    fill_form(
        page,
        "onboarding",
        {
            "display_name": ADMIN["display_name"],
            "email": "not-an-address",
            "password": ADMIN["password"],
            "password_confirm": "something-else-entirely",
        },
    )
    page.get_by_role("button", name="Create admin account").click()
    expect(error_of(page, "onboarding", "email")).to_contain_text("Enter an email address")
    expect(error_of(page, "onboarding", "password_confirm")).to_have_text(
        "The passwords do not match."
    )
    screenshot(page, "onboarding-errors", desktop_only=True)

    # Keyboard only: type into the focused field and submit with Enter.
    page.get_by_label("Email").fill(ADMIN["email"])
    page.get_by_label("Confirm password").fill(ADMIN["password"])
    page.get_by_label("Confirm password").press("Enter")
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_role("heading", name="Photos", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="No photos yet")).to_be_visible()
    screenshot(page, "home")

    # Onboarding is closed once the admin exists.
    page.goto(server.url + "/onboarding")
    expect(page).to_have_url(server.url + "/")

    # The user menu opens from the keyboard and signs out.
    expect(page.locator("[data-usermenu][data-ready]")).to_be_attached()
    menu_button = page.get_by_role("button", name="Account menu")
    menu_button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("menu")).to_be_visible()
    expect(page.get_by_role("menuitem", name="Sign out")).to_be_focused()
    expect(page.get_by_role("menu")).to_contain_text("Admin")
    screenshot(page, "home-menu", desktop_only=True)
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_be_hidden()
    expect(menu_button).to_be_focused()
    menu_button.click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(server.url + "/login")
    assert not [c for c in page.context.cookies() if c["name"].startswith("meadhall_")]

    # Signed out: the home page sends the browser to sign in, and back afterwards.
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/login?next=/")
    screenshot(page, "login")

    fill_form(page, "login", {"email": ADMIN["email"], "password": "not-the-password"})
    page.get_by_role("button", name="Sign in").click()
    expect(form_error(page, "login")).to_have_text("Wrong e-mail address or password")
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    screenshot(page, "login-error", desktop_only=True)

    page.get_by_label("Password", exact=True).fill(ADMIN["password"])
    page.get_by_role("button", name="Show password").click()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("type", "text")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_role("heading", name="Photos", exact=True)).to_be_visible()

    # Unknown pages get a friendly page, not JSON.
    page.goto(server.url + "/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    screenshot(page, "not-found")


def test_an_expired_access_cookie_is_renewed_silently(
    server: ServerProcess, open_page: Callable[..., Any]
) -> None:
    onboard_admin_via_api(server)
    page = open_page()
    page.goto(server.url + "/login")
    fill_form(page, "login", {"email": ADMIN["email"], "password": ADMIN["password"]})
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url + "/")
    # Let the timeline finish loading first: a refresh of its own still in flight when the
    # page is left would rotate the token without the browser keeping the answer.
    expect(page.get_by_role("heading", name="No photos yet")).to_be_visible()
    page.wait_for_load_state("networkidle")

    # The API client renews the session on a 401 and retries the call.
    drop_access_cookie(page)
    me = page.evaluate(
        """async () => {
            const { api } = await import("/static/js/api.js");
            return await api.get("/api/me");
        }"""
    )
    assert me["email"] == ADMIN["email"]
    assert any(c["name"] == "meadhall_access" for c in page.context.cookies())

    # A page load without the access cookie lands on sign-in, which renews and returns.
    drop_access_cookie(page)
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_role("heading", name="Photos", exact=True)).to_be_visible()


def drop_access_cookie(page: Any) -> None:
    kept = [c for c in page.context.cookies() if c["name"] != "meadhall_access"]
    page.context.clear_cookies()
    page.context.add_cookies(kept)


def test_invite_registration_then_a_disabled_account(
    server: ServerProcess, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    token = onboard_admin_via_api(server)
    admin = {"Authorization": f"Bearer {token}"}
    invite = httpx.post(f"{server.url}/api/invites", json={"max_uses": 1}, headers=admin)
    assert invite.status_code == 201, invite.text
    register_url = invite.json()["register_url"]
    assert register_url.startswith(server.url + "/register?")

    page = open_page()
    page.goto(register_url)
    expect(page.get_by_role("heading", name="Join the hall")).to_be_visible()
    expect(page.get_by_label("Invite code")).to_have_value(invite.json()["code"])
    screenshot(page, "register")

    fill_form(
        page,
        "register",
        {
            "display_name": GUEST["display_name"],
            "email": GUEST["email"],
            "password": GUEST["password"],
            "password_confirm": GUEST["password"],
        },
    )
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_role("heading", name="Photos", exact=True)).to_be_visible()
    expect(page.locator("[data-usermenu][data-ready]")).to_be_attached()
    page.get_by_role("button", name="Account menu").click()
    expect(page.get_by_role("menu")).to_contain_text("Member")
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(server.url + "/login")

    # The invite was single-use: a second registration with it fails with the server's reason.
    other = open_page()
    other.goto(register_url)
    fill_form(
        other,
        "register",
        {
            "display_name": "Sigrid",
            "email": "sigrid@example.com",
            "password": GUEST["password"],
            "password_confirm": GUEST["password"],
        },
    )
    other.get_by_role("button", name="Create account").click()
    expect(form_error(other, "register")).not_to_be_empty()
    expect(other).to_have_url(re.compile(r"/register\?"))

    # An admin disables the account; signing in then says so.
    users = httpx.get(f"{server.url}/api/admin/users", headers=admin).json()["items"]
    guest_id = next(u["id"] for u in users if u["email"] == GUEST["email"])
    disabled = httpx.patch(
        f"{server.url}/api/admin/users/{guest_id}", json={"is_active": False}, headers=admin
    )
    assert disabled.status_code == 200, disabled.text
    fill_form(page, "login", {"email": GUEST["email"], "password": GUEST["password"]})
    page.get_by_role("button", name="Sign in").click()
    expect(form_error(page, "login")).to_have_text("This account is disabled")


def test_rate_limited_login_shows_when_to_try_again(
    spawn_server: Callable[..., ServerProcess],
    database_factory: Callable[[], str],
    open_page: Callable[..., Any],
    screenshot: Callable[..., None],
) -> None:
    server = spawn_server(database_factory(), MEADHALL_RATE_LIMIT_LOGIN="2/minute")
    onboard_admin_via_api(server)
    page = open_page()
    page.goto(server.url + "/login")
    fill_form(page, "login", {"email": ADMIN["email"], "password": "wrong-password-1"})
    button = page.get_by_role("button", name="Sign in")
    for _ in range(2):
        button.click()
        expect(form_error(page, "login")).to_have_text("Wrong e-mail address or password")
    button.click()
    expect(form_error(page, "login")).to_contain_text("Too many attempts. Try again in")
    expect(button).to_be_disabled()
    screenshot(page, "login-rate-limited", desktop_only=True)


# Password reset by e-mail ------------------------------------------------------------------


class Inbox:
    """A local SMTP server that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for message in self.messages:
                    body = message.get_body(("plain",))
                    text = body.get_content() if body is not None else ""
                    if predicate(text):
                        return str(text)
            time.sleep(0.1)
        raise AssertionError(f"no matching mail arrived; got {len(self.messages)} messages")


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_password_reset_by_mail(
    spawn_server: Callable[..., ServerProcess],
    database_factory: Callable[[], str],
    inbox: tuple[Inbox, int],
    open_page: Callable[..., Any],
    screenshot: Callable[..., None],
) -> None:
    mailbox, smtp_port = inbox
    server = spawn_server(
        database_factory(),
        MEADHALL_SMTP_HOST="127.0.0.1",
        MEADHALL_SMTP_PORT=str(smtp_port),
        MEADHALL_SMTP_SECURITY="none",
    )
    onboard_admin_via_api(server)

    page = open_page()
    page.goto(server.url + "/login")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page).to_have_url(server.url + "/forgot-password")
    screenshot(page, "forgot-password")
    page.get_by_label("Email").fill(ADMIN["email"])
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_text("Check your inbox")).to_be_visible()
    expect(page.get_by_text(ADMIN["email"])).to_be_visible()
    screenshot(page, "forgot-password-sent", desktop_only=True)

    text = mailbox.wait_for(lambda body: "/reset-password?token=" in body)
    link = re.search(r"https?://\S+/reset-password\?token=[A-Za-z0-9_\-.~%]+", text)
    assert link is not None, text
    assert link.group(0).startswith(server.url)

    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    # The token leaves the address bar (and history) as soon as the page has read it.
    expect(page).to_have_url(server.url + "/reset-password")
    screenshot(page, "reset-password", url=link.group(0).replace("token=", "token=x"))
    new_password = "fresh-horn-of-mead-9"
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("Confirm new password").fill(new_password + "!")
    page.get_by_role("button", name="Change password").click()
    expect(error_of(page, "reset-password", "password_confirm")).to_have_text(
        "The passwords do not match."
    )
    page.get_by_label("Confirm new password").fill(new_password)
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(server.url + "/login?reset=1")
    expect(page.get_by_text("Your password was changed")).to_be_visible()

    fill_form(page, "login", {"email": ADMIN["email"], "password": new_password})
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url + "/")

    # The link worked once; a second use is refused with the server's reason.
    again = open_page()
    again.goto(link.group(0))
    again.get_by_label("New password", exact=True).fill("another-pass-phrase-3")
    again.get_by_label("Confirm new password").fill("another-pass-phrase-3")
    again.get_by_role("button", name="Change password").click()
    expect(form_error(again, "reset-password")).to_contain_text("invalid, used or expired")


def test_forgot_password_without_mail_says_to_ask_an_admin(
    server: ServerProcess, open_page: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    page = open_page()
    page.goto(server.url + "/forgot-password")
    expect(page.get_by_text("cannot send e-mail")).to_be_visible()
    expect(page.get_by_role("button", name="Send reset link")).to_have_count(0)
    screenshot(page, "forgot-password-no-mail")
    page.goto(server.url + "/reset-password")
    expect(page.get_by_text("This link is incomplete")).to_be_visible()
    screenshot(page, "reset-password-no-token")


# The event stream client ------------------------------------------------------------------


def test_event_stream_delivers_live_and_missed_events(
    server: ServerProcess, open_page: Callable[..., Any]
) -> None:
    onboard_admin_via_api(server)
    page = open_page()
    page.goto(server.url + "/login")
    fill_form(page, "login", {"email": ADMIN["email"], "password": ADMIN["password"]})
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url + "/")

    frames = page.evaluate(
        """async () => {
            const { EventStream } = await import("/static/js/events.js");
            const { api } = await import("/static/js/api.js");
            const me = await api.get("/api/me");
            const received = [];
            let stream;
            const next = (count) => new Promise((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error("no event in time")), 8000);
                const check = () => received.length >= count
                    ? (clearTimeout(timer), resolve())
                    : setTimeout(check, 20);
                check();
            });
            const subscribed = new Promise((resolve) => {
                stream = new EventStream({
                    topics: [`user:${me.id}`],
                    onEvent: (frame) => received.push(frame),
                    onStatus: (status) => status === "subscribed" && resolve(),
                });
                stream.start();
            });
            await subscribed;
            await api.patch("/api/me", { display_name: "Brynja the Bold" });
            await next(1);

            // Offline for a moment: the change made meanwhile is replayed on reconnect.
            stream.stop();
            await api.patch("/api/me", { display_name: "Brynja the Wise" });
            stream.start();
            await next(2);
            stream.stop();
            return received;
        }"""
    )
    assert [f["event"] for f in frames] == ["user.updated", "user.updated"]
    assert frames[0]["data"]["display_name"] == "Brynja the Bold"
    assert frames[1]["data"]["display_name"] == "Brynja the Wise"
    assert frames[0]["id"] != frames[1]["id"]
