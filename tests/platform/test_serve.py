"""`meadhall serve` on embedded defaults: starts its own PostgreSQL, says where to go, and
stops that PostgreSQL again when it is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import free_port


def _postgres_of(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and str(data_dir / "postgres") in cmdline:
            found.append(proc)
    return found


@pytest.mark.slow
def test_serve_on_embedded_defaults(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEADHALL_")}
    env.update({"MEADHALL_PORT": str(port)})
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "meadhall", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"{url}/health", timeout=2).json()
                if health["job_workers"]["status"] == "ok":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        assert health is not None, log.read_text()
        assert health["status"] == "ok", health
        data_dir = tmp_path / "data"
        assert (data_dir / "postgres" / "PG_VERSION").exists()
        assert f"open {url}" in log.read_text()
        assert _postgres_of(data_dir), "the embedded PostgreSQL should be running"
        # A browser is sent to onboarding on a fresh install.
        first = httpx.get(url, follow_redirects=False, headers={"Accept": "text/html"})
        assert first.status_code in {302, 303, 307}
        assert first.headers["location"].startswith("/onboarding")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    deadline = time.monotonic() + 20
    while _postgres_of(tmp_path / "data") and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not _postgres_of(tmp_path / "data"), "the embedded PostgreSQL was left running"
