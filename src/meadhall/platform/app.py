"""``create_app(house)``: middleware, error handlers, every wing's routers and the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from meadhall import __version__
from meadhall.config import Settings
from meadhall.platform.errors import install_handlers
from meadhall.platform.house import House
from meadhall.platform.http import BodyLimitMiddleware, RequestContextMiddleware
from meadhall.platform.jobs.lifespan import jobs_lifespan
from meadhall.web import install_web

logger = logging.getLogger("meadhall")


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(house: House, settings: Settings | None = None) -> FastAPI:
    """Build the ASGI application of ``house``. Settings are read from the environment when
    not given."""
    settings = settings or house.load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with house.open_runtime(settings) as runtime:
            app.state.runtime = runtime
            async with jobs_lifespan(runtime), house.serving(runtime):
                logger.info("meadhall is ready", extra={"url": settings.base_url})
                yield

    app = FastAPI(
        title="Meadhall",
        version=__version__,
        summary="A self-hosted home for a tabletop gaming group.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.house = house
    install_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_json_body_bytes)
    app.add_middleware(RequestContextMiddleware)

    for wing in house.wings:
        for router in wing.api:
            app.include_router(router, prefix="/api")
    install_web(app, house)
    return app
