"""The application of this install: the platform's ``create_app`` over the house's wings."""

from __future__ import annotations

from fastapi import FastAPI

from meadhall.config import Settings
from meadhall.platform.app import create_app as create_house_app
from meadhall.platform.observability.logs import configure_logging
from meadhall.wings import HOUSE


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI application. Settings are read from the environment when not given."""
    return create_house_app(HOUSE, settings)


def configure_and_create_app() -> FastAPI:
    """Entry point for ``uvicorn --factory``: settings and logging from the environment."""
    settings = HOUSE.load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
