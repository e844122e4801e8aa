"""Timeline benchmark: summary and month-page latency through the HTTP API at 100k and 1M assets.

    python bench/timeline.py                      # the machine's PostgreSQL (a new database)
    python bench/timeline.py --embedded           # a throw-away embedded PostgreSQL
    python bench/timeline.py --sizes 100000 --requests 100

A database is created for the run (and dropped at the end), migrated, and filled in SQL
(``generate_series``, so a million rows take seconds, not an hour of HTTP uploads) with one
user's library spread over 20 years the way photos cluster: a few thousand "events" (a trip, a
party, a game night) of 1 to 72 hours, more of them in recent years, events of very different
sizes. Rows go in in random time order, like real uploads of old and new photos mixed, so the
table is not conveniently sorted by capture time. Two other users own 50k assets each, and a
few percent are favourites, archived or trashed.

Each size is measured with the real application in this process (its lifespan, authentication,
request session, routing and JSON), called through ``httpx.ASGITransport``: ``GET
/api/library/timeline/buckets``, and ``GET /api/library/timeline/months`` for a month of
median size and for the busiest month. After the load, ``VACUUM ANALYZE`` does what autovacuum
does on a live server (statistics, visibility map for index-only scans).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _database import DEFAULT_URL, bench_database  # bench/ is the script's folder

SECRET = "bench-secret-" + "x" * 40
EVENTS_PER_100K = 400
OTHER_USERS = 2
OTHER_USER_ASSETS = 50_000
BATCH = 100_000


def insert_user(conn: Any, email: str) -> uuid.UUID:
    user_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO users (id, email, display_name, password_hash) VALUES (%s, %s, %s, 'x')",
        (user_id, email, email.split("@")[0]),
    )
    return user_id


# Events: a start skewed toward recent years (random()^0.6) over 20 years, 1-72 hours long.
EVENTS_SQL = """
CREATE TEMP TABLE bench_events AS
SELECT g AS id,
       timestamp '2006-01-01' + (random() ^ 0.6) * interval '20 years' AS start,
       (1 + random() * 71) * interval '1 hour' AS span
FROM generate_series(0, %(events)s::int - 1) AS g
"""

# Each asset joins an event picked with a skew (random()^1.5): some events hold hundreds of
# photos, most a handful. The zone offset (-12h..+12h) separates local wall time from the
# instant, as for photos taken while travelling.
ASSETS_SQL = """
INSERT INTO assets (
    id, owner_id, origin, sha256, size_bytes, mime_type, original_filename, storage_path,
    name, type, status, media, width, height, placeholder, captured_local, captured_at,
    capture_tz, capture_tz_source, local_at, sort_at, is_favourite, is_archived, trashed_at
)
SELECT gen_random_uuid(), %(owner)s, 'upload',
       md5(%(salt)s || i::text) || md5(i::text || %(salt)s),
       2000000 + (random() * 6000000)::int, 'image/jpeg',
       'IMG_' || i || '.jpg', 'bench/' || i || '.jpg', 'IMG_' || i,
       (ARRAY['photo','photo','photo','photo','photo','map','backdrop','character'])
           [1 + floor(random() * 8)::int],
       'ready', 'image', 4000, 3000, '1QcSHQRnh493V4dIh4eXh1h4kJUI8Qs',
       local, local - zone, 'UTC', 'exif_offset', local, local - zone,
       random() < 0.03, random() < 0.01,
       CASE WHEN random() < 0.005 THEN now() ELSE NULL END
