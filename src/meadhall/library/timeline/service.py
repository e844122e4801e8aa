"""Timeline reads: month counts from ``timeline_months``, month pages from a covering index.

Both stay fast on a library of a million assets (``bench/timeline.py``): the summary sums a
few hundred rows that triggers keep current (migration 0007) instead of counting assets, and a
month page is an index-only scan of ``ix_assets_timeline`` over one owner's month (its
INCLUDE list holds every column of ``repository.ITEM_COLUMNS``; migrations 0007 and 0010).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.timeline import repository
from meadhall.platform.errors import Unprocessable

MAX_MONTHS = 12
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.fullmatch(text.strip())
        if match is None or int(match.group(1)) < 1:
            raise Unprocessable(
                f"{text.strip()[:20]!r} is not a month; use YYYY-MM", details={"month": text[:20]}
            )
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1)


def parse_months(values: Sequence[str]) -> list[Month]:
    """Months from ``?months=2024-05,2024-04`` (repeated parameters work too), deduplicated."""
    months: dict[Month, None] = {}
    for value in values:
        for part in value.split(","):
            if part.strip():
                months[Month.parse(part)] = None
    if not months:
        raise Unprocessable("name at least one month (YYYY-MM)")
    if len(months) > MAX_MONTHS:
        raise Unprocessable(f"at most {MAX_MONTHS} months per request")
    return list(months)


async def buckets(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    types: Sequence[str] = (),
    favourite: bool | None = None,
) -> list[tuple[str, int]]:
    """``(YYYY-MM, count)`` of the owner's timeline, newest month first."""
    rows = await repository.month_counts(
        session, owner_id=owner_id, types=types, favourite=favourite
    )
    return [(_month_text(month), count) for month, count in rows]


def _month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


async def month_items(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    months: Sequence[Month],
    types: Sequence[str] = (),
    favourite: bool | None = None,
) -> bytes:
    """The body of a months response: each month's items, newest capture instant first.

    PostgreSQL aggregates each month into one JSON array, which goes into the response as it
    is. A busy month holds thousands of items; turning each into Python objects and back
    would cost several times the query itself (measured in ``bench/timeline.py``).
    Timestamps come out in ISO 8601 (``2024-05-31T23:30:00``), as everywhere in the API.
    """
    parts: list[bytes] = []
    cacheable = not types and favourite is None
    for month in months:
        if cacheable:
            items = await _cached_month(session, owner_id=owner_id, month=month)
        else:
            items = await repository.month_array(
                session,
                owner_id=owner_id,
                month_start=month.start,
                types=types,
                favourite=favourite,
            )
        # ``month`` is digits and a dash (validated), safe to place in JSON as is.
        parts.append(b'{"month":"%s","items":%s}' % (str(month).encode(), items))
    return b'{"months":[' + b",".join(parts) + b"]}"


async def _cached_month(session: AsyncSession, *, owner_id: uuid.UUID, month: Month) -> bytes:
    """The unfiltered month page, from ``timeline_pages`` while its version is current.

    The version is read before the page is built and the page is stored under that version
    only if it is still current: a change committing meanwhile bumps the version, so a page
    that may have missed it is never served (see migration 0009).
    """
    first_day = month.start.date()
    row = await repository.stored_page(session, owner_id=owner_id, month=first_day)
    if row is not None and row.body is not None:
        return str(row.body).encode()
    items = await repository.month_array(session, owner_id=owner_id, month_start=month.start)
    if row is not None:
        await repository.store_page(
            session, owner_id=owner_id, month=first_day, body=items.decode(), version=row.version
        )
    return items
