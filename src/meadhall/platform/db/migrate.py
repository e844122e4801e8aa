"""Alembic, driven from code so no ini file or working directory is needed.

Each wing keeps its revisions in a folder of its own (its manifest's ``migrations``) on a
branch named after it; the house hands every folder to :func:`upgrade`. Revision ids of new
migrations start with the wing's name (``library_0011``), so two wings cannot collide.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config

from meadhall.platform.db.server import sqlalchemy_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str, locations: Sequence[Path]) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, locations: Sequence[Path], revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (blocking; call from a thread in async code)."""
    command.upgrade(alembic_config(url, locations), revision)


def current(url: str) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return tuple(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
