"""Timeline reads: month counts from ``timeline_months``, month pages from a covering index.

Both stay fast on a library of a million assets (``bench/timeline.py``): the summary sums a
few hundred rows that triggers keep current (migration 0007) instead of counting assets, and a
month page is an index-only scan of ``ix_assets_timeline`` over one owner's month (its
INCLUDE list holds every column of ``ITEM_COLUMNS``; migrations 0007 and 0010).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Text, cast, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.models import Asset, TimelineMonth
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


def _counted() -> list[ColumnElement[bool]]:
    # Exactly the predicate of ix_assets_timeline, so the planner can use that index.
    return [Asset.trashed_at.is_(None), ~Asset.is_archived]


async def buckets(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    types: Sequence[str] = (),
    favourite: bool | None = None,
) -> list[tuple[str, int]]:
    """``(YYYY-MM, count)`` of the owner's timeline, newest month first."""
    total = func.sum(TimelineMonth.count)
    query = select(TimelineMonth.month, total).where(TimelineMonth.owner_id == owner_id)
    if types:
        query = query.where(TimelineMonth.type.in_(list(types)))
    if favourite is not None:
        query = query.where(TimelineMonth.is_favourite.is_(favourite))
    query = query.group_by(TimelineMonth.month).having(total > 0)
    rows = await session.execute(query.order_by(TimelineMonth.month.desc()))
    return [(_month_text(month), int(count)) for month, count in rows]


def _month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


# The same expression as in ix_assets_timeline, with 'month' as a literal (a bound parameter
# would not match the index).
_local_month = func.date_trunc(literal_column("'month'"), Asset.local_at)

# The keys of each item, in order (``TimelineItem``).
ITEM_COLUMNS = (
    Asset.id,
    Asset.name,
    Asset.type,
    Asset.media,
    Asset.local_at,
    Asset.width,
    Asset.height,
    Asset.placeholder,
    Asset.duration_ms,
    Asset.is_favourite,
)


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
            items = await _month_array(
                session, owner_id=owner_id, month=month, types=types, favourite=favourite
            )
        # ``month`` is digits and a dash (validated), safe to place in JSON as is.
        parts.append(b'{"month":"%s","items":%s}' % (str(month).encode(), items))
    return b'{"months":[' + b",".join(parts) + b"]}"


async def _month_array(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    month: Month,
    types: Sequence[str] = (),
    favourite: bool | None = None,
) -> bytes:
    """One month's items as a JSON array built by PostgreSQL, newest instant first."""
    conditions = [Asset.owner_id == owner_id, *_counted(), _local_month == month.start]
    if types:
        conditions.append(Asset.type.in_(list(types)))
    if favourite is not None:
        conditions.append(Asset.is_favourite.expression if favourite else ~Asset.is_favourite)
    page = (
        select(*ITEM_COLUMNS)
        .where(*conditions)
        .order_by(Asset.sort_at.desc(), Asset.id.desc())
        .subquery("item")
    )
    # The keys are the column names. json_agg takes rows in the order the subquery yields
    # them (it has no parallel form, and the index hands them over in page order).
    array = await session.scalar(
        select(cast(func.json_agg(literal_column("item")), Text)).select_from(page)
    )
    return (array or "[]").encode()


async def _cached_month(session: AsyncSession, *, owner_id: uuid.UUID, month: Month) -> bytes:
    """The unfiltered month page, from ``timeline_pages`` while its version is current.

    The version is read before the page is built and the page is stored under that version
    only if it is still current: a change committing meanwhile bumps the version, so a page
    that may have missed it is never served (see migration 0009).
    """
    key = {"owner_id": owner_id, "month": month.start.date()}
    row = (
        await session.execute(
            text(
                "SELECT version, body_version, "
                "CASE WHEN body_version = version THEN body END AS body "
                "FROM timeline_pages WHERE owner_id = :owner_id AND month = :month"
            ),
            key,
        )
    ).first()
    if row is not None and row.body is not None:
        return str(row.body).encode()
    items = await _month_array(session, owner_id=owner_id, month=month)
    if row is not None:
        await session.execute(
            text(
                "UPDATE timeline_pages SET body = :body, body_version = :version "
                "WHERE owner_id = :owner_id AND month = :month AND version = :version"
            ),
            {**key, "body": items.decode(), "version": row.version},
        )
    return items
