"""Rendering page shells: the Jinja environment and the headers every HTML answer carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.templating import Jinja2Templates

from meadhall import __version__
from meadhall.web.static import asset_url

TEMPLATES_DIR = Path(__file__).parent / "templates"

# Scripts and styles come only from this server: no inline code, no third parties. Pages talk
# to the JSON API and the event gateway on the same origin ('self' covers ws:/wss: there).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    # Pages differ by who is signed in; never let a shared cache keep one.
    "Cache-Control": "no-store",
}

# Pages whose URL carries a secret (an invite code, a reset token) tell the browser never to
# pass that URL on as a referrer, not even to this site's own API.
SECRET_URL_REFERRER_POLICY = "no-referrer"

# Pages answer HEAD as well as GET (uptime checks and link previews ask with HEAD); the server
# sends the headers of the GET answer without its body.
PAGE_METHODS = ["GET", "HEAD"]

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.globals.update(asset_url=asset_url, app_version=__version__)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def render_page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    referrer_policy: str | None = None,
) -> HTMLResponse:
    """Render ``templates/<template>`` with the security headers of every page."""
    response = templates.TemplateResponse(request, template, context or {}, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    if referrer_policy is not None:
        response.headers["Referrer-Policy"] = referrer_policy
    return response


def redirect(url: str) -> RedirectResponse:
    """A 303 to ``url`` that no cache keeps (where to go depends on who is asking)."""
    response = RedirectResponse(url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response
