"""Every HTTP route of the Library, mounted under ``/api`` by the app."""

from __future__ import annotations

from fastapi import APIRouter

from meadhall.library import topics as _topics  # noqa: F401  (registers gateway topics)

router = APIRouter()

from meadhall.library.albums.router import router as _albums  # noqa: E402
from meadhall.library.tags.router import router as _tags  # noqa: E402

router.include_router(_tags)
router.include_router(_albums)

from meadhall.library.assets.router import router as _assets  # noqa: E402
from meadhall.library.timeline.router import router as _timeline  # noqa: E402

router.include_router(_assets)
router.include_router(_timeline)

from meadhall.library.ingest.router import router as _ingest  # noqa: E402

router.include_router(_ingest)

from meadhall.library.search.router import router as _search  # noqa: E402

router.include_router(_search)

from meadhall.library.usage.router import router as _usage  # noqa: E402

router.include_router(_usage)
