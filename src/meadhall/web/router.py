"""Page shells of the UI. The server decides only where a browser belongs; the pages' scripts
talk to the JSON API for everything else."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from meadhall.platform.accounts.schemas import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from meadhall.platform.deps import RuntimeDep
from meadhall.web.rendering import (
    PAGE_METHODS,
    SECRET_URL_REFERRER_POLICY,
    redirect,
    render_page,
)
from meadhall.web.viewer import is_onboarded, page_viewer, safe_next

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

# Longer values are not real codes or tokens; the form then starts empty instead of echoing them.
MAX_SECRET_LENGTH = 512


def _form_rules() -> dict[str, int]:
    # The API is the judge; the same limits in the form only tell people earlier.
    return {"password_min": MIN_PASSWORD_LENGTH, "password_max": MAX_PASSWORD_LENGTH}


def _bounded(value: str | None, limit: int) -> str:
    if value is None or len(value) > limit:
        return ""
    return value.strip()


@router.api_route("/login", operation_id="page_login", name="page_login", methods=PAGE_METHODS)
async def login(request: Request, runtime: RuntimeDep) -> Response:
    """Sign in with email and password."""
    next_path = safe_next(request.query_params.get("next"))
    if not await is_onboarded(runtime):
        return redirect("/onboarding")
    if await page_viewer(request) is not None:
        return redirect(next_path)
    return render_page(
        request,
        "pages/login.html",
        {
            "page_title": "Sign in",
            "next_path": next_path,
            "password_was_reset": request.query_params.get("reset") == "1",
            **_form_rules(),
        },
    )


@router.api_route(
    "/onboarding", operation_id="page_onboarding", name="page_onboarding", methods=PAGE_METHODS
)
async def onboarding(request: Request, runtime: RuntimeDep) -> Response:
    """Create the first account, which becomes the admin; only while there is none."""
    if await is_onboarded(runtime):
        return redirect("/login")
    return render_page(
        request,
        "pages/onboarding.html",
        {"page_title": "Set up Meadhall", **_form_rules()},
    )


@router.api_route(
    "/register", operation_id="page_register", name="page_register", methods=PAGE_METHODS
)
async def register(request: Request, runtime: RuntimeDep) -> Response:
    """Join with an invite code, usually arriving from an invite link ``/register?invite=…``."""
    if not await is_onboarded(runtime):
        return redirect("/onboarding")
    # Invite links carry the code as ``code`` or ``invite``.
    invite_code = request.query_params.get("code") or request.query_params.get("invite")
    return render_page(
        request,
        "pages/register.html",
        {
            "page_title": "Join",
            "invite_code": _bounded(invite_code, MAX_SECRET_LENGTH),
            **_form_rules(),
        },
        referrer_policy=SECRET_URL_REFERRER_POLICY,
    )


@router.api_route(
    "/forgot-password",
    operation_id="page_forgot_password",
    name="page_forgot_password",
    methods=PAGE_METHODS,
)
async def forgot_password(request: Request, runtime: RuntimeDep) -> Response:
    """Ask for a password reset link by e-mail (offered only when the server can send mail)."""
    return render_page(
        request,
        "pages/forgot_password.html",
        {
            "page_title": "Reset your password",
            "smtp_enabled": runtime.settings.smtp_enabled,
        },
    )


@router.api_route(
    "/reset-password",
    operation_id="page_reset_password",
    name="page_reset_password",
    methods=PAGE_METHODS,
)
async def reset_password(request: Request) -> Response:
    """Choose a new password with the token from a reset e-mail."""
    return render_page(
        request,
        "pages/reset_password.html",
        {
            "page_title": "Choose a new password",
            "reset_token": _bounded(request.query_params.get("token"), MAX_SECRET_LENGTH),
            **_form_rules(),
        },
        referrer_policy=SECRET_URL_REFERRER_POLICY,
    )
