"""Friendly HTML error pages for browser navigations; the API keeps its JSON envelope."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from meadhall.web.rendering import render_page

API_PREFIX = "/api"


def wants_html(request: Request) -> bool:
    """A browser navigating to a page: GET/HEAD, asks for HTML, not an API path."""
    path = request.url.path
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        return False
    if request.method not in ("GET", "HEAD"):
        return False
    return "text/html" in request.headers.get("accept", "")


def page_not_found(request: Request) -> Response:
    """The HTML 404 page."""
    return render_page(
        request, "pages/not_found.html", {"page_title": "Page not found"}, status_code=404
    )


def install_page_errors(app: FastAPI) -> None:
    """Render 404s of browser navigations as a page; everything else goes to the JSON handler.

    Call after :func:`meadhall.platform.errors.install_handlers`, whose HTTP error handler this
    one wraps.
    """
    json_handler = app.exception_handlers[StarletteHTTPException]

    async def _http_error(request: Request, exc: Exception) -> Response:
        if (
            isinstance(exc, StarletteHTTPException)
            and exc.status_code == 404
            and wants_html(request)
        ):
            return page_not_found(request)
        response = json_handler(request, exc)
        if inspect.isawaitable(response):
            response = await response
        return response

    app.add_exception_handler(StarletteHTTPException, _http_error)
