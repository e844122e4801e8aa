"""The platform's own parts, declared like a wing's: every house starts with these."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from meadhall.platform.accounts import models as account_models
from meadhall.platform.accounts import tasks as account_tasks
from meadhall.platform.accounts.cli import invite_app, user_app
from meadhall.platform.accounts.router import router as accounts_api
from meadhall.platform.db.cli import db_app
from meadhall.platform.events import topics
from meadhall.platform.events.router import router as events_api
from meadhall.platform.house import House
from meadhall.platform.jobs import models as job_models
from meadhall.platform.jobs import tasks as job_tasks
from meadhall.platform.jobs.cli import jobs_app, worker
from meadhall.platform.jobs.router import router as jobs_api
from meadhall.platform.observability.router import router as observability
from meadhall.platform.serve import serve
from meadhall.platform.wing import AdminSection, Command, Wing
from meadhall.web import WEB_DIR
from meadhall.web.admin import router as admin_pages
from meadhall.web.router import router as account_pages

core = Wing(
    name="platform",
    api=(accounts_api, jobs_api, events_api),
    # /health and /metrics sit at the root beside the pages.
    pages=(observability, account_pages, admin_pages),
    models=(account_models, job_models),
    tasks=(account_tasks, job_tasks),
    topics=(topics,),
    commands=(
        Command("serve", serve),
        Command("worker", worker),
        Command("db", db_app),
        Command("jobs", jobs_app),
        Command("user", user_app),
        Command("invite", invite_app),
    ),
    admin=(
        AdminSection(
            key="users",
            title="Users",
            icon="users",
            template="pages/admin/users.html",
            script="js/pages/admin_users.js",
        ),
        AdminSection(
            key="jobs",
            title="Jobs",
            icon="jobs",
            template="pages/admin/jobs.html",
            script="js/pages/admin_jobs.js",
        ),
    ),
    migrations=Path(__file__).parent / "db" / "migrations" / "versions",
    web=WEB_DIR,
)


def house_of(wings: Sequence[Wing]) -> House:
    """The house of the platform followed by ``wings``."""
    return House((core, *wings))
