"""Browser tests: a real ``meadhall serve`` process driven by a headless Chromium.

Chromium comes from the system (``apt-get install chromium``); Playwright never downloads a
browser here. Without ``/usr/bin/chromium`` the tests are skipped, except in CI where they
must run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("MEADHALL_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Chromium for the browser tests; each test opens its own contexts.

    Package scope, not session: Playwright's sync API keeps an event loop running in this
    thread while it is open, which the asynchronous tests elsewhere cannot share.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@dataclass
class PageProblems:
    """Console errors and uncaught exceptions a page produced (CSP violations land here)."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> Any:
        page.on(
            "console",
            lambda msg: (
                self.messages.append(f"console.{msg.type}: {msg.text}")
                if msg.type == "error" and not _expected_console_error(msg.text)
                else None
            ),
        )
        page.on("pageerror", lambda exc: self.messages.append(f"pageerror: {exc}"))
        return page


def _expected_console_error(text: str) -> bool:
    # Chromium logs every non-2xx fetch as a console error; the API answering 401/403/429 to
    # a wrong password is the behaviour under test, not a fault of the page.
    return "Failed to load resource: the server responded with a status of" in text


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def open_page(browser: Any, problems: PageProblems) -> Iterator[Callable[..., Any]]:
    """New desktop page (own cookies) watched for console errors."""
    contexts: list[Any] = []

    def open_(**context_options: Any) -> Any:
        options = {"viewport": DESKTOP, "color_scheme": "light", **context_options}
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = problems.watch(context.new_page())
        # Intercepting file choosers is switched on without waiting when the first listener
        # is added; subscribing now, long before any click, means a chooser opened right
        # after expect_file_chooser() is never missed.
        page.on("filechooser", lambda _chooser: None)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not problems.messages, "\n".join(problems.messages)


@pytest.fixture
def screenshot(browser: Any) -> Callable[..., None]:
    """Save what ``page`` shows as <name>-desktop.png, <name>-phone.png and <name>-dark.png.

    The phone and dark shots load ``url`` (by default the page's own) in fresh contexts with the
    same cookies, so they show what a person would see arriving there.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, *, url: str | None = None, desktop_only: bool = False) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
        if desktop_only:
            return
        state = page.context.storage_state()
        for suffix, options in (
            (
                "phone",
                {
                    "viewport": PHONE,
                    "color_scheme": "light",
                    "is_mobile": True,
                    "has_touch": True,
                    "device_scale_factor": 2,
                },
            ),
            ("dark", {"viewport": DESKTOP, "color_scheme": "dark"}),
        ):
            context = browser.new_context(storage_state=state, **options)
            try:
                other = context.new_page()
                other.goto(url or page.url)
                other.wait_for_load_state("networkidle")
                other.screenshot(path=str(SCREENSHOTS / f"{name}-{suffix}.png"), full_page=True)
            finally:
                context.close()

    return take


@pytest.fixture
def library(spawn_server: Callable[..., Any], database_factory: Callable[[], str]) -> Any:
    """A fresh ``meadhall serve`` with its admin onboarded (see tests/e2e/library.py)."""
    from tests.e2e.library import start_library

    return start_library(spawn_server, database_factory())
