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

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.search import repository
from meadhall.library.search.schemas import (
    CityFacet,
    CountryFacet,
    MakeFacet,
    ModelFacet,
    SearchFacets,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


async def facets(
    session: AsyncSession, *, owner_id: uuid.UUID, limit: int = DEFAULT_LIMIT
) -> SearchFacets:
    """Distinct camera makers, models, countries and cities with counts, most frequent first."""
    makes = await repository.camera_makes(session, owner_id=owner_id, limit=limit)
    models = await repository.camera_models(session, owner_id=owner_id, limit=limit)
    countries = await repository.countries(session, owner_id=owner_id, limit=limit)
    cities = await repository.cities(session, owner_id=owner_id, limit=limit)
    return SearchFacets(
        makes=[MakeFacet(make=make, count=n) for make, n in makes],
        models=[ModelFacet(make=make, model=model, count=n) for make, model, n in models],
        countries=[
            CountryFacet(country=country, code=code, count=n) for country, code, n in countries
        ],
        cities=[CityFacet(city=city, country=country, count=n) for city, country, n in cities],
    )
