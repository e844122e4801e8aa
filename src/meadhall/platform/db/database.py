"""The engine, sessions with one commit, and what runs after a commit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from meadhall.platform.db.server import sqlalchemy_url

logger = logging.getLogger("meadhall.db")

AfterCommit = Callable[[], Awaitable[None]]
_AFTER_COMMIT = "meadhall.after_commit"


def on_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` once the session's transaction has committed (never on rollback).

    Events and notifications go through here, so nobody hears of a change that is not stored.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@dataclass(frozen=True)
class DatabaseFeatures:
    """What the connected server offers; code falls back where an extension is missing."""

    server_version: int
    vector: bool
    pg_trgm: bool


class Database:
    """One engine per process, and the session scopes built on it."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self.features = DatabaseFeatures(server_version=0, vector=False, pg_trgm=False)

    async def detect_features(self) -> DatabaseFeatures:
        async with self.engine.connect() as conn:
            version = int((await conn.execute(text("SHOW server_version_num"))).scalar_one())
            installed = set(
                (await conn.execute(text("SELECT extname FROM pg_extension"))).scalars()
            )
        self.features = DatabaseFeatures(
            server_version=version,
            vector="vector" in installed,
            pg_trgm="pg_trgm" in installed,
        )
        return self.features

    def share_with_sessions(self, **values: object) -> None:
        """Put process-wide values (such as the event bus) into every new session's ``info``.

        Code that only receives a session finds them there, without a global registry.
        """
        self.sessionmaker.configure(info=dict(values))

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session that commits once on success, rolls back on error, then runs hooks."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                session.info.pop(_AFTER_COMMIT, None)
                raise
        await run_after_commit(session)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            # The change is stored; a lost notification must not turn it into an error.
            logger.exception("after-commit callback failed")
