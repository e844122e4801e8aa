"""Shared plumbing of the signed-in pages: who is looking, and the page shell around a script.

Every signed-in page is a shell: a heading, a mount point and one page module that talks to the
JSON API. A visitor without a session goes to the sign-in page (or onboarding on a new server)
and comes back afterwards; a member asking for an admin page gets the HTML 404.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from meadhall.platform.accounts.principal import Principal
from meadhall.platform.runtime import Runtime
from meadhall.web.nav import nav_links
from meadhall.web.rendering import redirect, render_page
from meadhall.web.viewer import is_onboarded, login_url, page_viewer


async def signed_in_viewer(request: Request, runtime: Runtime) -> Principal | Response:
    """The viewer, or the redirect that a visitor without a session should follow."""
    viewer = await page_viewer(request)
    if viewer is not None:
        return viewer
    if not await is_onboarded(runtime):
        return redirect("/onboarding")
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return redirect(login_url(path))


def render_app_page(
    request: Request,
    viewer: Principal,
    template: str,
    *,
    title: str,
    current: str | None,
    script: str,
    data: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> Response:
    """Render ``template`` inside the signed-in shell, with ``script`` as its page module.

    ``data`` becomes ``data-*`` attributes of the page's mount point (``[data-page]``), the
    one way the server hands values to the page module. ``context`` goes to the template only.
    """
    return render_page(
        request,
        template,
        {
            "viewer": viewer,
            "nav": nav_links(request.app.state.house, viewer, current=current),
            "page_title": title,
            "page_script": script,
            "page_data": {key: value for key, value in (data or {}).items() if value is not None},
            **(context or {}),
        },
    )
