"""Who is asking, as every layer sees it: the value the request dependencies produce.

Kept apart from ``deps.py`` (which needs FastAPI) so services, topic rules and jobs can name
the caller without importing the web layer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

API_KEY_PREFIX = "mhk_"

Scope = Literal["read", "write"]
ALL_SCOPES: frozenset[str] = frozenset({"read", "write"})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request or a WebSocket."""

    user_id: uuid.UUID
    is_admin: bool
    scopes: frozenset[str]
    via: Literal["token", "cookie", "api_key"]
    display_name: str = ""

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes
