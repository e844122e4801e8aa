"""Facets for the search page: which cameras and places occur in a library, and how often.

Only the caller's own assets count (not those seen through shared albums): the suggestions
describe *their* library, and another user's camera or home town is not theirs to learn.
Archived assets count (the search can show them); trashed ones do not.

Values are grouped by ``lower(value)`` because the asset list filters compare that way
(``assets/repository.filter_conditions``): two spellings of one maker would otherwise show up
twice and both select the same photos.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from meadhall.library.models import Asset
from meadhall.library.search.schemas import (
    CityFacet,
    CountryFacet,
    MakeFacet,
    ModelFacet,
    SearchFacets,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _present(column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    # Blank strings are as good as missing: nobody can pick an empty camera.
    return func.coalesce(func.btrim(column), "") != ""


async def facets(
    session: AsyncSession, *, owner_id: uuid.UUID, limit: int = DEFAULT_LIMIT
) -> SearchFacets:
    """Distinct camera makers, models, countries and cities with counts, most frequent first."""
    mine = [Asset.owner_id == owner_id, Asset.trashed_at.is_(None)]
    count = func.count().label("n")

    make_key = func.lower(Asset.camera_make)
    makes = await session.execute(
        select(func.min(Asset.camera_make), count)
        .where(*mine, _present(Asset.camera_make))
        .group_by(make_key)
        .order_by(count.desc(), make_key)
        .limit(limit)
    )

    model_key = func.lower(Asset.camera_model)
    models = await session.execute(
        select(func.min(Asset.camera_make), func.min(Asset.camera_model), count)
        .where(*mine, _present(Asset.camera_model))
        .group_by(make_key, model_key)
        .order_by(count.desc(), model_key, make_key)
        .limit(limit)
    )

    country_key = func.lower(Asset.country)
    countries = await session.execute(
        select(func.min(Asset.country), func.min(Asset.country_code), count)
        .where(*mine, _present(Asset.country))
        .group_by(country_key)
        .order_by(count.desc(), country_key)
        .limit(limit)
    )

    city_key = func.lower(Asset.city)
    cities = await session.execute(
        select(func.min(Asset.city), func.min(Asset.country), count)
        .where(*mine, _present(Asset.city))
        .group_by(country_key, city_key)
        .order_by(count.desc(), city_key, country_key)
        .limit(limit)
    )

    return SearchFacets(
        makes=[MakeFacet(make=make, count=n) for make, n in makes],
        models=[ModelFacet(make=make, model=model, count=n) for make, model, n in models],
        countries=[
            CountryFacet(country=country, code=code, count=n) for country, code, n in countries
        ],
        cities=[CityFacet(city=city, country=country, count=n) for city, country, n in cities],
    )
