"""Library ingest benchmark: the full pipeline on 12-megapixel JPEGs beside a naive baseline.

    python bench/ingest.py                       # 24 photos, 1 and 2 workers, baseline
    python bench/ingest.py --photos 40 --workers 1,2 --concurrency 2
    python bench/ingest.py --database postgresql://postgres@127.0.0.1:5432/postgres

What is measured:

* ``pipeline``: N photos (4000x3000, gradients plus sensor-like noise, camera EXIF, ~5 MB
  each) are filed as managed originals, then inserted as pending assets and queued in one
  transaction. Real ``meadhall worker`` processes (``--concurrency`` jobs each) run every
  step: shrink-on-load decode, preview and thumbnail in WebP, placeholder, EXIF, capture time,
  place, palette, hashes, quality; results stored in the database. Photos per second from
  the commit of the queue until the last asset is ``ready``. Each worker count gets a fresh
  database (created on the given server and dropped at the end).
* ``naive``: what a straightforward script does for the same outputs, one photo after the
  other in this process: full-resolution decode, Lanczos resize of the full picture to 1440
  and 256 px, WebP at the encoder's defaults, EXIF read, and a colour palette by median cut
  over every pixel's colour histogram (as colour-thief libraries do).

The ratio compares photos per second. On a 2-core machine the workers, PostgreSQL and the
benchmark share the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from _database import DEFAULT_URL, bench_database  # bench/ is the script's folder

ROOT = Path(__file__).resolve().parents[1]


# Photos ------------------------------------------------------------------------------------


def make_photo(seed: int, width: int = 4000, height: int = 3000) -> bytes:
    """A 12-megapixel JPEG: smooth gradients, a few shapes and noise, with camera EXIF."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = rng.uniform(0, 6.28, 3)
    channels = [
        127 + 100 * np.sin(x / (700 + 150 * i) + phase[i]) * np.cos(y / (500 + 90 * i))
        for i in range(3)
    ]
    pixels = np.stack(channels, axis=-1)
    pixels += rng.normal(0, 9, pixels.shape).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Benchmark", "Twelve MP"
    details = exif.get_ifd(0x8769)
    details[0x9003] = f"2024:06:{1 + seed % 28:02d} 12:00:00"
    details[0x9011] = "+01:00"
    details[0x8827] = 200
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


# The naive baseline ----------------------------------------------------------------------


def median_cut_palette(image: Image.Image, count: int = 6) -> list[tuple[int, int, int]]:
    """Median cut over the 5-bit colour histogram of every pixel (colour-thief style)."""
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3) >> 3
    index = (pixels[:, 0].astype(np.int32) << 10) | (pixels[:, 1] << 5) | pixels[:, 2]
    histogram = np.bincount(index, minlength=32 * 32 * 32).reshape(32, 32, 32)
    boxes = [((0, 32), (0, 32), (0, 32))]

    def population(box: tuple[tuple[int, int], ...]) -> int:
        (r0, r1), (g0, g1), (b0, b1) = box
        return int(histogram[r0:r1, g0:g1, b0:b1].sum())

    while len(boxes) < count:
        boxes.sort(key=population)
        box = boxes.pop()
        sizes = [hi - lo for lo, hi in box]
        axis = int(np.argmax(sizes))
        if sizes[axis] <= 1:
            boxes.append(box)
            break
        (r0, r1), (g0, g1), (b0, b1) = box
        sub = histogram[r0:r1, g0:g1, b0:b1]
        other = tuple(a for a in range(3) if a != axis)
        profile = np.cumsum(sub.sum(axis=other))
        cut = int(np.searchsorted(profile, profile[-1] / 2)) + 1
        cut = min(max(cut, 1), sizes[axis] - 1)
        lo, hi = box[axis]
        first, second = list(box), list(box)
        first[axis], second[axis] = (lo, lo + cut), (lo + cut, hi)
        boxes.extend([tuple(first), tuple(second)])  # type: ignore[arg-type]
    colours = []
    for (r0, r1), (g0, g1), (b0, b1) in sorted(boxes, key=population, reverse=True):
        sub = histogram[r0:r1, g0:g1, b0:b1]
        total = max(int(sub.sum()), 1)
        r, g, b = np.meshgrid(
            np.arange(r0, r1), np.arange(g0, g1), np.arange(b0, b1), indexing="ij"
        )
        colours.append(tuple(int((channel * sub).sum() / total * 8 + 4) for channel in (r, g, b)))
    return colours  # type: ignore[return-value]


