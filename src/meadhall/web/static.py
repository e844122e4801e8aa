"""Static files of the UI and the fingerprinted URLs that let browsers cache them for a year.

Templates link assets through :func:`asset_url`, which appends ``?v=<content hash>``. A request
whose ``v`` matches the file's current hash gets an immutable, year-long cache lifetime; any
other request (no ``v``, an old one, a module imported by another module) must revalidate, so a
browser never keeps a stale file after an upgrade.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@lru_cache(maxsize=256)
def asset_version(relative_path: str) -> str:
    """A short hash of the file's content; changes whenever the file does.

    Cached for the life of the process: packaged assets do not change while it runs.
    """
    path = (STATIC_DIR / relative_path).resolve()
    if not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
        raise FileNotFoundError(f"no static asset named {relative_path!r}")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def asset_url(relative_path: str) -> str:
    """The URL of a static asset, fingerprinted so it may be cached for a long time."""
    return f"{STATIC_PREFIX}/{relative_path}?v={asset_version(relative_path)}"


class FingerprintedStaticFiles(StaticFiles):
    """``StaticFiles`` that sets cache lifetimes by whether the URL carries the current hash."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = (
                IMMUTABLE if self._is_current_version(path, scope) else REVALIDATE
            )
        return response

    @staticmethod
    def _is_current_version(path: str, scope: Scope) -> bool:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        wanted: list[str] = query.get("v", [])
        if not wanted:
            return False
        try:
            return bool(wanted[-1] == asset_version(Path(path).as_posix()))
        except (FileNotFoundError, OSError, ValueError):
            return False


def mount_static(app: FastAPI) -> None:
    """Serve ``web/static`` under ``/static``."""
    app.mount(STATIC_PREFIX, FingerprintedStaticFiles(directory=STATIC_DIR), name="static")
