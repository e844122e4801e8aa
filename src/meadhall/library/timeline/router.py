"""``/api/library/timeline``: the caller's own library by local capture month.

Only the caller's assets that are neither trashed nor archived; shared albums have their own
views. Both routes are built to answer in milliseconds on a million assets.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from meadhall.library.models import AssetType
from meadhall.library.timeline import service
from meadhall.library.timeline.schemas import TimelineBucket, TimelineMonths
from meadhall.platform.accounts.deps import CurrentUser
from meadhall.platform.deps import DbSession
from meadhall.platform.errors import NotAuthenticated, Unprocessable, error_responses

router = APIRouter(prefix="/library/timeline", tags=["library"])

TypeFilter = Annotated[list[AssetType] | None, Query(max_length=10, description="Any of these.")]
FavouriteFilter = Annotated[bool | None, Query(description="Only favourites (or only not).")]


@router.get(
    "/buckets",
    operation_id="timeline_buckets",
    response_model=list[TimelineBucket],
    responses=error_responses(NotAuthenticated),
)
async def timeline_buckets(
    principal: CurrentUser,
    session: DbSession,
    type: TypeFilter = None,
    favourite: FavouriteFilter = None,
) -> list[TimelineBucket]:
    """How many assets each local capture month holds, newest month first."""
    rows = await service.buckets(
        session,
        owner_id=principal.user_id,
        types=[t.value for t in type or ()],
        favourite=favourite,
    )
    return [TimelineBucket(month=month, count=count) for month, count in rows]


@router.get(
    "/months",
    operation_id="timeline_months",
    response_model=TimelineMonths,
    responses=error_responses(NotAuthenticated, Unprocessable),
)
async def timeline_months(
    principal: CurrentUser,
    session: DbSession,
    months: Annotated[
        list[str],
        Query(
            min_length=1,
            max_length=service.MAX_MONTHS,
            description="1-12 months, YYYY-MM, comma-separated or repeated.",
        ),
    ],
    type: TypeFilter = None,
    favourite: FavouriteFilter = None,
) -> Response:
    """The compact items of whole months, each newest capture instant first."""
    if sum(len(value) for value in months) > 12 * service.MAX_MONTHS:
        raise Unprocessable(f"at most {service.MAX_MONTHS} months per request")
    wanted = service.parse_months(months)
    body = await service.month_items(
        session,
        owner_id=principal.user_id,
        months=wanted,
        types=[t.value for t in type or ()],
        favourite=favourite,
    )
    # Built by the database as JSON text (see ``service.month_items``); the shape is exactly
    # ``TimelineMonths``, which the tests check.
    return Response(body, media_type="application/json")
