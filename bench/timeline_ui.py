"""How smooth the timeline page is in a real browser with a large library.

    python bench/timeline_ui.py                   # the machine's PostgreSQL (a new database)
    python bench/timeline_ui.py --embedded        # a throw-away embedded PostgreSQL
    python bench/timeline_ui.py --size 100000 --seconds 6

A database is created and filled like ``bench/timeline.py`` does (one user's library over
twenty years, clustered in events); a real ``meadhall serve`` process serves it, and headless
Chromium (the system's, as in the browser tests) opens the timeline signed in as that user.

Measured:
- first screen: from navigation to the first screen of tiles laid out with their placeholders
  (the synthetic assets have no files, so thumbnails are left out of every measure);
- scrolling: the page scrolls itself by a fixed step on every animation frame for a few
  seconds (a long fling through the library), recording every frame's duration and the
  browser's long tasks (main-thread work over 50 ms), and the grid's DOM size as it goes;
- scrubber jumps: clicks at ten heights of the month scrubber, each timed until the tiles on
  screen are laid out.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _database import DEFAULT_URL, bench_database  # bench/ is the script's folder
from timeline import fill

CHROMIUM = os.environ.get("MEADHALL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ADMIN = {"email": "owner@example.com", "password": "bench-timeline-ui-1", "display_name": "Owner"}
VIEWPORT = {"width": 1280, "height": 800}

# Tiles inside the viewport, laid out and painted with their placeholders, and no
# month still waiting for its items. The synthetic assets have no files, so thumbnails are not
# part of the measure: it is the page's own work (data, layout, DOM) that is timed.
SCREEN_READY = """() => {
    const top = document.querySelector('.topbar').getBoundingClientRect().bottom;
    const shown = [...document.querySelectorAll('a.tile')].filter((tile) => {
        const r = tile.getBoundingClientRect();
        return r.bottom > top && r.top < innerHeight;
    });
    const skeleton = document.querySelector('.agrid__skeleton');
    return shown.length >= 1 && !skeleton?.getBoundingClientRect().height;
}"""

# Scroll by `step` px each frame for `seconds`; resolve with frame durations, long tasks and
# the largest DOM size of the grid seen.
FLING = """async ([step, seconds]) => {
    const grid = document.querySelector('.agrid');
    const longTasks = [];
    const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) longTasks.push(entry.duration);
    });
    observer.observe({ type: 'longtask', buffered: false });
    const frames = [];
    let maxNodes = 0;
    await new Promise((resolve) => {
        const end = performance.now() + seconds * 1000;
        let last = performance.now();
        const tick = (now) => {
            frames.push(now - last);
            last = now;
            window.scrollBy(0, step);
            if (frames.length % 10 === 0) {
                maxNodes = Math.max(maxNodes, grid.querySelectorAll('*').length);
            }
            if (now < end) requestAnimationFrame(tick);
            else resolve();
        };
        requestAnimationFrame(tick);
    });
    observer.disconnect();
    return { frames: frames.slice(1), longTasks, maxNodes, scrollY: window.scrollY };
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEADHALL_")}
    env.update(
        {
            "MEADHALL_DATABASE_URL": url,
            "MEADHALL_DATA_DIR": str(data_dir),
            "MEADHALL_SECRET_KEY": "bench-secret-" + "x" * 40,
            "MEADHALL_HOST": "127.0.0.1",
            "MEADHALL_PORT": str(port),
            "MEADHALL_LOG_LEVEL": "warning",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "meadhall", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=1).status_code < 500:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not start")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(base: str, args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        login = page.request.post(
            base + "/api/auth/login",
            data={"email": ADMIN["email"], "password": ADMIN["password"]},
        )
        assert login.ok, login.text()

        # Twice: the first visit also warms the server's month pages and the browser's cache
        # of modules; the second is what a returning person sees.
        for attempt in ("cold", "warm"):
            began = time.perf_counter()
            page.goto(base + "/")
            page.wait_for_function(SCREEN_READY, timeout=60_000)
            results[f"first screen ({attempt})"] = time.perf_counter() - began

        fling = page.evaluate(FLING, [args.step, args.seconds])
        frames = fling["frames"]
        results["fling"] = {
            "frames": len(frames),
            "p50": statistics.median(frames),
            "p95": percentile(frames, 0.95),
            "p99": percentile(frames, 0.99),
            "over 50 ms": sum(1 for frame in frames if frame > 50),
            "long tasks": len(fling["longTasks"]),
            "longest task": max(fling["longTasks"], default=0.0),
            "max DOM nodes": fling["maxNodes"],
            "scrolled px": fling["scrollY"],
        }

        scrubber = page.locator("[data-scrubber]").bounding_box()
        assert scrubber, "no scrubber on the page"
        jumps = []
        for n in range(10):
            fraction = (n * 7 % 10 + 0.5) / 10  # spread over the whole height, not in order
            began = time.perf_counter()
            page.mouse.click(
                scrubber["x"] + scrubber["width"] / 2, scrubber["y"] + scrubber["height"] * fraction
            )
            page.wait_for_timeout(20)
            page.wait_for_function(SCREEN_READY, timeout=60_000)
            jumps.append(time.perf_counter() - began)
        results["jumps"] = jumps
        results["DOM nodes after jumps"] = int(
            page.locator(".agrid").evaluate("grid => grid.querySelectorAll('*').length")
        )
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="maintenance URL of a PostgreSQL")
    parser.add_argument("--embedded", action="store_true", help="use an embedded PostgreSQL")
    parser.add_argument("--size", type=int, default=100_000, help="assets in the library")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the fling")
    parser.add_argument("--step", type=int, default=60, help="px scrolled per frame")
    args = parser.parse_args()

    import httpx

    with (
        bench_database(None if args.embedded else args.url) as url,
        tempfile.TemporaryDirectory(prefix="meadhall-bench-ui-") as data_dir,
    ):
        process, base = start_server(url, Path(data_dir))
        try:
            response = httpx.post(base + "/api/auth/onboarding", json=ADMIN, timeout=30)
            response.raise_for_status()
            owner = response.json()["user"]["id"]
            seconds = fill(url, owner, [], 0, args.size)
            print(f"loaded {args.size:,} assets in {seconds:.1f} s", flush=True)
            results = measure(base, args)
        finally:
            process.terminate()
            process.wait(30)

    fling = results["fling"]
    jumps = results["jumps"]
    print(f"\ntimeline page, {args.size:,} assets, {VIEWPORT['width']}x{VIEWPORT['height']}")
    for attempt in ("cold", "warm"):
        took = results[f"first screen ({attempt})"] * 1000
        print(f"first screen of tiles ({attempt}): {took:.0f} ms")
    print(
        f"fling {args.step} px/frame for {args.seconds:g} s ({fling['scrolled px']:,.0f} px): "
        f"{fling['frames']} frames, frame p50 {fling['p50']:.1f} ms, p95 {fling['p95']:.1f} ms, "
        f"p99 {fling['p99']:.1f} ms, {fling['over 50 ms']} frames over 50 ms, "
        f"{fling['long tasks']} long tasks (longest {fling['longest task']:.0f} ms), "
        f"at most {fling['max DOM nodes']} DOM nodes in the grid"
    )
    print(
        f"scrubber jumps (10): p50 {statistics.median(jumps) * 1000:.0f} ms, "
        f"max {max(jumps) * 1000:.0f} ms; {results['DOM nodes after jumps']} DOM nodes after"
    )


if __name__ == "__main__":
    main()
