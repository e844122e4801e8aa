"""``/api/library/facets``: what the search page's camera and place filters can offer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from meadhall.library.search import service
from meadhall.library.search.schemas import SearchFacets
from meadhall.platform.accounts.deps import CurrentUser
from meadhall.platform.deps import DbSession
from meadhall.platform.errors import NotAuthenticated, error_responses

router = APIRouter(prefix="/library", tags=["library"])


@router.get(
    "/facets",
    operation_id="library_facets",
    response_model=SearchFacets,
    responses=error_responses(NotAuthenticated),
)
async def library_facets(
    principal: CurrentUser,
    session: DbSession,
    limit: Annotated[
        int, Query(ge=1, le=service.MAX_LIMIT, description="Most entries in each list.")
    ] = service.DEFAULT_LIMIT,
) -> SearchFacets:
    """Camera makers and models, countries and cities among the caller's own assets outside
    the trash, each with how many assets have it, most frequent first."""
    return await service.facets(session, owner_id=principal.user_id, limit=limit)
