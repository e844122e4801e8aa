"""Jobs during the server's life (the jobs work fills this in)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from meadhall.platform.runtime import Runtime


@asynccontextmanager
async def jobs_lifespan(runtime: Runtime) -> AsyncIterator[None]:
    yield
