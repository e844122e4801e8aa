"""Receiving ``multipart/form-data`` uploads part by part, straight to temp files.

The framework's form parsing would buffer every file before the endpoint runs, with no size
limit per file. Here each file part is streamed into its own temp file (hashed on the way),
and the limits are enforced while the bytes arrive: a file over ``max_file_bytes`` is dropped
(its bytes skipped, nothing kept) and reported; a request over ``max_total_bytes`` or with
more than ``max_files`` files is refused as a whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from meadhall.library.errors import FileTooLarge
from meadhall.library.ingest.service import client_filename
from meadhall.library.ingest.spool import LimitExceeded, SpooledFile
from meadhall.library.storage import LibraryStorage
from meadhall.platform.errors import BadRequest, MeadhallError, PayloadTooLarge

# Text fields (such as ``attribution``) are small; a large one is a mistake or an attack.
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 20


class MalformedUpload(BadRequest):
    code = "malformed_upload"


class RequestTooLarge(PayloadTooLarge):
    code = "request_too_large"


class TooManyFiles(PayloadTooLarge):
    code = "too_many_files"


@dataclass
class ReceivedFile:
    """One file part: a complete temp file, or the reason it was dropped."""

    filename: str
    path: Path | None = None
    sha256: str | None = None
    size: int = 0
    error: MeadhallError | None = None


@dataclass
class ReceivedForm:
    files: list[ReceivedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        """Remove every temp file still held (blocking; small)."""
        for item in self.files:
            if item.path is not None:
                item.path.unlink(missing_ok=True)
                item.path = None


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    spool: SpooledFile | None = None
    data: bytearray = field(default_factory=bytearray)
    received: ReceivedFile | None = None


class _Events:
    """Collects the parser's callbacks (which are synchronous) for the async loop to apply."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, bytes]] = []
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        self.queue.append(("headers", self._headers.get(b"content-disposition", b"")))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.queue.append(("data", bytes(data[start:end])))

    def on_part_end(self) -> None:
        self.queue.append(("end", b""))


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` content type; :class:`MalformedUpload` if none."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise MalformedUpload("the body must be multipart/form-data")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise MalformedUpload("the multipart body has no usable boundary")
    return boundary


async def receive_multipart(
    stream: AsyncIterator[bytes],
    *,
    content_type: str,
    storage: LibraryStorage,
    max_file_bytes: int,
    max_files: int,
    max_total_bytes: int,
) -> ReceivedForm:
    """Read a multipart body into temp files; see the module docstring for the limits.

    On any error every temp file is removed before the error propagates.
    """
    boundary = boundary_of(content_type)
    events = _Events()
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": events.on_part_begin,
            "on_header_field": events.on_header_field,
            "on_header_value": events.on_header_value,
            "on_header_end": events.on_header_end,
            "on_headers_finished": events.on_headers_finished,
            "on_part_data": events.on_part_data,
            "on_part_end": events.on_part_end,
        },
    )
    form = ReceivedForm()
    part = _Part()
    total = 0
    try:
        async for chunk in stream:
            total += len(chunk)
            if total > max_total_bytes:
                raise RequestTooLarge(
                    f"the request is larger than {max_total_bytes} bytes",
                    details={"max_bytes": max_total_bytes},
                )
            try:
                parser.write(chunk)
            except FormParserError:
                raise MalformedUpload("the multipart body is malformed") from None
            pending, events.queue = events.queue, []
            for kind, data in pending:
                part = await _apply(kind, data, part, form, storage, max_file_bytes, max_files)
        try:
            parser.finalize()
        except FormParserError:
            raise MalformedUpload("the multipart body is malformed") from None
        if part.spool is not None or part.name:
            raise MalformedUpload("the multipart body ended in the middle of a part")
    except BaseException:
        if part.spool is not None:
            await part.spool.discard()
        await asyncio.to_thread(form.discard)
        raise
    return form


async def _apply(
    kind: str,
    data: bytes,
    part: _Part,
    form: ReceivedForm,
    storage: LibraryStorage,
    max_file_bytes: int,
    max_files: int,
) -> _Part:
    if kind == "headers":
        disposition, options = parse_options_header(data)
        if disposition != b"form-data" or b"name" not in options:
            raise MalformedUpload("every part needs 'Content-Disposition: form-data; name=...'")
        part = _Part(name=_decode(options[b"name"]))
        if b"filename" in options:
            if len(form.files) >= max_files:
                raise TooManyFiles(
                    f"at most {max_files} files per request", details={"max_files": max_files}
                )
            part.filename = client_filename(_decode(options[b"filename"]))
            part.received = ReceivedFile(filename=part.filename)
            form.files.append(part.received)
            part.spool = SpooledFile(storage, limit=max_file_bytes)
            await part.spool.__aenter__()
        elif len(form.fields) >= MAX_FIELDS:
            raise MalformedUpload(f"at most {MAX_FIELDS} text fields per request")
        return part
    if kind == "data":
        if part.received is not None:
            if part.spool is None:
                return part  # A dropped file: its remaining bytes are skipped.
            try:
                await part.spool.write(data)
            except LimitExceeded:
                part.spool = None
                part.received.error = FileTooLarge(
                    f"the file is larger than {max_file_bytes} bytes",
                    details={"max_bytes": max_file_bytes},
                )
        else:
            if len(part.data) + len(data) > MAX_FIELD_BYTES:
                raise MalformedUpload(f"the field {part.name!r} is too long")
            part.data += data
        return part
    # End of a part.
    if part.received is not None:
        if part.spool is not None:
            await part.spool.finish()
            part.received.path = part.spool.path
            part.received.sha256 = part.spool.sha256
            part.received.size = part.spool.size
    else:
        form.fields[part.name] = _decode(bytes(part.data))
    return _Part()


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedUpload("names and text fields must be UTF-8") from None
