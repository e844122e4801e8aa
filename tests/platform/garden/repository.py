"""The garden's SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.platform.garden.models import GardenBed


async def beds_of(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[GardenBed]:
    return (
        await session.scalars(
            select(GardenBed).where(GardenBed.owner_id == owner_id).order_by(GardenBed.name)
        )
    ).all()
