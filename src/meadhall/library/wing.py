"""The Library's manifest: everything it brings to the house."""

from __future__ import annotations

from pathlib import Path

from meadhall.library import models, topics
from meadhall.library.albums.router import router as albums_api
from meadhall.library.assets import tasks as asset_tasks
from meadhall.library.assets.router import router as assets_api
from meadhall.library.ingest import tasks as ingest_tasks
from meadhall.library.ingest.cli import import_files
from meadhall.library.ingest.router import router as ingest_api
from meadhall.library.ingest.watch import watching_folders
from meadhall.library.pipeline import tasks as pipeline_tasks
from meadhall.library.search.router import router as search_api
from meadhall.library.settings import LibrarySettings
from meadhall.library.tags.router import router as tags_api
from meadhall.library.timeline.router import router as timeline_api
from meadhall.library.usage.router import router as usage_api
from meadhall.platform.wing import AdminSection, Command, NavEntry, Wing
from meadhall.web.library import router as pages

HERE = Path(__file__).parent

wing = Wing(
    name="library",
    label="Photos",
    icon="images",
    home="/",
    api=(tags_api, albums_api, assets_api, timeline_api, ingest_api, search_api, usage_api),
    pages=(pages,),
    models=(models,),
    tasks=(asset_tasks, ingest_tasks, pipeline_tasks),
    topics=(topics,),
    lifespans=(watching_folders,),
    commands=(Command("import", import_files),),
    settings=LibrarySettings,
    nav=(
        NavEntry(key="photos", label="Photos", href="/", icon="images"),
        NavEntry(key="search", label="Search", href="/search", icon="search"),
        NavEntry(key="albums", label="Albums", href="/albums", icon="album"),
        NavEntry(key="tags", label="Tags", href="/tags", icon="tag"),
        NavEntry(key="trash", label="Trash", href="/trash", icon="trash"),
    ),
    admin=(
        AdminSection(
            key="folders",
            title="Folders",
            icon="folder",
            template="pages/admin/folders.html",
            script="js/pages/admin_folders.js",
        ),
        AdminSection(
            key="storage",
            title="Storage",
            icon="storage",
            template="pages/admin/storage.html",
            script="js/pages/admin_storage.js",
        ),
    ),
    migrations=HERE / "migrations",
)
