"""Watching indexed folders: a change queues a scan once the folder has been quiet a while.

Runs inside ``meadhall serve`` when it runs job workers in-process. One ``watchfiles``
watcher covers every folder with ``watch`` on; a folder that changed is scanned after
``folder_stability_seconds`` without further changes (a camera import or a copy of a large
video is then finished). The scan itself decides what changed, so a lost or merged event
costs nothing but a delay; the periodic rescan catches anything missed.

The list of folders is read again every :data:`REFRESH_SECONDS` (other processes may add
folders) and at once when this process adds or removes one. A folder that vanished or cannot
be read is logged and left out until it is back; nothing here may stop the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from stat import S_ISDIR

from watchfiles import awatch

from meadhall.library.ingest import repository
from meadhall.library.ingest.folders import queue_scan
from meadhall.library.models import LibraryFolder
from meadhall.library.settings import library_settings
from meadhall.platform.jobs.models import JobStatus
from meadhall.platform.runtime import Runtime

logger = logging.getLogger("meadhall.library.watch")

WATCH_KEY = "library.folder_watch"
REFRESH_SECONDS = 30.0
MISSING_POLL_SECONDS = 2.0
RETRY_SECONDS = 5.0


class FolderWatch:
    """The watcher of one process; see the module docstring."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.stability = library_settings(runtime.settings).folder_stability_seconds
        self.reload = asyncio.Event()
        # Folder id -> loop time of its latest change not yet handed to a scan.
        self.dirty: dict[uuid.UUID, float] = {}
        # Watched folders: path -> (folder id, (device, inode)). A folder deleted and made
        # again has a new inode and needs a new watch.
        self.folders: dict[Path, tuple[uuid.UUID, tuple[int, int]]] = {}
        self.missing: set[Path] = set()
        self._loaded_once = False

    async def _load(self) -> dict[Path, tuple[uuid.UUID, tuple[int, int]]]:
        async with self.runtime.db.transaction() as session:
            rows = await repository.watched_folders(session)
            wanted = {Path(path): folder_id for path, folder_id in rows}

        def identify() -> dict[Path, tuple[uuid.UUID, tuple[int, int]]]:
            found = {}
            for path, folder_id in wanted.items():
                try:
                    stat = path.stat()
                except OSError:
                    continue
                if S_ISDIR(stat.st_mode):
                    found[path] = (folder_id, (stat.st_dev, stat.st_ino))
            return found

        present = await asyncio.to_thread(identify)
        missing = set(wanted) - set(present)
        for path in missing - self.missing:
            logger.warning("watched folder %s is missing; it is skipped until it is back", path)
        if self._loaded_once:
            # Back (or new here): whatever happened while it was not watched needs a scan.
            now = asyncio.get_running_loop().time()
            for path in set(present) - set(self.folders):
                if path in self.missing:
                    self.dirty[present[path][0]] = now
        self.missing = missing
        self._loaded_once = True
        return present

    def _folder_of(self, changed: str) -> uuid.UUID | None:
        path = Path(changed)
        for root, (folder_id, _) in self.folders.items():
            if path == root or root in path.parents:
                return folder_id
        return None

    async def _watch_until_folders_change(self) -> None:
        stop = asyncio.Event()

        async def refresh() -> None:
            while not stop.is_set():
                # A missing folder is looked for often: it may be a disk coming back.
                timeout = MISSING_POLL_SECONDS if self.missing else REFRESH_SECONDS
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.reload.wait(), timeout)
                self.reload.clear()
                try:
                    if await self._load() != self.folders:
                        stop.set()
                except Exception:
                    logger.exception("cannot read the list of watched folders")

        refresher = asyncio.create_task(refresh(), name="watched folders refresh")
        try:
            if not self.folders:
                await refresher
                return
            async for changes in awatch(
                *self.folders, stop_event=stop, ignore_permission_denied=True
            ):
                now = asyncio.get_running_loop().time()
                for _, changed in changes:
                    if Path(changed) in self.folders:
                        # The folder itself was removed or replaced: watch anew.
                        self.reload.set()
                    folder_id = self._folder_of(changed)
                    if folder_id is not None:
                        self.dirty[folder_id] = now
            # The watcher ends on its own when a watched folder disappears.
            stop.set()
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher

    async def watch(self) -> None:
        """Feed :attr:`dirty` from file events, following changes in the list of folders."""
        while True:
            try:
                self.folders = await self._load()
                await self._watch_until_folders_change()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("watching folders failed; trying again shortly")
                await asyncio.sleep(RETRY_SECONDS)

    async def settle(self) -> None:
        """Queue a scan for every folder that has been quiet for the stability delay."""
        tick = min(1.0, max(0.05, self.stability / 4))
        while True:
            await asyncio.sleep(tick)
            now = asyncio.get_running_loop().time()
            ready = [fid for fid, seen in self.dirty.items() if now - seen >= self.stability]
            for folder_id in ready:
                try:
                    queued = await self._queue(folder_id)
                except Exception:
                    logger.exception("cannot queue a scan of folder %s", folder_id)
                    queued = False
                if queued:
                    self.dirty.pop(folder_id, None)
                else:
                    # A scan is running and may have walked past the change: try again later.
                    self.dirty[folder_id] = now

    async def _queue(self, folder_id: uuid.UUID) -> bool:
        async with self.runtime.db.transaction() as session:
            folder = await session.get(LibraryFolder, folder_id)
            if folder is None:
                return True
            job = await queue_scan(session, folder=folder)
            return job.status != JobStatus.RUNNING


def folders_changed(runtime: Runtime) -> None:
    """Tell this process's watcher that folders were added, removed or changed."""
    watch = runtime.extras.get(WATCH_KEY)
    if isinstance(watch, FolderWatch):
        watch.reload.set()


@contextlib.asynccontextmanager
async def watching_folders(runtime: Runtime, *, force: bool = False) -> AsyncIterator[None]:
    """Watch indexed folders for the duration of the block when this process runs workers."""
    if not (force or library_settings(runtime.settings).workers_in_process):
        yield
        return
    watch = FolderWatch(runtime)
    runtime.extras[WATCH_KEY] = watch
    tasks = [
        asyncio.create_task(watch.watch(), name="folder watch"),
        asyncio.create_task(watch.settle(), name="folder watch settle"),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        runtime.extras.pop(WATCH_KEY, None)