FROM (
    SELECT p.i, e.start + random() * e.span AS local,
           ((random() * 24)::int - 12) * interval '1 hour' AS zone
    FROM (
        SELECT i, floor(%(events)s * (random() ^ 1.5))::int AS event
        FROM generate_series(%(first)s::int, %(last)s::int) AS i
    ) AS p
    JOIN bench_events e ON e.id = p.event
    ORDER BY random()
) AS rows
"""


def fill(url: str, owner: uuid.UUID, others: list[uuid.UUID], start: int, end: int) -> float:
    """Insert assets ``start..end-1`` of the owner (and, the first time, the others')."""
    import psycopg

    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        events = max(EVENTS_PER_100K * end // 100_000, 50)
        conn.execute("DROP TABLE IF EXISTS bench_events")
        conn.execute(EVENTS_SQL, {"events": events})  # type: ignore[arg-type]
        for first in range(start, end, BATCH):
            last = min(first + BATCH, end) - 1
            conn.execute(
                ASSETS_SQL,  # type: ignore[arg-type]
                {"owner": owner, "salt": "o", "events": events, "first": first, "last": last},
            )
        if start == 0:
            for n, other in enumerate(others):
                conn.execute(
                    ASSETS_SQL,  # type: ignore[arg-type]
                    {
                        "owner": other,
                        "salt": f"u{n}",
                        "events": 200,
                        "first": 0,
                        "last": OTHER_USER_ASSETS - 1,
                    },
                )
        conn.execute("VACUUM ANALYZE assets")
        conn.execute("VACUUM ANALYZE timeline_months")
    return time.perf_counter() - began


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(client: Any, path: str, params: dict[str, Any], headers: Any, n: int) -> Any:
    """Latencies (seconds) of ``n`` sequential GETs after a short warm-up, and the last body."""
    body = None
    for _ in range(10):
        response = await client.get(path, params=params, headers=headers)
        response.raise_for_status()
    timings = []
    for _ in range(n):
        began = time.perf_counter()
        response = await client.get(path, params=params, headers=headers)
        timings.append(time.perf_counter() - began)
        response.raise_for_status()
        body = response.json()
    return timings, body


async def run(url: str, args: argparse.Namespace) -> list[tuple[str, ...]]:
    import httpx
    import psycopg
    from asgi_lifespan import LifespanManager

    from meadhall.app import create_app
    from meadhall.platform.accounts.security import create_access_token
    from meadhall.wings import HOUSE

    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory(prefix="meadhall-bench-data-") as data_dir:
        settings = HOUSE.settings_class(
            database_url=url,
            data_dir=Path(data_dir),
            secret_key=SECRET,
            workers_in_process=False,
            log_level="warning",
        )
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=120):
            with psycopg.connect(url, autocommit=True) as conn:
                owner = insert_user(conn, "owner@example.com")
                others = [insert_user(conn, f"other{n}@example.com") for n in range(OTHER_USERS)]
            token, _ = create_access_token(
                key=settings.signing_key(), user_id=owner, token_version=0, minutes=120
            )
            headers = {"Authorization": f"Bearer {token}"}
            transport = httpx.ASGITransport(app=app)
            loaded = 0
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for size in args.sizes:
                    seconds = await asyncio.to_thread(fill, url, owner, others, loaded, size)
                    print(f"loaded {size:,} assets for the owner in {seconds:.1f} s", flush=True)
                    loaded = size
                    timings, buckets = await measure(
                        client, "/api/library/timeline/buckets", {}, headers, args.requests
                    )
                    rows.append(_row(size, "buckets (summary)", len(buckets), timings))
                    counts = sorted(buckets, key=lambda b: b["count"])
                    median_month = counts[len(counts) // 2]
                    busiest = counts[-1]
                    for label, bucket in (("median", median_month), ("busiest", busiest)):
                        timings, body = await measure(
                            client,
                            "/api/library/timeline/months",
                            {"months": bucket["month"]},
                            headers,
                            args.requests,
                        )
                        items = len(body["months"][0]["items"])
                        assert items == bucket["count"], (items, bucket)
                        name = f"month {bucket['month']} ({label})"
                        rows.append(_row(size, name, items, timings))
    return rows


def _row(size: int, name: str, items: int, timings: list[float]) -> tuple[str, ...]:
    return (
        f"{size:,}",
        name,
        f"{items:,}",
        f"{statistics.median(timings) * 1000:.1f}",
        f"{_percentile(timings, 0.99) * 1000:.1f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", default=DEFAULT_URL, help="maintenance database of the server")
    where.add_argument("--embedded", action="store_true", help="use an embedded PostgreSQL")
    parser.add_argument(
        "--sizes",
        type=lambda v: sorted(int(x) for x in v.split(",")),
        default=[100_000, 1_000_000],
        help="library sizes of the owner to measure, comma-separated (grown in place)",
    )
    parser.add_argument("--requests", type=int, default=300, help="timed requests per row")
    args = parser.parse_args()

    with bench_database(None if args.embedded else args.url) as url:
        rows = asyncio.run(run(url, args))

    server = "embedded PostgreSQL" if args.embedded else args.url.rsplit("@", 1)[-1]
    print(
        f"\nTimeline through the HTTP API (in-process ASGI) on {server}; "
        f"{args.requests} sequential requests per row; the owner's library only\n"
    )
    header = ("assets", "request", "items", "p50 ms", "p99 ms")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(
        "  ".join(
            h.ljust(w) if i < 2 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    for row in rows:
        print(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
