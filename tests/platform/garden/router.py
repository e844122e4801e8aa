"""The garden's API: plant a bed, list your beds."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from meadhall.platform.accounts.deps import CurrentUser
from meadhall.platform.deps import DbSession
from tests.platform.garden import repository
from tests.platform.garden.models import GardenBed

router = APIRouter(prefix="/garden", tags=["garden"])


class BedCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class BedRead(BaseModel):
    name: str


@router.post("/beds", operation_id="garden_plant", status_code=201)
async def plant(body: BedCreate, user: CurrentUser, session: DbSession) -> BedRead:
    session.add(GardenBed(owner_id=user.user_id, name=body.name))
    return BedRead(name=body.name)


@router.get("/beds", operation_id="garden_beds")
async def beds(user: CurrentUser, session: DbSession) -> list[BedRead]:
    return [BedRead(name=bed.name) for bed in await repository.beds_of(session, user.user_id)]
