"""SQL of storage usage: one grouped pass over ``assets``, joined to every user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Result, Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.models import Asset, StorageQuota
from meadhall.platform.accounts.models import User


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


def _bytes(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(Asset.size_bytes).filter(condition), 0)


async def usage_by_owner(session: AsyncSession) -> Sequence[Row[Any]]:
    """Per user (also those without assets): counts and bytes by where originals live, the
    trashed part, and the quota row if any; largest stored bytes first.

    The sums come from a single ``GROUP BY owner_id`` with ``FILTER`` clauses, so the assets
    table is read once however many figures are asked of it.
    """
    uploaded = Asset.folder_id.is_(None)
    indexed = Asset.folder_id.is_not(None)
    trashed = Asset.trashed_at.is_not(None)
    per_owner = (
        select(
            Asset.owner_id.label("owner_id"),
            func.count().label("assets"),
            _count(uploaded).label("uploaded_assets"),
            _bytes(uploaded).label("uploaded_bytes"),
            _count(indexed).label("indexed_assets"),
            _bytes(indexed).label("indexed_bytes"),
            _count(trashed).label("trashed_assets"),
            _bytes(trashed).label("trashed_bytes"),
        )
        .group_by(Asset.owner_id)
        .subquery()
    )
    figures = [
        "assets",
        "uploaded_assets",
        "uploaded_bytes",
        "indexed_assets",
        "indexed_bytes",
        "trashed_assets",
        "trashed_bytes",
    ]
    columns = [func.coalesce(per_owner.c[name], 0).label(name) for name in figures]
    query = (
        select(
            User.id.label("user_id"),
            User.display_name,
            User.email,
            User.is_active,
            StorageQuota.user_id.label("quota_row"),
            StorageQuota.quota_bytes,
            *columns,
        )
        .outerjoin(per_owner, per_owner.c.owner_id == User.id)
        .outerjoin(StorageQuota, StorageQuota.user_id == User.id)
        .order_by(
            (columns[2] + columns[4]).desc(),
            func.lower(User.display_name),
            User.id,
        )
    )
    result: Result[Any] = await session.execute(query)
    return result.all()
