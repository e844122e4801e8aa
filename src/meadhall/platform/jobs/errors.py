"""What the jobs service raises."""

from __future__ import annotations

from meadhall.platform.errors import Conflict, NotFound


class UnknownJobKind(LookupError):
    """``enqueue`` was asked for a kind no module registered: a programming error."""


class JobNotFound(NotFound):
    code = "job_not_found"


class JobStateConflict(Conflict):
    """The job is not in a state that allows the requested change."""

    code = "job_state_conflict"
