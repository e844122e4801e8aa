"""Importing a file from a URL without letting the server be pointed at its own network (SSRF).

Every hop (the URL, then each redirect, at most :data:`MAX_REDIRECTS`) is vetted the same way:

1. only ``http`` and ``https``, no credentials in the URL, no metadata or local host names;
2. the host name is resolved here, and *every* address it has must be public — not private,
   loopback, link-local (which holds the cloud metadata service, 169.254.169.254), multicast,
   reserved, unspecified, shared (CGNAT), nor an IPv6 form that wraps one of those
   (IPv4-mapped, 6to4, Teredo, NAT64);
3. the connection goes to the vetted address itself, with the original name in the ``Host``
   header and in TLS (SNI and certificate check), so a second DNS answer (rebinding) cannot
   swap the address between the check and the connection.

Environment proxies are ignored (a proxy would make the connection on our behalf, unvetted).
The download is capped in bytes (refused early when ``Content-Length`` says so) and in total
time, DNS included.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import unquote

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall import __version__
from meadhall.library.errors import FileTooLarge, UnsafeUrl, UrlFetchFailed
from meadhall.library.ingest.service import IngestResult, ingest_file
from meadhall.library.ingest.spool import LimitExceeded, SpooledFile
from meadhall.library.models import Origin
from meadhall.library.settings import LibrarySettings
from meadhall.library.storage import LibraryStorage

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Names that lead to cloud metadata services or to the machine itself, whatever DNS says.
BLOCKED_NAMES = frozenset(
    {
        "localhost",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.com",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
BLOCKED_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")

# Where a running app keeps its policy (tests put a more permissive one there).
URL_POLICY_KEY = "library.url_policy"


Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


@dataclass(frozen=True)
class UrlPolicy:
    """Which addresses a URL import may reach besides public ones, and how names resolve.

    The default allows none and asks the system resolver. ``allowed`` lists exact
    ``(address, port)`` endpoints that are reachable although not public, and ``resolver``
    replaces DNS; only tests set them, on their own app's runtime, to reach a server they run
    on the loopback interface and to play DNS without a network.
    """

    allowed: frozenset[tuple[IPAddress, int]] = field(default_factory=frozenset)
    resolver: Resolver | None = None


STRICT_POLICY = UrlPolicy()


def url_policy(extras: dict[str, Any]) -> UrlPolicy:
    """The policy of a running app (its ``runtime.extras``), strict unless a test set one."""
    policy = extras.get(URL_POLICY_KEY, STRICT_POLICY)
    return policy if isinstance(policy, UrlPolicy) else STRICT_POLICY


@dataclass(frozen=True)
class VettedTarget:
    """Where to connect for one URL, and what to tell the server."""

    url: httpx.URL
    address: IPAddress
    port: int
    host_header: str
    # The name for TLS (SNI and certificate check); None when the URL names an address.
    tls_name: str | None

    @property
    def connect_url(self) -> httpx.URL:
        host = str(self.address)
        return self.url.copy_with(host=host, port=self.port)


def address_is_public(address: IPAddress) -> bool:
    """True for addresses on the public internet; False for every local or special range."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_is_public(address.ipv4_mapped)
        if address.sixtofour is not None:
            return address_is_public(address.sixtofour)
        if address.teredo is not None:
            return all(address_is_public(part) for part in address.teredo)
        if address in _NAT64:
            return address_is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.is_site_local:
            return False
    elif address in _SHARED:
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise UnsafeUrl("not a valid URL") from None
    if parsed.scheme not in {"http", "https"}:
        raise UnsafeUrl("only http and https URLs can be imported")
    if parsed.userinfo:
        raise UnsafeUrl("URLs with credentials cannot be imported")
    if not parsed.host:
        raise UnsafeUrl("the URL has no host")
    return parsed


async def _resolve(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UrlFetchFailed(f"cannot resolve the host {host!r}") from None
    addresses: list[IPAddress] = []
    for _, _, _, _, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]
        address = ipaddress.ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UrlFetchFailed(f"the host {host!r} has no address")
    return addresses


