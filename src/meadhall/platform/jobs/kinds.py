"""Imports every module that registers job kinds, so API processes and workers know them all.

Add one import line per domain's ``tasks.py``.
"""

from meadhall.platform.accounts import tasks as _accounts  # noqa: F401
from meadhall.platform.jobs import tasks as _jobs  # noqa: F401
