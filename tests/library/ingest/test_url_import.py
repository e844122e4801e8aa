"""URL import: a real HTTP server on the loopback interface, and every SSRF trick refused.

The running app's URL policy is strict (public addresses only). The ``allow_test_server``
fixture swaps in a policy that allows exactly the test server's address and port, and a
resolver that plays DNS for a few test names — nothing else becomes reachable, so a redirect
from the test server to another local port is still refused.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from meadhall.library.ingest.urls import (
    URL_POLICY_KEY,
    IPAddress,
    UrlPolicy,
    address_is_public,
)
from meadhall.platform.runtime import Runtime
from tests.library.ingest.conftest import assets_of, distinct_jpeg, noisy_jpeg, temp_files

URL = "/api/library/imports/url"
PHOTO = distinct_jpeg(42)
BIG = noisy_jpeg(43, size=(300, 300))
LOOPBACK = ipaddress.ip_address("127.0.0.1")


@dataclass
class LocalServer:
    port: int
    other_port: int
    hosts: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, **headers: str) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            if "Content_Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            server.hosts.append(self.headers.get("Host", ""))
            path = self.path
            if path == "/photo.jpg":
                self._send(200, PHOTO, Content_Type="image/jpeg")
            elif path == "/download?id=7":
                self._send(
                    200,
                    PHOTO,
                    Content_Type="image/jpeg",
                    Content_Disposition='attachment; filename="Tavern Map.jpg"',
                )
            elif path == "/hop":
                self._send(302, b"", Location="/photo.jpg")
            elif path.startswith("/loop"):
                n = int(path.removeprefix("/loop") or 0)
                self._send(302, b"", Location=f"/loop{n + 1}")
            elif path == "/to-other-port":
                self._send(302, b"", Location=f"http://127.0.0.1:{server.other_port}/photo.jpg")
            elif path == "/to-metadata":
                self._send(301, b"", Location="http://169.254.169.254/latest/meta-data/")
            elif path == "/big":
                self._send(200, BIG, Content_Type="image/jpeg")
            elif path == "/big-unannounced":
                # Claims less than it sends: the cap must hold on what actually arrives.
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.end_headers()
                self.wfile.write(BIG)
                self.close_connection = True
            elif path == "/slow":
                self.send_response(200)
                self.send_header("Content-Length", str(len(PHOTO)))
                self.end_headers()
                for byte in PHOTO[:20]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            elif path == "/text":
                self._send(200, b"<html>not a picture</html>", Content_Type="text/html")
            else:
                self._send(404, b"no")

    return Handler


@pytest.fixture
def test_server() -> Iterator[LocalServer]:
    holder = LocalServer(port=0, other_port=0)
    main = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    other = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    holder.port, holder.other_port = main.server_address[1], other.server_address[1]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (main, other)]
    for thread in threads:
        thread.start()
    yield holder
    for s in (main, other):
        s.shutdown()
        s.server_close()


TEST_DNS = {
    "photos.example.com": ["127.0.0.1"],
    "sneaky.example.com": ["127.0.0.1"],
    "mixed.example.com": ["93.184.216.34", "10.1.2.3"],
}


@pytest.fixture
def allow_test_server(runtime: Runtime, test_server: LocalServer) -> Iterator[LocalServer]:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(a) for a in TEST_DNS.get(host, [])]

    runtime.extras[URL_POLICY_KEY] = UrlPolicy(
        allowed=frozenset({(LOOPBACK, test_server.port)}), resolver=resolve
    )
    yield test_server
    runtime.extras.pop(URL_POLICY_KEY, None)


async def _import(client: httpx.AsyncClient, user: Any, url: str, **extra: Any) -> httpx.Response:
    return await client.post(URL, json={"url": url, **extra}, headers=user.headers)


async def test_import_from_a_server(
    client: httpx.AsyncClient, make_user: Any, runtime: Runtime, allow_test_server: LocalServer
) -> None:
    user = await make_user()
    url = allow_test_server.url("/photo.jpg")
    response = await _import(client, user, url, attribution="from the wiki")
    assert response.status_code == 201, response.text
    asset = response.json()["asset"]
    assert asset["origin"] == "url" and asset["source_url"] == url
    assert asset["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert asset["original_filename"] == "photo.jpg" and asset["attribution"] == "from the wiki"
    [row] = await assets_of(runtime, user.id)
    assert (runtime.settings.library_dir / row.storage_path).read_bytes() == PHOTO

    again = await _import(client, user, allow_test_server.url("/hop"))
    assert again.status_code == 200
    assert again.json() == {"asset": None, "duplicate_of": asset["id"]}
    assert temp_files(runtime) == []


async def test_file_name_from_content_disposition(
    client: httpx.AsyncClient, make_user: Any, allow_test_server: LocalServer
) -> None:
    user = await make_user()
    response = await _import(client, user, allow_test_server.url("/download?id=7"))
    assert response.json()["asset"]["original_filename"] == "Tavern Map.jpg"


async def test_connects_to_the_vetted_address_with_the_original_host(
    client: httpx.AsyncClient, make_user: Any, allow_test_server: LocalServer
) -> None:
    user = await make_user()
    port = allow_test_server.port
    response = await _import(client, user, f"http://photos.example.com:{port}/photo.jpg")
    assert response.status_code == 201, response.text
    assert allow_test_server.hosts == [f"photos.example.com:{port}"]


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{other}/photo.jpg",
        "http://127.0.0.1/photo.jpg",
        "http://127.1.2.3:{port}/photo.jpg",
        "http://10.0.0.8/photo.jpg",
        "http://172.16.5.4/photo.jpg",
        "http://192.168.1.10/photo.jpg",
        "http://100.64.0.1/photo.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:{port}/photo.jpg",
        "http://224.0.0.1/photo.jpg",
        "http://[::1]:{port}/photo.jpg",
        "http://[::]/photo.jpg",
        "http://[fe80::1]/photo.jpg",
        "http://[fd00::1]/photo.jpg",
        "http://[::ffff:127.0.0.1]:{port}/photo.jpg",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:7f00:1::]/",
        "http://localhost:{other}/photo.jpg",
        "http://LOCALHOST./photo.jpg",
        "http://sneaky.example.com:{other}/photo.jpg",
        "http://mixed.example.com/photo.jpg",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",
        "http://intranet/photo.jpg",
        "ftp://127.0.0.1/photo.jpg",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http://user:secret@photos.example.com:{port}/photo.jpg",
        "not a url at all",
        "http:///photo.jpg",
        "{base}/to-other-port",
        "{base}/to-metadata",
    ],
)
async def test_unsafe_urls_are_refused(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    allow_test_server: LocalServer,
    target: str,
) -> None:
    user = await make_user()
    url = target.format(
        port=allow_test_server.port,
        other=allow_test_server.other_port,
        base=f"http://127.0.0.1:{allow_test_server.port}",
    )
    response = await _import(client, user, url)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "unsafe_url", response.text
    assert await assets_of(runtime, user.id) == []
    # Nothing reached the other local server.
    assert all(str(allow_test_server.other_port) not in h for h in allow_test_server.hosts)


async def test_the_strict_policy_refuses_the_test_server_too(
    client: httpx.AsyncClient, make_user: Any, test_server: LocalServer
) -> None:
    user = await make_user()
    response = await _import(client, user, test_server.url("/photo.jpg"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "unsafe_url"
    assert test_server.hosts == []


async def test_redirect_loops_stop(
    client: httpx.AsyncClient, make_user: Any, allow_test_server: LocalServer
) -> None:
    user = await make_user()
    response = await _import(client, user, allow_test_server.url("/loop0"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "url_fetch_failed"
    assert len(allow_test_server.hosts) == 6


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/big", 413, "file_too_large"),
        ("/big-unannounced", 413, "file_too_large"),
        ("/text", 415, "unsupported_file"),
        ("/missing", 400, "url_fetch_failed"),
    ],
)
async def test_size_type_and_status_limits(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    allow_test_server: LocalServer,
    override_settings: Callable[..., None],
    path: str,
    status: int,
    code: str,
) -> None:
    user = await make_user()
    override_settings(url_import_max_bytes=len(BIG) // 2)
    response = await _import(client, user, allow_test_server.url(path))
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await assets_of(runtime, user.id) == [] and temp_files(runtime) == []


async def test_total_time_is_capped(
    client: httpx.AsyncClient,
    make_user: Any,
    runtime: Runtime,
    allow_test_server: LocalServer,
    override_settings: Callable[..., None],
) -> None:
    user = await make_user()
    override_settings(url_import_timeout_seconds=0.8)
    started = time.monotonic()
    response = await _import(client, user, allow_test_server.url("/slow"))
    assert time.monotonic() - started < 3
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "url_fetch_failed"
    assert "0.8 seconds" in response.json()["error"]["message"]
    assert temp_files(runtime) == []


@pytest.mark.parametrize(
    "body", [{"url": ""}, {"url": "x" * 5000}, {"url": 5}, {"url": "http://a.b", "extra": 1}]
)
async def test_bad_bodies(client: httpx.AsyncClient, make_user: Any, body: dict[str, Any]) -> None:
    user = await make_user()
    response = await client.post(URL, json=body, headers=user.headers)
    assert response.status_code == 422


async def test_needs_authentication(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json={"url": "http://example.com/a.jpg"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.1.1", False),
        ("169.254.169.254", False),
        ("100.100.100.200", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.216.34", True),
        ("2001::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert address_is_public(ipaddress.ip_address(address)) is public
