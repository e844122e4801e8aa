"""HTTP delivery of files: validators (ETag / If-None-Match), byte ranges, safe file names.

Starlette's ``FileResponse`` answers bad ranges in plain text and keys its ETag on the file's
mtime; originals here are identified by their SHA-256 and every error is the JSON envelope, so
the few lines of range handling live here instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import anyio
from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from meadhall.library.storage import safe_filename
from meadhall.platform.errors import MeadhallError

# Content addressed by the asset id (plus parameters) never changes: the browser may keep it.
IMMUTABLE = "private, max-age=31536000, immutable"
CHUNK = 256 * 1024

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(MeadhallError):
    status_code = 416
    code = "range_not_satisfiable"


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """True when an ``If-None-Match`` header names ``etag`` (weak comparison, or ``*``)."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``[start, end)`` a ``Range`` header asks for, or ``None`` to send the whole file.

    A header that is not one well-formed byte range (other units, several ranges, garbage)
    is ignored, as HTTP allows; a well-formed range outside the file is
    :class:`RangeNotSatisfiable` (416 with ``Content-Range: bytes */size``).
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(size - suffix, 0), size
    start = int(first)
    end = int(last) + 1 if last else size
    if last and int(last) < start:
        return None
    if start >= size:
        raise _unsatisfiable(size)
    return start, min(end, size)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    error = RangeNotSatisfiable(
        f"the range is outside the file ({size} bytes)", details={"size": size}
    )
    error.headers = {"Content-Range": f"bytes */{size}"}
    return error


def content_disposition(filename: str, *, download: bool) -> str:
    """``inline`` or ``attachment`` with an ASCII fallback name and the UTF-8 original."""
    safe = safe_filename(filename)
    fallback = safe.encode("ascii", "replace").decode().replace("?", "_")
    kind = "attachment" if download else "inline"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(safe, safe='')}"


class FileSlice(Response):
    """Streams ``[start, end)`` of a file without loading it into memory."""

    def __init__(
        self,
        path: Path,
        *,
        start: int,
        end: int,
        status_code: int,
        media_type: str,
        headers: Mapping[str, str],
    ) -> None:
        self.path = path
        self.start = start
        self.end = end
        self.status_code = status_code
        self.media_type = media_type
        self.background: BackgroundTask | None = None
        self.init_headers({**headers, "content-length": str(end - start)})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Opened before the status goes out: a file that vanished is still a clean error.
        async with await anyio.open_file(self.path, "rb") as handle:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            if scope.get("method") == "HEAD" or self.start >= self.end:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await handle.seek(self.start)
            remaining = self.end - self.start
            while remaining > 0:
                chunk = await handle.read(min(CHUNK, remaining))
                if not chunk:
                    break  # The file shrank under us; the client sees a short body.
                remaining -= len(chunk)
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": remaining > 0}
                )
            if remaining > 0:
                await send({"type": "http.response.body", "body": b"", "more_body": False})


def not_modified(etag: str) -> Response:
    """304 with the validators a cache needs to keep using its copy."""
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": IMMUTABLE})
