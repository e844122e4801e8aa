"""Imports every module that registers job kinds, so API processes and workers know them all.

Add one import line per domain's ``tasks.py``.
"""

from meadhall.library.assets import tasks as _library_assets  # noqa: F401
from meadhall.library.ingest import tasks as _library_ingest  # noqa: F401
from meadhall.library.pipeline import tasks as _library_pipeline  # noqa: F401
from meadhall.platform.accounts import tasks as _accounts  # noqa: F401
from meadhall.platform.jobs import tasks as _jobs  # noqa: F401
