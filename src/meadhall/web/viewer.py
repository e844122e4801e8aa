"""Who is looking at a page, whether the server has its first account, and where to go next.

Pages never answer 401: an absent, expired or revoked session simply means "nobody", and the
page decides where to send the browser (the sign-in page then renews a session it can renew).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from starlette.requests import Request

from meadhall.platform.accounts import repository as accounts_repository
from meadhall.platform.accounts.deps import optional_principal
from meadhall.platform.accounts.principal import Principal
from meadhall.platform.errors import NotAllowed, NotAuthenticated
from meadhall.platform.runtime import Runtime

MAX_NEXT_LENGTH = 2000
# Pages that must never be the target of a post-sign-in redirect (they would loop or confuse).
_NOT_NEXT = ("/login", "/onboarding", "/register", "/forgot-password", "/reset-password")


async def page_viewer(request: Request) -> Principal | None:
    """The signed-in user behind the request's cookies, or ``None`` for anyone else."""
    try:
        return await optional_principal(request)
    except (NotAuthenticated, NotAllowed):
        return None


async def is_onboarded(runtime: Runtime) -> bool:
    """Whether the first (admin) account exists yet."""
    async with runtime.db.sessionmaker() as session:
        return await accounts_repository.any_user_exists(session)


def safe_next(raw: str | None) -> str:
    """A same-site path to continue to after signing in; ``/`` for anything doubtful.

    Only plain absolute paths pass: no scheme, no host, no ``//`` or ``/\\`` (which browsers
    read as another host), no control characters.
    """
    if not raw or len(raw) > MAX_NEXT_LENGTH:
        return "/"
    if not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return "/"
    if any(ord(char) < 0x20 or ord(char) == 0x7F or char == "\\" for char in raw):
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return "/"
    if parts.path.rstrip("/") in _NOT_NEXT:
        return "/"
    return raw


def login_url(next_path: str) -> str:
    """``/login`` carrying where to return, e.g. ``/login?next=/``."""
    return "/login?next=" + quote(safe_next(next_path), safe="/")
