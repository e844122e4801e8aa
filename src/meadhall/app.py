"""``create_app()``: routers, error handlers, middleware and the lifespan that wires them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from meadhall import __version__
from meadhall.config import Settings, load_settings
from meadhall.library.router import router as library_router
from meadhall.platform.accounts.router import router as accounts_router
from meadhall.platform.accounts.service import close_accounts
from meadhall.platform.db import Database
from meadhall.platform.db.migrate import upgrade
from meadhall.platform.db.server import release_embedded, resolve_database_url
from meadhall.platform.errors import install_handlers
from meadhall.platform.events.bus import SESSION_BUS_KEY, create_bus
from meadhall.platform.events.router import router as events_router
from meadhall.platform.http import BodyLimitMiddleware, RequestContextMiddleware
from meadhall.platform.jobs.lifespan import jobs_lifespan
from meadhall.platform.jobs.router import router as jobs_router
from meadhall.platform.observability.logs import configure_logging
from meadhall.platform.observability.router import router as observability_router
from meadhall.platform.runtime import Runtime
from meadhall.web.admin import router as admin_pages
from meadhall.web.errors import install_page_errors
from meadhall.web.library import router as library_pages
from meadhall.web.router import router as web_router
from meadhall.web.static import mount_static

logger = logging.getLogger("meadhall")


async def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """Start or reach PostgreSQL, bring the schema up to date, detect extensions."""
    url = await asyncio.to_thread(resolve_database_url, settings)
    if migrate:
        await asyncio.to_thread(upgrade, url)
    db = Database(url, pool_size=settings.database_pool_size)
    await db.detect_features()
    return db


@asynccontextmanager
async def runtime_lifespan(settings: Settings) -> AsyncIterator[Runtime]:
    """Everything a process needs to serve requests or run jobs, opened and closed in order."""
    db = await open_database(settings)
    bus = create_bus(settings)
    await bus.start()
    db.share_with_sessions(**{SESSION_BUS_KEY: bus})
    runtime = Runtime(settings=settings, db=db, bus=bus)
    try:
        yield runtime
    finally:
        await close_accounts(runtime)
        await bus.stop()
        await db.dispose()
        if settings.database_url is None:
            await asyncio.to_thread(release_embedded, settings.resolved_data_dir)


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI application. Settings are read from the environment when not given."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime_lifespan(settings) as runtime:
            app.state.runtime = runtime
            from meadhall.library.ingest.watch import watching_folders

            async with jobs_lifespan(runtime), watching_folders(runtime):
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
    install_handlers(app)
    install_page_errors(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_json_body_bytes)
    app.add_middleware(RequestContextMiddleware)

    app.include_router(observability_router)
    app.include_router(accounts_router, prefix="/api")
    app.include_router(jobs_router, prefix="/api")
    app.include_router(events_router, prefix="/api")
    app.include_router(library_router, prefix="/api")
    app.include_router(web_router)
    app.include_router(library_pages)
    app.include_router(admin_pages)
    mount_static(app)
    return app


def configure_and_create_app() -> FastAPI:
    """Entry point for ``uvicorn --factory``: settings and logging from the environment."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
