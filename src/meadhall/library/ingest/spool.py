"""Writing an incoming stream to a temp file, hashing it on the way and enforcing a limit.

Bytes arrive on the event loop in small pieces (network chunks); they are gathered into a
buffer and handed to a thread in larger blocks, so disk writes and SHA-256 never block the
loop and the file is read exactly once: while it is being written.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import IO

from meadhall.library.storage import LibraryStorage

# Handed to the writer thread once this much has gathered.
FLUSH_BYTES = 1024 * 1024


class LimitExceeded(Exception):
    """The stream grew past its limit; the temp file has been removed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class SpooledFile:
    """A temp file being written from a stream. Use as an async context manager.

    ``async with SpooledFile(storage, limit=n) as spool: await spool.write(data)``; on leaving
    the block normally the file is flushed to disk and :attr:`sha256` and :attr:`size` are
    final. On error (or :meth:`discard`) the file is removed.
    """

    def __init__(self, storage: LibraryStorage, *, limit: int) -> None:
        self.storage = storage
        self.limit = limit
        self.path: Path = storage.new_temp_path()
        self.size = 0
        self._hash = hashlib.sha256()
        self._buffer = bytearray()
        self._handle: IO[bytes] | None = None
        self._closed = False

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    async def __aenter__(self) -> SpooledFile:
        self._handle = await asyncio.to_thread(self.path.open, "xb")
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None and not self._closed:
            await self.finish()
        elif not self._closed:
            await self.discard()

    async def write(self, data: bytes) -> None:
        """Append ``data``; :class:`LimitExceeded` (file removed) once past the limit."""
        if self.size + len(data) > self.limit:
            await self.discard()
            raise LimitExceeded(self.limit)
        self.size += len(data)
        self._buffer += data
        if len(self._buffer) >= FLUSH_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        if not self._buffer:
            return
        block = bytes(self._buffer)
        self._buffer.clear()
        await asyncio.to_thread(self._write_block, block)

    def _write_block(self, block: bytes) -> None:
        assert self._handle is not None
        self._handle.write(block)
        self._hash.update(block)

    async def finish(self) -> None:
        """Write what is buffered, fsync and close; the file is complete on disk."""
        await self._flush()
        await asyncio.to_thread(self._sync_and_close)
        self._closed = True

    def _sync_and_close(self) -> None:
        assert self._handle is not None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()

    async def discard(self) -> None:
        """Close and remove the temp file."""
        self._closed = True
        self._buffer.clear()
        await asyncio.to_thread(self._close_and_remove)

    def _close_and_remove(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self.path.unlink(missing_ok=True)


def copy_and_hash(source: Path, storage: LibraryStorage) -> tuple[Path, str, int]:
    """Copy a file into a temp file, hashing it in the same pass (blocking: use a thread).

    Returns ``(temp path, sha256, size)``. The copy is what gets stored, so a source that
    changes while it is read cannot make the stored bytes differ from the recorded hash.
    """
    digest = hashlib.sha256()
    size = 0
    with storage.temp_writer() as (temp, out), source.open("rb") as handle:
        while block := handle.read(FLUSH_BYTES):
            out.write(block)
            digest.update(block)
            size += len(block)
    return temp, digest.hexdigest(), size


def hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read once (blocking: use a thread)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(FLUSH_BYTES):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