def naive_process(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    dict(exif.get_ifd(0x8769))
    full = image.convert("RGB")
    for longest in (1440, 256):
        scale = longest / max(full.size)
        size = (round(full.width * scale), round(full.height * scale))
        resized = full.resize(size, Image.Resampling.LANCZOS)
        resized.save(io.BytesIO(), "WEBP", quality=80)
    median_cut_palette(full)


def run_naive(photos: list[bytes]) -> float:
    started = time.perf_counter()
    for data in photos:
        naive_process(data)
    return len(photos) / (time.perf_counter() - started)


# The pipeline ----------------------------------------------------------------------------


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEADHALL_")}
    env.update(
        MEADHALL_DATABASE_URL=database_url,
        MEADHALL_DATA_DIR=str(data_dir),
        MEADHALL_SECRET_KEY="bench-secret-" + "x" * 40,
        MEADHALL_LOG_LEVEL="warning",
    )
    return env


def _start_worker(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # The child keeps its own copy of the log descriptor.
    with log.open("wb") as handle:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=handle, stderr=handle)


async def _count(db: object, query: str) -> int:
    from sqlalchemy import text

    try:
        async with db.engine.connect() as conn:  # type: ignore[attr-defined]
            return int(await conn.scalar(text(query)) or 0)
    except Exception:
        return 0


async def run_pipeline(
    maintenance_url: str, photos: list[bytes], workers: int, concurrency: int, folder: Path
) -> float:
    from meadhall.library.models import Asset, Origin
    from meadhall.library.pipeline.service import queue_processing
    from meadhall.library.storage import LibraryStorage
    from meadhall.platform.accounts.models import User
    from meadhall.platform.db import Database
    from meadhall.wings import HOUSE

    data_dir = folder / f"data-{workers}"
    processes: list[subprocess.Popen[bytes]] = []
    with bench_database(maintenance_url) as url:
        env = _env(url, data_dir)
        command = [sys.executable, "-m", "meadhall", "worker", "--concurrency", str(concurrency)]
        db = Database(url, pool_size=2)
        try:
            for number in range(workers):
                log = folder / f"worker-{workers}-{number}.log"
                processes.append(_start_worker(command, env, log))
                deadline = time.monotonic() + 90
                while await _count(db, "SELECT count(*) FROM procrastinate_workers") <= number:
                    if time.monotonic() > deadline:
                        raise RuntimeError("a worker did not start; see the worker logs")
                    await asyncio.sleep(0.2)
            settings = HOUSE.settings_class(database_url=url, data_dir=data_dir)
            storage = LibraryStorage(settings)
            async with db.transaction() as session:
                user = User(email="bench@example.com", display_name="bench", password_hash="x")
                session.add(user)
            stored = []
            now = datetime.now(UTC)
            for index, data in enumerate(photos):
                with storage.temp_writer() as (temp, handle):
                    handle.write(data)
                planned = storage.planned_path(user="bench", when=now, filename=f"p{index}.jpg")
                stored.append(storage.store_original(temp, planned=planned))
            import hashlib

            async with db.transaction() as session:
                for index, (data, path) in enumerate(zip(photos, stored, strict=True)):
                    asset = Asset(
                        owner_id=user.id,
                        origin=Origin.CLI,
                        sha256=hashlib.sha256(data).hexdigest(),
                        size_bytes=len(data),
                        mime_type="image/jpeg",
                        original_filename=f"p{index}.jpg",
                        storage_path=path,
                        name=f"p{index}",
                        status="pending",
                        local_at=now.replace(tzinfo=None),
                        sort_at=now,
                    )
                    session.add(asset)
                    await session.flush()
                    await queue_processing(session, asset=asset)
            started = time.perf_counter()
            while True:
                pending = await _count(db, "SELECT count(*) FROM assets WHERE status = 'pending'")
                if pending == 0:
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            failed = await _count(db, "SELECT count(*) FROM assets WHERE status <> 'ready'")
            if failed:
                raise RuntimeError(f"{failed} photos did not end ready")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
            await db.dispose()
    return len(photos) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=24, help="12-MP JPEGs to process")
    parser.add_argument("--workers", default="1,2", help="worker process counts to measure")
    parser.add_argument("--concurrency", type=int, default=2, help="jobs per worker process")
    parser.add_argument("--database", default=DEFAULT_URL, help="maintenance database URL")
    args = parser.parse_args()
    counts = [int(part) for part in args.workers.split(",") if part.strip()]

    print(f"generating {args.photos} photos of 4000x3000 ...", flush=True)
    photos = [make_photo(seed) for seed in range(args.photos)]
    average = sum(map(len, photos)) / len(photos) / 1e6
    print(f"average JPEG size: {average:.1f} MB", flush=True)

    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="meadhall-bench-") as temp:
        for count in counts:
            rate = asyncio.run(
                run_pipeline(args.database, photos, count, args.concurrency, Path(temp))
            )
            rows.append((f"pipeline, {count} worker(s) x {args.concurrency} jobs", rate))
            print(f"  {rows[-1][0]}: {rate:.2f} photos/s", flush=True)
    naive = run_naive(photos)
    print(f"  naive baseline: {naive:.2f} photos/s", flush=True)

    print()
    print(f"{'setup':<36} {'photos/s':>9} {'vs naive':>9}")
    print("-" * 56)
    print(f"{'naive (full decode, Lanczos, median cut)':<36} {naive:>9.2f} {1.0:>8.1f}x")
    for label, rate in rows:
        print(f"{label:<36} {rate:>9.2f} {rate / naive:>8.1f}x")


if __name__ == "__main__":
    main()
