"""The browser UI's shell: page rendering, the navigation, static files, the admin pages.

Wings bring their own pages, templates and static files (their manifest's ``pages`` and
``web``); :func:`install_web` mounts what the house's wings declare.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from meadhall.platform.house import House

WEB_DIR = Path(__file__).parent


def install_web(app: FastAPI, house: House) -> None:
    """Mount every wing's page routers and the static files; render browser 404s as pages."""
    from meadhall.web.errors import install_page_errors
    from meadhall.web.static import mount_static

    install_page_errors(app)
    for wing in house.wings:
        for router in wing.pages:
            app.include_router(router)
    mount_static(app)
