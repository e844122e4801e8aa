"""What the Library's browser tests share: a running server with a signed-in admin, real
photos with real EXIF capture times, and uploads through the API to set a scene quickly.

    def test_x(library: LibraryServer, open_page) -> None:
        page = library.open(open_page)              # signed in as the admin, at "/"
        ids = library.upload(photo("harbour.jpg", taken="2023:07:14 18:02:00"))
        library.wait_processed(ids)
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image

from tests.conftest import ServerProcess

ADMIN = {"email": "brynja@example.com", "password": "amber-mead-hall-42", "display_name": "Brynja"}
MEMBER = {"email": "gudrun@example.com", "password": "salt-and-saga-77", "display_name": "Gudrun"}

EXIF_DATETIME_ORIGINAL = 0x9003
EXIF_IFD = 0x8769


def photo(
    name: str,
    *,
    taken: str | None = None,
    size: tuple[int, int] = (640, 480),
    color: tuple[int, int, int] = (180, 90, 40),
    fmt: str = "JPEG",
) -> tuple[str, bytes]:
    """A real image file; ``taken`` ("YYYY:MM:DD HH:MM:SS") becomes its EXIF capture time.

    A diagonal gradient keeps thumbnails and placeholders from being flat colour.
    """
    width, height = size
    image = Image.new("RGB", size, color)
    pixels = image.load()
    assert pixels is not None
    for y in range(0, height, 4):
        for x in range(0, width, 4):
            shade = (x + y) * 255 // (width + height)
            value = (color[0] * shade // 255, color[1], 255 - shade)
            for dy in range(min(4, height - y)):
                for dx in range(min(4, width - x)):
                    pixels[x + dx, y + dy] = value
    buffer = io.BytesIO()
    save: dict[str, Any] = {}
    if taken and fmt == "JPEG":
        exif = Image.Exif()
        exif.get_ifd(EXIF_IFD)[EXIF_DATETIME_ORIGINAL] = taken
        save["exif"] = exif
    image.save(buffer, fmt, **save)
    return name, buffer.getvalue()


@dataclass
class LibraryServer:
    """A ``meadhall serve`` process with an onboarded admin (and its API token)."""

    server: ServerProcess
    token: str
    users: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=60,
        )

    def open(
        self,
        open_page: Callable[..., Any],
        path: str = "/",
        *,
        user: dict[str, str] = ADMIN,
        **options: Any,
    ) -> Any:
        """A new browser page signed in as ``user`` (cookies, like a person), at ``path``."""
        page = open_page(**options)
        response = page.request.post(
            self.url + "/api/auth/login",
            data={"email": user["email"], "password": user["password"]},
        )
        assert response.ok, response.text()
        page.goto(self.url + path)
        return page

    def add_member(self, user: dict[str, str] = MEMBER) -> str:
        """Create a member account; returns its API token."""
        with self.api() as client:
            created = client.post("/api/admin/users", json={**user, "is_admin": False})
            assert created.status_code == 201, created.text
        login = httpx.post(
            self.url + "/api/auth/login",
            json={"email": user["email"], "password": user["password"]},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        token = str(login.json()["access_token"])
        self.users[user["email"]] = token
        return token

    def upload(self, *files: tuple[str, bytes], token: str | None = None) -> list[str]:
        """Upload through the API; returns the new asset ids in the order given."""
        with self.api(token) as client:
            response = client.post(
                "/api/library/assets",
                files=[("files", (name, data, "application/octet-stream")) for name, data in files],
            )
            assert response.status_code in (200, 201, 207), response.text
            report = response.json()
        ids = []
        for item in report["files"]:
            assert item.get("asset"), item
            ids.append(str(item["asset"]["id"]))
        return ids

    def wait_processed(
        self, ids: list[str], *, timeout: float = 60, token: str | None = None
    ) -> None:
        """Until every asset in ``ids`` is ready (or failed)."""
        deadline = time.monotonic() + timeout
        with self.api(token) as client:
            pending = set(ids)
            while pending and time.monotonic() < deadline:
                for asset_id in list(pending):
                    status = client.get(f"/api/library/assets/{asset_id}").json()["status"]
                    if status in ("ready", "failed"):
                        pending.discard(asset_id)
                if pending:
                    time.sleep(0.2)
        assert not pending, f"not processed in {timeout}s: {sorted(pending)}"


def start_library(
    spawn_server: Callable[..., ServerProcess], database_url: str, **env: str
) -> LibraryServer:
    """Start a server on ``database_url`` and onboard the admin."""
    server = spawn_server(database_url, **env)
    response = httpx.post(f"{server.url}/api/auth/onboarding", json=ADMIN, timeout=30)
    assert response.status_code == 201, response.text
    return LibraryServer(server=server, token=str(response.json()["access_token"]))
