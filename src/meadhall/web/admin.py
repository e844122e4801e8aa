"""Pages for the people who run the server: users and invites, folders, jobs, storage."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from meadhall.platform.deps import RuntimeDep
from meadhall.web.errors import page_not_found
from meadhall.web.pages import render_app_page, signed_in_viewer
from meadhall.web.rendering import PAGE_METHODS, redirect

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

# (path segment, title, icon); the admin pages share one tab bar built from this.
SECTIONS = (
    ("users", "Users", "users"),
    ("folders", "Folders", "folder"),
    ("jobs", "Jobs", "jobs"),
    ("storage", "Storage", "storage"),
)


@router.api_route("/admin", operation_id="page_admin", name="page_admin", methods=PAGE_METHODS)
async def admin_home(request: Request, runtime: RuntimeDep) -> Response:
    """The first admin section."""
    viewer = await signed_in_viewer(request, runtime)
    if isinstance(viewer, Response):
        return viewer
    if not viewer.is_admin:
        return page_not_found(request)
    return redirect("/admin/users")


@router.api_route(
    "/admin/{section}",
    operation_id="page_admin_section",
    name="page_admin_section",
    methods=PAGE_METHODS,
)
async def admin_section(request: Request, runtime: RuntimeDep, section: str) -> Response:
    """One admin section; members get the same 404 as for a page that does not exist."""
    viewer = await signed_in_viewer(request, runtime)
    if isinstance(viewer, Response):
        return viewer
    titles = {key: title for key, title, _ in SECTIONS}
    if not viewer.is_admin or section not in titles:
        return page_not_found(request)
    return render_app_page(
        request,
        viewer,
        f"pages/admin/{section}.html",
        title=titles[section],
        current="admin",
        script=f"js/pages/admin_{section}.js",
        data={"section": section},
        context={"admin_sections": SECTIONS, "admin_section": section},
    )
