"""Where library files live on disk, and how they get there without ever leaving half a file.

- **Originals** of uploads are filed in ``settings.library_dir`` under a readable path made from
  ``library_path_template`` (default ``{user}/{year}/{month}/{name}``) and are never modified.
  Originals of indexed folders stay where they are and are only read.
- **Derivatives** (thumbnails, previews, resized copies) live in ``settings.cache_dir`` under the
  asset's id; deleting the cache loses nothing, the pipeline rebuilds it.
- Every write goes to a temporary file in ``settings.tmp_dir`` (same disk), is flushed to disk,
  then renamed into place: a crash leaves either the whole file or none of it.

Paths from users (file names) are reduced to a safe base name; a stored path is always checked to
stay inside its root before it is opened.
"""

from __future__ import annotations

import os
import re
import secrets
import string
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

from meadhall.library.settings import LibrarySettings

TEMPLATE_FIELDS = frozenset({"user", "year", "month", "day", "name"})
MAX_NAME_LENGTH = 120
_UNSAFE = re.compile(r"[^\w.\- ()+,@&'=]+", re.UNICODE)


class UnsafePath(ValueError):
    """A path that would leave its root (``..``, absolute, or through a link)."""


def check_path_template(template: str) -> None:
    """Refuse templates with unknown fields, no ``{name}``, or ways out of the library folder."""
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    unknown = fields - TEMPLATE_FIELDS
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}; use {sorted(TEMPLATE_FIELDS)}")
    if "name" not in fields or not template.rstrip("/").endswith("{name}"):
        raise ValueError("must end with {name}")
    if template.startswith("/") or ".." in template.split("/"):
        raise ValueError("must be a relative path without '..'")


def safe_filename(name: str, *, fallback: str = "file") -> str:
    """A file name safe on any disk: no directories, no control or odd characters, bounded."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if ch.isprintable())
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or base in {".", ".."}:
        base = fallback
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext[:16]
    room = MAX_NAME_LENGTH - (len(ext) + 1 if ext else 0)
    stem = stem[:room] or fallback
    return f"{stem}.{ext}" if ext else stem


def inside(root: Path, relative: str) -> Path:
    """``root / relative``, refusing anything that resolves outside ``root``."""
    if not relative or relative.startswith(("/", "\\")) or "\x00" in relative:
        raise UnsafePath(f"not a relative path: {relative!r}")
    resolved_root = root.resolve()
    path = (resolved_root / relative).resolve()
    if path != resolved_root and resolved_root not in path.parents:
        raise UnsafePath(f"path leaves its folder: {relative!r}")
    return path


class LibraryStorage:
    """The library's folders for one settings object."""

    def __init__(self, settings: LibrarySettings) -> None:
        self.settings = settings
        self.library_dir = settings.library_dir
        self.cache_dir = settings.cache_dir
        self.tmp_dir = settings.tmp_dir

    def ensure_folders(self) -> None:
        for folder in (self.library_dir, self.cache_dir, self.tmp_dir):
            folder.mkdir(parents=True, exist_ok=True)

    # Originals ------------------------------------------------------------------------------

    def planned_path(self, *, user: str, when: datetime, filename: str) -> str:
        """The relative path the template gives (before collisions are resolved)."""
        values = {
            "user": safe_filename(user, fallback="user"),
            "year": f"{when.year:04d}",
            "month": f"{when.month:02d}",
            "day": f"{when.day:02d}",
            "name": safe_filename(filename),
        }
        return self.settings.library_path_template.format(**values)

    def original_path(self, storage_path: str, folder_path: str | None = None) -> Path:
        """The absolute path of an original: in the library, or in its indexed folder."""
        root = Path(folder_path) if folder_path is not None else self.library_dir
        return inside(root, storage_path)

    def store_original(self, temp_file: Path, *, planned: str) -> str:
        """Move a complete temp file to ``planned`` (or a free variant); return where it went.

        The rename is atomic and never replaces an existing file: a name that is taken gets a
        short random suffix (``name-3f9a.jpg``).
        """
        stem, dot, ext = planned.rpartition(".")
        if not dot or "/" in ext:
            stem, ext = planned, ""
        candidate = planned
        for _ in range(20):
            target = inside(self.library_dir, candidate)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                # link() fails if the target exists, unlike rename(): no file is ever replaced.
                os.link(temp_file, target)
            except FileExistsError:
                suffix = secrets.token_hex(2)
                candidate = f"{stem}-{suffix}.{ext}" if ext else f"{stem}-{suffix}"
                continue
            _fsync_dir(target.parent)
            temp_file.unlink()
            return candidate
        raise FileExistsError(f"no free name for {planned!r}")

    # Temporary files -------------------------------------------------------------------------

    def new_temp_path(self, suffix: str = "") -> Path:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        return self.tmp_dir / f"{secrets.token_hex(12)}{suffix}.part"

    @contextmanager
    def temp_writer(self) -> Iterator[tuple[Path, IO[bytes]]]:
        """A temp file open for writing; removed if the block fails, fsynced if it succeeds."""
        path = self.new_temp_path()
        handle = path.open("xb")
        try:
            yield path, handle
            handle.flush()
            os.fsync(handle.fileno())
        except BaseException:
            handle.close()
            path.unlink(missing_ok=True)
            raise
        handle.close()

    # Derivatives ----------------------------------------------------------------------------

    def derivative_dir(self, asset_id: uuid.UUID) -> Path:
        hexid = asset_id.hex
        return self.cache_dir / hexid[-2:] / hexid

    def derivative_path(self, asset_id: uuid.UUID, name: str) -> Path:
        """E.g. ``derivative_path(id, "thumbnail.webp")``."""
        return self.derivative_dir(asset_id) / safe_filename(name)

    def write_derivative(self, asset_id: uuid.UUID, name: str, data: bytes) -> Path:
        """Write a derivative atomically (replacing an older one: derivatives may be rebuilt)."""
        target = self.derivative_path(asset_id, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.temp_writer() as (temp, handle):
            handle.write(data)
        os.replace(temp, target)
        return target

    def remove_derivatives(self, asset_id: uuid.UUID) -> None:
        folder = self.derivative_dir(asset_id)
        if folder.is_dir():
            for child in folder.iterdir():
                child.unlink(missing_ok=True)
            folder.rmdir()


def _fsync_dir(folder: Path) -> None:
    # The new directory entry must survive a crash too, not only the file's bytes.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
