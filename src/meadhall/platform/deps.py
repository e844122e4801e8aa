"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.platform.db.database import run_after_commit
from meadhall.platform.runtime import Runtime, get_runtime


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commits once when the endpoint returns, rolls back on error.

    ``scope="function"`` below makes the commit happen before the response is sent, so a
    client is never told of a change that is not stored.
    """
    runtime = get_runtime(request)
    async with runtime.db.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    await run_after_commit(session)


DbSession = Annotated[AsyncSession, Depends(_request_session, scope="function")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
