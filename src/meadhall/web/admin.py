"""Pages for the people who run the server: users and invites, folders, jobs, storage."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from meadhall.platform.deps import RuntimeDep
from meadhall.platform.wing import AdminSection
from meadhall.web.errors import page_not_found
from meadhall.web.pages import render_app_page, signed_in_viewer
from meadhall.web.rendering import PAGE_METHODS, redirect

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.api_route("/admin", operation_id="page_admin", name="page_admin", methods=PAGE_METHODS)
async def admin_home(request: Request, runtime: RuntimeDep) -> Response:
    """The first admin section."""
    viewer = await signed_in_viewer(request, runtime)
    if isinstance(viewer, Response):
        return viewer
    sections = request.app.state.house.admin_sections
    if not viewer.is_admin or not sections:
        return page_not_found(request)
    return redirect(f"/admin/{sections[0].key}")


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
    sections: list[AdminSection] = request.app.state.house.admin_sections
    chosen = next((s for s in sections if s.key == section), None)
    if not viewer.is_admin or chosen is None:
        return page_not_found(request)
    return render_app_page(
        request,
        viewer,
        chosen.template,
        title=chosen.title,
        current="admin",
        script=chosen.script,
        data={"section": section},
        context={"admin_sections": sections, "admin_section": section},
    )
