"""SQL of the timeline: month counts from ``timeline_months``, month pages from a covering
index, and the stored pages of ``timeline_pages`` (migrations 0007, 0009, 0010)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Text, cast, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.models import Asset, TimelineMonth

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

# The same expression as in ix_assets_timeline, with 'month' as a literal (a bound parameter
# would not match the index).
_local_month = func.date_trunc(literal_column("'month'"), Asset.local_at)


def _counted() -> list[ColumnElement[bool]]:
    # Exactly the predicate of ix_assets_timeline, so the planner can use that index.
    return [Asset.trashed_at.is_(None), ~Asset.is_archived]


async def month_counts(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    types: Sequence[str] = (),
    favourite: bool | None = None,
) -> list[tuple[date, int]]:
    """``(first day of the month, count)`` of the owner's non-empty months, newest first."""
    total = func.sum(TimelineMonth.count)
    query = select(TimelineMonth.month, total).where(TimelineMonth.owner_id == owner_id)
    if types:
        query = query.where(TimelineMonth.type.in_(list(types)))
    if favourite is not None:
        query = query.where(TimelineMonth.is_favourite.is_(favourite))
    query = query.group_by(TimelineMonth.month).having(total > 0)
    rows = await session.execute(query.order_by(TimelineMonth.month.desc()))
    return [(month, int(count)) for month, count in rows]


async def month_array(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    month_start: datetime,
    types: Sequence[str] = (),
    favourite: bool | None = None,
) -> bytes:
    """One month's items as a JSON array built by PostgreSQL, newest instant first."""
    conditions = [Asset.owner_id == owner_id, *_counted(), _local_month == month_start]
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


async def stored_page(
    session: AsyncSession, *, owner_id: uuid.UUID, month: date
) -> Row[Any] | None:
    """The month's ``timeline_pages`` row: ``version``, ``body_version`` and ``body`` (the
    stored page, ``None`` unless it was built at the current version)."""
    return (
        await session.execute(
            text(
                "SELECT version, body_version, "
                "CASE WHEN body_version = version THEN body END AS body "
                "FROM timeline_pages WHERE owner_id = :owner_id AND month = :month"
            ),
            {"owner_id": owner_id, "month": month},
        )
    ).first()


async def store_page(
    session: AsyncSession, *, owner_id: uuid.UUID, month: date, body: str, version: int
) -> None:
    """Keep ``body`` as the month's page built at ``version``, unless the version moved on."""
    await session.execute(
        text(
            "UPDATE timeline_pages SET body = :body, body_version = :version "
            "WHERE owner_id = :owner_id AND month = :month AND version = :version"
        ),
        {"owner_id": owner_id, "month": month, "body": body, "version": version},
    )
