"""Every HTTP route of the Library, mounted under ``/api`` by the app."""

from __future__ import annotations

from fastapi import APIRouter

from meadhall.library import topics as _topics  # noqa: F401  (registers gateway topics)

router = APIRouter()