async def vet_url(url: str, *, policy: UrlPolicy) -> VettedTarget:
    """Check ``url`` and pick the address to connect to; :class:`UnsafeUrl` if it is not safe."""
    parsed = _parse(url)
    host = parsed.raw_host.decode("ascii").lower()
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    literal: IPAddress | None
    try:
        literal = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
        tls_name = None
    else:
        name = host.rstrip(".")
        if name in BLOCKED_NAMES or name.endswith(BLOCKED_SUFFIXES) or "." not in name:
            raise UnsafeUrl(f"the host {name!r} is a local or metadata name")
        addresses = await (policy.resolver or _resolve)(name, port)
        if not addresses:
            raise UrlFetchFailed(f"the host {name!r} has no address")
        tls_name = name
    for address in addresses:
        if (address, port) in policy.allowed:
            continue
        if not address_is_public(address):
            raise UnsafeUrl(
                "the URL leads to a private, loopback, link-local or otherwise reserved address",
                details={"host": host, "address": str(address)},
            )
    default_port = 443 if parsed.scheme == "https" else 80
    if parsed.port not in (None, default_port):
        host_header = parsed.netloc.decode("ascii")
    else:
        host_header = f"[{host}]" if isinstance(literal, ipaddress.IPv6Address) else host
    return VettedTarget(
        url=parsed, address=addresses[0], port=port, host_header=host_header, tls_name=tls_name
    )


def _filename(response: httpx.Response, url: httpx.URL) -> str:
    disposition = response.headers.get("content-disposition")
    if disposition:
        message = Message()
        message["content-disposition"] = disposition
        name = message.get_filename()
        if name:
            return name
    last = unquote(url.path.rsplit("/", 1)[-1]) if url.path else ""
    return last or "download"


async def _download(
    url: str, *, storage: LibraryStorage, settings: LibrarySettings, policy: UrlPolicy
) -> tuple[SpooledFile, str]:
    """Fetch ``url`` (following vetted redirects) into a temp file; (file, file name)."""
    limit = settings.url_import_max_bytes
    headers = {
        "User-Agent": f"Meadhall/{__version__} (library import)",
        "Accept": "image/*,video/*;q=0.9,*/*;q=0.5",
        # Decoded sizes are what count against the limit; asking for none keeps it simple.
        "Accept-Encoding": "identity",
    }
    timeout = httpx.Timeout(settings.url_import_timeout_seconds)
    async with httpx.AsyncClient(
        trust_env=False, follow_redirects=False, timeout=timeout
    ) as client:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            target = await vet_url(current, policy=policy)
            extensions: dict[str, Any] = {}
            if target.tls_name is not None and target.url.scheme == "https":
                extensions["sni_hostname"] = target.tls_name
            request = client.build_request(
                "GET",
                target.connect_url,
                headers={**headers, "Host": target.host_header},
                extensions=extensions,
            )
            response = await client.send(request, stream=True)
            try:
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise UrlFetchFailed("a redirect without a Location header")
                    current = str(target.url.join(location))
                    continue
                if response.status_code != 200:
                    raise UrlFetchFailed(
                        f"the server answered {response.status_code}",
                        details={"status": response.status_code},
                    )
                length = response.headers.get("content-length")
                if length is not None and length.isdigit() and int(length) > limit:
                    raise FileTooLarge(
                        f"the file is larger than {limit} bytes", details={"max_bytes": limit}
                    )
                spool = SpooledFile(storage, limit=limit)
                async with spool:
                    try:
                        async for chunk in response.aiter_bytes():
                            await spool.write(chunk)
                    except LimitExceeded:
                        raise FileTooLarge(
                            f"the file is larger than {limit} bytes", details={"max_bytes": limit}
                        ) from None
                return spool, _filename(response, target.url)
            finally:
                await response.aclose()
    raise UrlFetchFailed(f"more than {MAX_REDIRECTS} redirects")


async def import_url(
    session: AsyncSession,
    *,
    storage: LibraryStorage,
    settings: LibrarySettings,
    owner_id: uuid.UUID,
    url: str,
    attribution: str | None,
    policy: UrlPolicy = STRICT_POLICY,
) -> IngestResult:
    """Fetch ``url`` safely and ingest it (origin ``url``, the URL recorded as its source)."""
    timeout = settings.url_import_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            spool, filename = await _download(
                url, storage=storage, settings=settings, policy=policy
            )
    except TimeoutError:
        raise UrlFetchFailed(f"the download took longer than {timeout:g} seconds") from None
    except httpx.HTTPError as exc:
        raise UrlFetchFailed(f"the download failed: {type(exc).__name__}") from None
    return await ingest_file(
        session,
        storage=storage,
        settings=settings,
        owner_id=owner_id,
        temp_path=spool.path,
        filename=filename,
        origin=Origin.URL,
        attribution=attribution,
        source_url=url,
        sha256=spool.sha256,
    )
