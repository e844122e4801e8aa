"""SQL of the search facets: one owner's distinct cameras and places outside the trash,
grouped by ``lower(value)`` (why: ``service.py``), most frequent first, blanks left out."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from meadhall.library.models import Asset


def _present(column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    # Blank strings are as good as missing: nobody can pick an empty camera.
    return func.coalesce(func.btrim(column), "") != ""


def _mine(owner_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return [Asset.owner_id == owner_id, Asset.trashed_at.is_(None)]


_count = func.count().label("n")
_make_key = func.lower(Asset.camera_make)
_model_key = func.lower(Asset.camera_model)
_country_key = func.lower(Asset.country)
_city_key = func.lower(Asset.city)


async def camera_makes(
    session: AsyncSession, *, owner_id: uuid.UUID, limit: int
) -> list[tuple[str | None, int]]:
    """``(make, count)``; of several spellings of one maker, the first in sort order."""
    rows = await session.execute(
        select(func.min(Asset.camera_make), _count)
        .where(*_mine(owner_id), _present(Asset.camera_make))
        .group_by(_make_key)
        .order_by(_count.desc(), _make_key)
        .limit(limit)
    )
    return [(make, n) for make, n in rows]


async def camera_models(
    session: AsyncSession, *, owner_id: uuid.UUID, limit: int
) -> list[tuple[str | None, str | None, int]]:
    """``(make, model, count)`` per maker and model."""
    rows = await session.execute(
        select(func.min(Asset.camera_make), func.min(Asset.camera_model), _count)
        .where(*_mine(owner_id), _present(Asset.camera_model))
        .group_by(_make_key, _model_key)
        .order_by(_count.desc(), _model_key, _make_key)
        .limit(limit)
    )
    return [(make, model, n) for make, model, n in rows]


async def countries(
    session: AsyncSession, *, owner_id: uuid.UUID, limit: int
) -> list[tuple[str | None, str | None, int]]:
    """``(country, ISO code, count)``."""
    rows = await session.execute(
        select(func.min(Asset.country), func.min(Asset.country_code), _count)
        .where(*_mine(owner_id), _present(Asset.country))
        .group_by(_country_key)
        .order_by(_count.desc(), _country_key)
        .limit(limit)
    )
    return [(country, code, n) for country, code, n in rows]


async def cities(
    session: AsyncSession, *, owner_id: uuid.UUID, limit: int
) -> list[tuple[str | None, str | None, int]]:
    """``(city, country, count)`` per country and city."""
    rows = await session.execute(
        select(func.min(Asset.city), func.min(Asset.country), _count)
        .where(*_mine(owner_id), _present(Asset.city))
        .group_by(_country_key, _city_key)
        .order_by(_count.desc(), _city_key, _country_key)
        .limit(limit)
    )
    return [(city, country, n) for city, country, n in rows]
